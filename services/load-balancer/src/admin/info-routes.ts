// Mode, stats, info, the burst button and the autoscaler passthrough.
import { BALANCER_MODES, burstBodySchema, setModeBodySchema } from '@headroom/shared';
import type { FastifyPluginAsync } from 'fastify';
import { Agent, request } from 'undici';
import { NoAutoscalerError, UpstreamCallError } from '../errors.js';
import { quantileOf } from '../stats/traffic-stats.js';
import type { AdminContext } from './admin-context.js';
import { validate } from './validate.js';

export const infoRoutes: FastifyPluginAsync<{ ctx: AdminContext }> = async (app, { ctx }) => {
  app.get('/api/mode', async () => ({ mode: ctx.core.mode, modes: [...BALANCER_MODES] }));

  app.put('/api/mode', async (req) => {
    const { mode } = validate(setModeBodySchema, req.body, 'body');
    const from = ctx.core.mode;
    ctx.core.setMode(mode);
    if (from !== mode) req.log.info({ from, to: mode }, 'balancing mode changed');
    return { mode: ctx.core.mode, modes: [...BALANCER_MODES] };
  });

  app.get('/api/info', async () => ({
    version: ctx.version,
    authRequired: ctx.config.ADMIN_TOKEN !== undefined,
    discovery: ctx.config.DISCOVERY,
    autoscaler: ctx.config.AUTOSCALER_URL ? { url: ctx.config.AUTOSCALER_URL } : null,
    grafana: ctx.config.GRAFANA_URL
      ? { url: ctx.config.GRAFANA_URL, dashboardUid: ctx.config.GRAFANA_DASHBOARD_UID }
      : null,
  }));

  app.get('/api/stats', async () => {
    const w = ctx.stats.window();
    const names = new Map(ctx.views().map((v) => [v.id, v.name]));
    const byBackend = [...w.perBackend].map(([id, pb]) => ({
      id,
      name: names.get(id) ?? id,
      rps: pb.requests / w.seconds,
      errors: pb.errors,
      share: w.requests > 0 ? pb.requests / w.requests : 0,
      latencyMs: {
        p50: quantileOf(pb.hist, pb.requests, 0.5),
        p90: quantileOf(pb.hist, pb.requests, 0.9),
        p99: quantileOf(pb.hist, pb.requests, 0.99),
      },
    }));
    return {
      windowSeconds: w.seconds,
      rps: w.requests / w.seconds,
      errorRate: w.requests > 0 ? w.errors / w.requests : 0,
      latencyMs: {
        p50: quantileOf(w.hist, w.answered, 0.5),
        p90: quantileOf(w.hist, w.answered, 0.9),
        p99: quantileOf(w.hist, w.answered, 0.99),
      },
      totals: {
        requests: ctx.stats.totalRequests,
        errors: ctx.stats.totalErrors,
        retries: ctx.stats.totalRetries,
      },
      byBackend,
    };
  });

  app.get('/api/stats/history', async () => ({ points: ctx.stats.history() }));

  app.post('/api/burst', async (req) => {
    const { requests, concurrency, ms } = validate(burstBodySchema, req.body ?? {}, 'body');
    const agent = new Agent({ connections: concurrency });
    const byBackend: Record<string, number> = {};
    let next = 0;
    let ok = 0;
    let failed = 0;
    const started = performance.now();
    const worker = async () => {
      while (next < requests) {
        next++;
        try {
          const res = await request(`${ctx.proxyUrl()}/load?ms=${ms}`, {
            dispatcher: agent,
            headersTimeout: 30_000,
          });
          await res.body.dump();
          const instance = res.headers['x-backend-instance'];
          if (typeof instance === 'string') byBackend[instance] = (byBackend[instance] ?? 0) + 1;
          if (res.statusCode < 400) ok++;
          else failed++;
        } catch {
          failed++;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    await agent.close();
    return { sent: requests, ok, failed, durationMs: Math.round(performance.now() - started), byBackend };
  });

  const autoscaler = async (path: string) => {
    const base = ctx.config.AUTOSCALER_URL;
    if (!base) throw new NoAutoscalerError();
    try {
      const res = await request(`${base}${path}`, { headersTimeout: 3000, bodyTimeout: 3000 });
      return { status: res.statusCode, body: await res.body.text() };
    } catch (err) {
      throw new UpstreamCallError(`autoscaler at ${base} unreachable: ${(err as Error).message}`);
    }
  };
  app.get('/api/autoscaler/status', async (_req, reply) => {
    const r = await autoscaler('/api/status');
    return reply.status(r.status).type('application/json').send(r.body);
  });
  app.get('/api/autoscaler/decisions', async (_req, reply) => {
    const r = await autoscaler('/api/decisions');
    return reply.status(r.status).type('application/json').send(r.body);
  });
};
