// zod → a 400 LB_ERR_VALIDATION that names each bad field.
import type { z } from 'zod';
import { ValidationError } from '../errors.js';

export function validate<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((i) => ({ field: i.path.join('.') || what, message: i.message }));
  const err = new ValidationError(
    `invalid ${what}: ${details.map((d) => `${d.field}: ${d.message}`).join('; ')}`,
  ) as Error & {
    details?: unknown;
  };
  err.details = details;
  throw err;
}
