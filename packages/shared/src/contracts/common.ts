import { z } from 'zod';

/** Body of every 4xx/5xx the Headroom APIs answer (fastify's error shape plus details). */
export const apiErrorSchema = z.object({
  statusCode: z.number().int(),
  code: z.string(),
  error: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
});
export type ApiError = z.infer<typeof apiErrorSchema>;

export interface FieldIssue {
  field: string;
  message: string;
}

/** zod issues → `details` of a 400, and its one-line message, naming each bad field. */
export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  what: string,
): { message: string; details: FieldIssue[] } {
  const details = issues.map((i) => ({ field: i.path.join('.') || what, message: i.message }));
  return {
    message: `invalid ${what}: ${details.map((d) => `${d.field}: ${d.message}`).join('; ')}`,
    details,
  };
}

/**
 * The one zod → 400 helper of every service: the parsed value, or the service's own 400 error
 * (from its catalogue) thrown with the one-line message and the issues as `details`.
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  BadRequest: new (message: string) => Error,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const { message, details } = describeIssues(result.error.issues, what);
  throw Object.assign(new BadRequest(message), { details });
}

/** parseOrThrow bound to one service's 400 error. */
export function parserFor(BadRequest: new (message: string) => Error) {
  return <S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> =>
    parseOrThrow(schema, value, what, BadRequest);
}
