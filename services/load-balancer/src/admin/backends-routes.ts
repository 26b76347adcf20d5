// /api/backends: list, register, remove (drain first), drain/undrain, weight, CPU toggle.
import {
  addBackendBodySchema,
  backendsQuerySchema,
  cpuToggleBodySchema,
  drainWaitQuerySchema,
  serviceStateBodySchema,
  setWeightBodySchema,
} from '@headroom/shared';
import type { FastifyPluginAsync } from 'fastify';
import { request } from 'undici';
import { NotRemovableError, UnknownBackendError, UpstreamCallError } from '../errors.js';
import { DEFAULT_SERVICE_NAME } from '../services/service-registry.js';
import type { AdminContext } from './admin-context.js';
import { validate } from './validate.js';

/** How often a drain wait looks at the in-flight count (in process: no request each time). */
const DRAIN_WAIT_POLL_MS = 25;

export const backendsRoutes: FastifyPluginAsync<{ ctx: AdminContext }> = async (app, { ctx }) => {
  const known = (id: string) => {
    const spec = ctx.spec(id);
    if (!spec) throw new UnknownBackendError(id);
    return spec;
  };
  const view = (id: string) => ctx.views().find((v) => v.id === id);

  // ?service=<name>: that service's backends and sleep state (an autoscaler scaling one service
  // asks for its own); without: every backend, the default service's state and every service's
  // (an autoscaler of several labelled services reads each one's sleep view from one call)
  app.get('/api/backends', async (req) => {
    const { service: name } = validate(backendsQuerySchema, req.query ?? {}, 'query');
    const engines = ctx.engines?.();
    const unit = name === undefined ? undefined : ctx.services?.byName(name);
    const key = unit?.key ?? (name === DEFAULT_SERVICE_NAME ? '' : name);
    const service = name === undefined ? ctx.service?.view() : unit?.hold.view();
    // the service queue (issue #26): the autoscaler counts what waits as demand
    const queue = name === undefined ? ctx.queue?.view() : unit?.queue.view();
    const services = name === undefined ? ctx.services?.units().map((u) => u.hold.view()) : undefined;
    return {
      mode: unit?.core.mode ?? ctx.core.mode,
      backends: key === undefined ? ctx.views() : ctx.views().filter((v) => v.service === key),
      ...(engines ? { engines } : {}),
      ...(service ? { service } : {}),
      ...(queue ? { queue } : {}),
      ...(services ? { services } : {}),
    };
  });

  // scale to zero: the autoscaler announces a sleep before it drains the last replicas (so
  // requests arriving meanwhile are held, not failed), or `awake` when it aborts one
  app.put('/api/service/state', async (req) => {
    const body = validate(serviceStateBodySchema, req.body, 'body');
    // a named service the balancer has not seen yet gets its unit now: the sleep is kept for it
    const named =
      body.service === undefined || !ctx.services
        ? undefined
        : ctx.services.announced(
            ctx.services.byName(body.service)?.key ??
              (body.service === DEFAULT_SERVICE_NAME ? '' : body.service),
          );
    const service = named?.hold ?? ctx.service;
    if (!service) throw new Error('no service state in this balancer');
    service.event(
      body.state === 'sleeping'
        ? { kind: 'announce-sleep', detail: body.reason }
        : { kind: 'announce-awake', detail: body.reason },
    );
    return service.view();
  });

  app.get<{ Params: { id: string } }>('/api/backends/:id', async (req) => {
    known(req.params.id);
    return view(req.params.id);
  });

  app.post('/api/backends', async (req, reply) => {
    const body = validate(addBackendBodySchema, req.body, 'body');
    const spec = ctx.register(body);
    req.log.info({ backend: spec.id, url: spec.url }, 'backend registered');
    return reply.status(201).send(view(spec.id));
  });

  app.delete<{ Params: { id: string } }>('/api/backends/:id', async (req, reply) => {
    const spec = known(req.params.id);
    const result = ctx.remove(spec.id);
    if (result === 'not-removable') throw new NotRemovableError(spec.id, spec.source);
    req.log.info({ backend: spec.id }, 'backend draining for removal');
    return reply.status(202).send({ id: spec.id, state: 'draining', inFlight: ctx.core.inFlight(spec.id) });
  });

  // drain, undrain and weight: the core reports each change as a transition (log line,
  // counter, event), so the routes do not log them a second time
  app.post<{ Params: { id: string } }>('/api/backends/:id/drain', async (req, reply) => {
    const spec = known(req.params.id);
    ctx.core.setDraining(spec.id, true, Date.now());
    return reply.status(202).send(view(spec.id));
  });

  // Waits (long poll) until a draining backend has nothing in flight, or has left, or
  // `timeoutMs` passed: one call per drain instead of one poll every 100 ms, so a long
  // drain never runs into the admin rate limit (the autoscaler's DrainClient uses it).
  app.get<{ Params: { id: string } }>('/api/backends/:id/drained', async (req) => {
    const id = req.params.id;
    known(id);
    const { timeoutMs } = validate(drainWaitQuerySchema, req.query ?? {}, 'query');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const present = ctx.spec(id) !== undefined;
      const inFlight = present ? ctx.core.inFlight(id) : 0;
      if (!present || inFlight === 0 || Date.now() >= deadline || ctx.shuttingDown())
        return { id, drained: inFlight === 0, inFlight, present };
      await new Promise((r) => setTimeout(r, DRAIN_WAIT_POLL_MS));
    }
  });

  app.post<{ Params: { id: string } }>('/api/backends/:id/undrain', async (req) => {
    const spec = known(req.params.id);
    ctx.core.setDraining(spec.id, false, Date.now());
    return view(spec.id);
  });

  app.put<{ Params: { id: string } }>('/api/backends/:id/weight', async (req) => {
    const spec = known(req.params.id);
    const { weight } = validate(setWeightBodySchema, req.body, 'body');
    ctx.core.setWeight(spec.id, weight, Date.now());
    return view(spec.id);
  });

  app.get<{ Querystring: { since?: string } }>('/api/events', async (req) => {
    const since = Number(req.query.since ?? 0);
    return { events: ctx.events.list(Number.isFinite(since) ? since : 0) };
  });

  // The backend's CPU burner, through the balancer (the dashboard cannot reach backends):
  // GET reads its state (so a reloaded dashboard shows it), POST toggles it.
  const forwardCpu = async (id: string, method: 'GET' | 'POST', body?: unknown) => {
    const spec = known(id);
    const path = method === 'GET' ? '/cpu' : '/cpu/toggle';
    try {
      const res = await request(`${spec.url}${path}`, {
        method,
        ...(body === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
        headersTimeout: 5000,
        bodyTimeout: 5000,
      });
      return { status: res.statusCode, text: await res.body.text() };
    } catch (err) {
      throw new UpstreamCallError(`backend ${spec.id} did not answer ${path}: ${(err as Error).message}`);
    }
  };

  app.get<{ Params: { id: string } }>('/api/backends/:id/cpu', async (req, reply) => {
    const { status, text } = await forwardCpu(req.params.id, 'GET');
    return reply.status(status).type('application/json').send(text);
  });

  app.post<{ Params: { id: string } }>('/api/backends/:id/cpu/toggle', async (req, reply) => {
    known(req.params.id);
    const body = validate(cpuToggleBodySchema, req.body ?? {}, 'body');
    const { status, text } = await forwardCpu(req.params.id, 'POST', body);
    return reply.status(status).type('application/json').send(text);
  });
};
