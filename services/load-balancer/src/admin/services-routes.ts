// /api/services: every service (one per lb.service value) with its routes, mode, sleep state
// and backends; PUT /api/services/:name/mode switches one service's mode.
import { BALANCER_MODES, type ServiceSummary, setModeBodySchema } from '@headroom/shared';
import type { FastifyPluginAsync } from 'fastify';
import { UnknownServiceError } from '../errors.js';
import { displayName, type ServiceRegistry } from '../services/service-registry.js';
import type { AdminContext } from './admin-context.js';
import { validate } from './validate.js';

export function serviceSummaries(services: ServiceRegistry, now: number): ServiceSummary[] {
  return services.units().map((u) => ({
    name: displayName(u.key),
    routes: services.routesOf(u.key).map((r) => ({ host: r.host, path: r.path, strip: r.strip })),
    mode: u.core.mode,
    state: u.hold.state,
    backends: services.backendCount(u.key),
    healthy: u.core.runtime(now).filter((r) => r.state === 'healthy').length,
    queue: u.queue.view(),
  }));
}

export const servicesRoutes: FastifyPluginAsync<{ ctx: AdminContext }> = async (app, { ctx }) => {
  const services = ctx.services;
  if (!services) return;
  const known = (name: string) => {
    const unit = services.byName(name);
    if (!unit) throw new UnknownServiceError(name);
    return unit;
  };

  app.get('/api/services', async () => ({ services: serviceSummaries(services, Date.now()) }));

  app.put<{ Params: { name: string } }>('/api/services/:name/mode', async (req) => {
    const unit = known(req.params.name);
    const { mode } = validate(setModeBodySchema, req.body, 'body');
    const from = unit.core.mode;
    unit.core.setMode(mode);
    if (from !== mode)
      req.log.info(
        { service: displayName(unit.key), from, to: mode },
        'balancing mode changed for a service',
      );
    return { mode, modes: [...BALANCER_MODES] };
  });
};
