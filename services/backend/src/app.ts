// Builds the stress backend's Fastify instance (listen in main.ts, or inject in tests).
import type { BackendConfig, Logger } from '@headroom/shared';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  LogController,
} from 'fastify';
import { BACKEND_ERROR_CODES, METHOD_NOT_ALLOWED_CODE } from './errors.js';
import type { ResourceLimits } from './resource-limits.js';
import { cpuRoutes } from './routes/cpu.js';
import { healthRoutes } from './routes/health.js';
import { identityRoutes } from './routes/identity.js';
import { loadRoutes } from './routes/load.js';
import { memoryRoutes } from './routes/memory.js';
import {
  allowedMethods,
  curlHint,
  publicBase,
  type RouteMethods,
  recordRoute,
} from './routes/method-not-allowed.js';
import { metricsRoutes } from './routes/metrics.js';
import { createTelemetry } from './telemetry.js';
import { CpuBurner } from './work/cpu-burner.js';
import { MemoryHold } from './work/memory-hold.js';

export interface BackendContext {
  instance: string;
  hostname: string;
  version: string;
  limits: ResourceLimits;
  burner: CpuBurner;
  memory: MemoryHold;
  telemetry: ReturnType<typeof createTelemetry>;
  /** Set once SIGTERM arrived: /health answers 503. */
  shuttingDown: boolean;
}

export interface BuiltApp {
  app: FastifyInstance;
  ctx: BackendContext;
}

export function buildApp(
  config: BackendConfig,
  logger: Logger,
  info: { instance: string; hostname: string; version: string; limits: ResourceLimits },
): BuiltApp {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // per-request logs are noise for a load target; errors are still logged
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: 'idle',
    bodyLimit: 64 * 1024,
  });
  const maxCores = config.CPU_BURNER_MAX_CORES ?? Math.max(1, Math.ceil(info.limits.cpuCores));
  const ctx: BackendContext = {
    ...info,
    burner: new CpuBurner(maxCores),
    memory: new MemoryHold(config.MEMORY_CAP_MB),
    telemetry: createTelemetry(info.limits, info.instance),
    shuttingDown: false,
  };

  const routes: RouteMethods = new Map();
  app.addHook('onRoute', (route) => recordRoute(routes, route.url, route.method));

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('x-backend-instance', ctx.instance);
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    ctx.telemetry.requests.inc({ route, method: req.method, status: String(reply.statusCode) });
  });
  app.setErrorHandler((err: FastifyError, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) logger.error({ err }, 'request failed');
    const code =
      err.code === 'FST_ERR_VALIDATION'
        ? BACKEND_ERROR_CODES.validation
        : (err.code ?? BACKEND_ERROR_CODES.internal);
    const details = (err as FastifyError & { details?: unknown }).details ?? err.validation;
    void reply.status(status).send({
      statusCode: status,
      code,
      error: status >= 500 ? 'Internal Server Error' : 'Bad Request',
      message: err.message,
      ...(details === undefined ? {} : { details }),
    });
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? req.url;
    const allowed = allowedMethods(routes, path);
    if (allowed) {
      const hint = curlHint(allowed, `${publicBase(req.headers, req.host)}${req.url}`);
      void reply
        .status(405)
        .header('allow', allowed.join(', '))
        .send({
          statusCode: 405,
          code: METHOD_NOT_ALLOWED_CODE,
          error: 'Method Not Allowed',
          message: `${path} answers ${allowed.join(', ')}, not ${req.method}`,
          hint,
        });
      return;
    }
    void reply.status(404).send({
      statusCode: 404,
      code: BACKEND_ERROR_CODES.notFound,
      error: 'Not Found',
      message: `no route ${req.method} ${req.url.split('?')[0]}`,
    });
  });

  app.register(identityRoutes, { ctx });
  app.register(loadRoutes, { ctx });
  app.register(cpuRoutes, { ctx });
  app.register(memoryRoutes, { ctx });
  app.register(healthRoutes, { ctx });
  app.register(metricsRoutes, { ctx });
  return { app, ctx };
}
