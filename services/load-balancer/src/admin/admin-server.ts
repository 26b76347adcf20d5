// The admin port: API, /metrics, /healthz and the dashboard. Fastify plugins per area;
// auth and rate limiting apply to the API.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  LogController,
} from 'fastify';
import { ADMIN_ERRORS, UnauthorizedError } from '../errors.js';
import { needsToken, tokenMatches } from './admin-auth.js';
import type { AdminContext } from './admin-context.js';
import { backendsRoutes } from './backends-routes.js';
import { infoRoutes } from './info-routes.js';
import { servicesRoutes } from './services-routes.js';

const DEFAULT_DASHBOARD = fileURLToPath(new URL('../../../../apps/dashboard/dist', import.meta.url));

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  502: 'Bad Gateway',
};

export async function createAdminServer(ctx: AdminContext): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.logger.child({ component: 'admin' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    forceCloseConnections: true,
  });

  app.setErrorHandler((err: FastifyError & { details?: unknown }, req, reply) => {
    let status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    let code: string = err.code ?? ADMIN_ERRORS.internal;
    if (
      code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
      code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
      err instanceof SyntaxError
    ) {
      status = 400;
      code = ADMIN_ERRORS.invalidJson;
    } else if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') code = ADMIN_ERRORS.bodyTooLarge;
    else if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') code = ADMIN_ERRORS.unsupportedMediaType;
    else if (status === 429) code = ADMIN_ERRORS.rateLimited;
    if (status >= 500) req.log.error({ err }, 'admin call failed');
    void reply.status(status).send({
      statusCode: status,
      code,
      error: STATUS_TEXT[status] ?? 'Internal Server Error',
      message: err.message,
      ...(err.details === undefined ? {} : { details: err.details }),
    });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({
      statusCode: 404,
      code: ADMIN_ERRORS.notFound,
      error: 'Not Found',
      message: `no route ${req.method} ${req.url.split('?')[0]}`,
    });
  });

  app.get('/healthz', async (_req, reply) =>
    ctx.shuttingDown() ? reply.status(503).send({ status: 'shutting-down' }) : { status: 'ok' },
  );
  const token = ctx.config.ADMIN_TOKEN;
  const reads = ctx.config.ADMIN_READS_NEED_TOKEN;
  const guard = async (req: {
    method: string;
    url: string;
    headers: { authorization?: string | undefined };
  }) => {
    if (
      token !== undefined &&
      needsToken(req.method, req.url, reads) &&
      !tokenMatches(req.headers.authorization, token)
    )
      throw new UnauthorizedError();
  };
  app.get('/metrics', { onRequest: guard }, async (_req, reply) =>
    reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics()),
  );

  await app.register(async (api) => {
    await api.register(rateLimit, { max: ctx.config.ADMIN_RATE_LIMIT, timeWindow: 60_000 });
    if (token !== undefined) api.addHook('onRequest', guard);
    await api.register(backendsRoutes, { ctx });
    await api.register(infoRoutes, { ctx });
    await api.register(servicesRoutes, { ctx });
  });

  const dashboard = ctx.config.DASHBOARD_DIR ?? DEFAULT_DASHBOARD;
  if (existsSync(`${dashboard}/index.html`)) {
    await app.register(fastifyStatic, { root: dashboard, prefix: '/', wildcard: false, index: 'index.html' });
  } else {
    app.get('/', async (_req, reply) =>
      reply
        .type('text/html')
        .send(
          `<!doctype html><title>Headroom</title><p>The dashboard is not built. Run <code>pnpm --filter @headroom/dashboard build</code> (or set DASHBOARD_DIR). The admin API is at <a href="/api/backends">/api/backends</a>.</p>`,
        ),
    );
  }
  return app;
}
