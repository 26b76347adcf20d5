// zod → a 400 LB_ERR_VALIDATION that names each bad field.
import { describeIssues } from '@headroom/shared';
import type { z } from 'zod';
import { ValidationError } from '../errors.js';

export function validate<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const { message, details } = describeIssues(result.error.issues, what);
  throw Object.assign(new ValidationError(message), { details });
}
