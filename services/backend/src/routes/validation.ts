// zod → 400 with the issues as details, naming each bad field.
import { describeIssues } from '@headroom/shared';
import type { z } from 'zod';
import { BadRequestError } from '../errors.js';

export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const { message, details } = describeIssues(result.error.issues, what);
  throw Object.assign(new BadRequestError(message), { details });
}
