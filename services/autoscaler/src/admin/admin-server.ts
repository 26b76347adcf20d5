// The admin API on ADMIN_PORT: status, decisions, pause/resume (token-protected when
// ADMIN_TOKEN is set), /healthz and /metrics. Errors answer {statusCode, code, error, message, details}.
import { timingSafeEqual } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import rateLimit from '@fastify/rate-limit';
import { type Logger, parserFor, wakeBodySchema } from '@headroom/shared';
import Fastify, { type FastifyError, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { DecisionLog } from '../decision-log.js';
import { AS_ERR_BAD_REQUEST, AS_ERR_NOT_FOUND, AS_ERR_UNAUTHORIZED, AS_ERROR_CODES } from '../errors.js';

/** zod → 400 AS_ERR_BAD_REQUEST naming each bad field (the shared helper). */
const badRequestUnless = parserFor(AS_ERR_BAD_REQUEST);

import type { ScalingLoop } from '../loop.js';
import type { AutoscalerMetrics } from './metrics.js';

export interface AdminOptions {
  loop: ScalingLoop;
  log: DecisionLog;
  metrics: AutoscalerMetrics;
  token?: string | undefined;
  logger: Logger;
  /** Requests per minute per client; admin APIs are not for bulk traffic. */
  rateLimitPerMinute?: number;
}

const decisionsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    /** Only this service's decisions. */
    service: z.string().min(1).max(200).optional(),
  })
  .strict();

export function tokenMatches(expected: string, header: string | undefined): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length));
  const want = Buffer.from(expected);
  // Compare equal-length buffers so the time taken does not reveal the token's length or prefix.
  const same = given.length === want.length;
  return timingSafeEqual(same ? given : want, want) && same;
}

export async function buildAdminServer(o: AdminOptions) {
  // Per-request lines are debug detail: at the default level the admin API logs only problems.
  const adminLogger = o.logger.child({ area: 'admin' });
  if (adminLogger.levelVal >= 30) adminLogger.level = 'warn';
  const app = Fastify({ loggerInstance: adminLogger, bodyLimit: 16 * 1024 });

  await app.register(rateLimit, { max: o.rateLimitPerMinute ?? 600, timeWindow: '1 minute' });

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    const statusCode = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (statusCode >= 500) o.logger.error({ err }, 'admin request failed');
    const details = (err as { details?: unknown }).details;
    void reply.status(statusCode).send({
      statusCode,
      code: err.code ?? (statusCode === 429 ? AS_ERROR_CODES.rateLimited : AS_ERROR_CODES.internal),
      error: STATUS_CODES[statusCode] ?? 'Error',
      message: err.message,
      ...(details === undefined ? {} : { details }),
    });
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new AS_ERR_NOT_FOUND(`${req.method} ${req.url}`);
    void reply.status(404).send({ statusCode: 404, code: e.code, error: 'Not Found', message: e.message });
  });

  const requireToken = async (req: FastifyRequest) => {
    if (o.token !== undefined && !tokenMatches(o.token, req.headers.authorization))
      throw new AS_ERR_UNAUTHORIZED();
  };

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/api/status', async () => o.loop.status());
  app.get('/api/decisions', async (req) => {
    const q = badRequestUnless(decisionsQuery, req.query, 'query');
    return { decisions: o.log.recent(q.limit, q.service) };
  });
  app.post('/api/pause', { preHandler: requireToken }, async () => {
    o.loop.pause();
    return o.loop.status();
  });
  app.post('/api/resume', { preHandler: requireToken }, async () => {
    o.loop.resume();
    return o.loop.status();
  });
  app.post('/api/wake', { preHandler: requireToken }, async (req) => {
    const body = badRequestUnless(wakeBodySchema, req.body ?? {}, 'body');
    return o.loop.wake(body.held, body.service);
  });
  app.get('/metrics', async (_req, reply) => {
    void reply.header('content-type', o.metrics.contentType);
    return o.metrics.text();
  });
  return app;
}
