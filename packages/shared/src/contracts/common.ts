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
