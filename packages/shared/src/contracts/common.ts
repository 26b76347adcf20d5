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
