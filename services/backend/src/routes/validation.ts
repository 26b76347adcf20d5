// zod → 400 with the issues as details, naming each bad field.
import type { z } from 'zod';
import { BadRequestError } from '../errors.js';

export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((i) => ({ field: i.path.join('.') || what, message: i.message }));
  const err = new BadRequestError(
    `invalid ${what}: ${details.map((d) => `${d.field}: ${d.message}`).join('; ')}`,
  ) as Error & { details?: unknown };
  err.details = details;
  throw err;
}
