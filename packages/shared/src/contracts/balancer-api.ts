// Contracts of the load balancer's admin API (ADMIN_PORT). The server validates with
// these; the dashboard parses responses with them.
import { z } from 'zod';
import { hostRuleError } from '../labels.js';

export const BALANCER_MODES = ['resource-aware', 'least-connections', 'round-robin', 'latency'] as const;
export const balancerModeSchema = z.enum(BALANCER_MODES);
export type BalancerMode = z.infer<typeof balancerModeSchema>;

export const BACKEND_STATES = ['healthy', 'unhealthy', 'draining'] as const;
export const backendStateSchema = z.enum(BACKEND_STATES);
export type BackendState = z.infer<typeof backendStateSchema>;

export const stickySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }),
  z.object({ kind: z.literal('cookie'), cookie: z.string() }),
  z.object({ kind: z.literal('header'), header: z.string() }),
]);

export const backendViewSchema = z.object({
  id: z.string(),
  url: z.string(),
  name: z.string(),
  service: z.string(),
  source: z.enum(['docker', 'swarm', 'static']),
  state: backendStateSchema,
  /** Why it is unhealthy or draining, for people. */
  stateReason: z.string().nullable(),
  inFlight: z.number().int().nonnegative(),
  requests: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  /** Requests per second over the last few seconds. */
  rps: z.number().nonnegative(),
  /** CPU use 0..1 of the backend's limit; null when unknown. */
  cpu: z.number().nullable(),
  /** Memory use 0..1 of the backend's limit; null when unknown. */
  mem: z.number().nullable(),
  /** Headroom score 0..1 (higher is better); null when no fresh metrics. */
  score: z.number().nullable(),
  /** Age of the last CPU/memory sample in ms; null when none yet. */
  metricsAgeMs: z.number().nullable(),
  /** Peak-EWMA latency estimate in ms; null before the first response. */
  latencyMs: z.number().nullable(),
  weight: z.number().positive(),
  /**
   * The weight the mode applies now: after slow start; in resource-aware mode the inverse of
   * its cost per request relative to the cheapest backend (shares follow these ratios).
   */
  effectiveWeight: z.number().nonnegative(),
  /** Estimated per-request service time in ms (latency ÷ requests it queued behind); null before any answer. */
  serviceMs: z.number().nullable().optional(),
  /** Resource-aware cost multiplier from the headroom score (1 = none); null without fresh metrics. */
  pressure: z.number().nullable().optional(),
  /** What resource-aware mode steers this backend by now; without fresh metrics: in-flight and latency only. */
  signals: z.array(z.enum(['in-flight', 'latency', 'capacity', 'headroom'])).optional(),
  /** Requests it may hold at once now (issue #26): `lb.maxconn`, else the adaptive limit. */
  limit: z.number().int().positive().optional(),
  limitSource: z.enum(['adaptive', 'static']).optional(),
  sticky: stickySchema,
  /** Swarm discovery: the node the task runs on (its hostname, else its id); absent otherwise. */
  node: z.string().optional(),
});
export type BackendView = z.infer<typeof backendViewSchema>;

/** One Docker engine of DOCKER_HOSTS as the balancer's discovery sees it. */
export const discoveryEngineSchema = z.object({
  /** As configured: unix:///path or tcp://host:port. */
  engine: z.string(),
  reachable: z.boolean(),
  /** Backends discovered on it (the last known ones while it is unreachable: health checks decide). */
  backends: z.number().int().nonnegative(),
  /** Why it is unreachable, while it is. */
  error: z.string().optional(),
  /** Since when it is in its current reachable state (ISO time). */
  since: z.string(),
});
export type DiscoveryEngine = z.infer<typeof discoveryEngineSchema>;

/**
 * The service's one queue (issue #26): requests waiting for a backend with room under its
 * limit, and requests held while the service sleeps or wakes (scale to zero: the same queue).
 * The autoscaler counts `depth` as demand: a service with requests waiting scales out even
 * while its CPU reading lags.
 */
export const queueViewSchema = z.object({
  /** Requests waiting now, held ones included. */
  depth: z.number().int().nonnegative(),
  /**
   * The held part of `depth` (the service's `held`). Absent from a balancer from before the
   * hold was the same queue, whose `depth` did not count held requests.
   */
  held: z.number().int().nonnegative().optional(),
  /** QUEUE_TIMEOUT_MS and QUEUE_MAX in force. */
  timeoutMs: z.number().int().positive(),
  max: z.number().int().positive(),
  /** Requests shed since start, by reason (full, predicted-wait, timeout, hold-timeout, client-gone, shutdown, waiting-page). */
  shed: z.record(z.string(), z.number().int().nonnegative()),
});
export type QueueView = z.infer<typeof queueViewSchema>;

/**
 * Scale to zero (issue #19): the balanced service's state. `awake`: it has replicas (healthy
 * or not). `sleeping`: it was put to sleep (stopped containers with lb labels, a Swarm service
 * at 0 replicas, or the autoscaler said so with PUT /api/service/state) and has none.
 * `waking`: a held request asked the autoscaler to wake it and no replica has passed a health
 * check yet.
 */
export const SERVICE_STATES = ['awake', 'waking', 'sleeping'] as const;
export const serviceStateSchema = z.enum(SERVICE_STATES);
export type ServiceState = z.infer<typeof serviceStateSchema>;

export const serviceViewSchema = z.object({
  /** LB_SERVICE, else the lb.service of the backends, else "default". */
  name: z.string(),
  state: serviceStateSchema,
  /** Since when it is in this state (ISO time). */
  since: z.string(),
  /** Requests held now, waiting for a replica (0 unless waking/sleeping). */
  held: z.number().int().nonnegative(),
  /**
   * When the proxy last received a request for it (ms since epoch); null: none since start.
   * While a WebSocket session is open: now (an open session is traffic).
   */
  lastRequestAt: z.number().nullable(),
  /** WebSocket (Upgrade) sessions open now. */
  openSessions: z.number().int().nonnegative().optional(),
  /** The idle window from the `lb.idle.after` label, when the replicas carry one (ms). */
  idleAfterMs: z.number().int().positive().nullable(),
});
export type ServiceView = z.infer<typeof serviceViewSchema>;

/**
 * PUT /api/service/state: the autoscaler announces a sleep before it drains the last replica
 * (so requests arriving during that drain are held, not failed), and `awake` if it aborts.
 */
export const serviceStateBodySchema = z
  .object({
    state: z.enum(['sleeping', 'awake']),
    reason: z.string().max(500).optional(),
    /**
     * The service the autoscaler means (it scales many, issue #25). A balancer with one service
     * may ignore it: the autoscaler only sleeps a service the balancer gave it a view of.
     */
    service: z.string().min(1).max(200).optional(),
  })
  .strict();
export type ServiceStateBody = z.infer<typeof serviceStateBodySchema>;

export const backendListSchema = z.object({
  mode: balancerModeSchema,
  backends: z.array(backendViewSchema),
  /** With DOCKER_HOSTS: every engine and whether discovery reaches it. */
  engines: z.array(discoveryEngineSchema).optional(),
  /** The balanced service's scale-to-zero state and traffic recency. */
  service: serviceViewSchema.optional(),
  /**
   * With several services (issue #24): each one's view, by `name`. The autoscaler reads a
   * service's sleep view here first, then `service` when it names that service.
   */
  services: z.array(serviceViewSchema).optional(),
  /** The service queue: what waits for a backend (the autoscaler's queued demand). */
  queue: queueViewSchema.optional(),
});
export type BackendList = z.infer<typeof backendListSchema>;

/** One route of the route table, as GET /api/services shows it. */
export const routeViewSchema = z.object({
  /** '' = any host; `*.example.com` = one label under it. */
  host: z.string(),
  path: z.string(),
  strip: z.boolean(),
});
export type RouteView = z.infer<typeof routeViewSchema>;

/** GET /api/services: every service with its routes, mode, sleep state and backends. */
export const serviceSummarySchema = z.object({
  /** lb.service value; "default" for unlabelled backends. */
  name: z.string(),
  routes: z.array(routeViewSchema),
  mode: balancerModeSchema,
  /** Scale to zero: awake, waking or sleeping. */
  state: serviceStateSchema,
  backends: z.number().int().nonnegative(),
  healthy: z.number().int().nonnegative(),
  /** Its service queue (issue #26): what waits for a backend under its limit (queued demand). */
  queue: queueViewSchema.optional(),
});
export type ServiceSummary = z.infer<typeof serviceSummarySchema>;
export const serviceListSchema = z.object({ services: z.array(serviceSummarySchema) });
export type ServiceList = z.infer<typeof serviceListSchema>;
/** GET /api/backends?service=: only that service's backends. */
export const backendsQuerySchema = z.object({ service: z.string().min(1).max(200).optional() }).strict();

export const modeResponseSchema = z.object({ mode: balancerModeSchema, modes: z.array(balancerModeSchema) });
export const setModeBodySchema = z.object({ mode: balancerModeSchema }).strict();

/** A service's routes: host names (`*.example.com` allowed) and a path prefix, as the labels say them. */
export const routeLabelsSchema = z
  .object({
    hosts: z
      .array(
        z
          .string()
          .max(253)
          .superRefine((h, ctx) => {
            const err = hostRuleError(h);
            if (err) ctx.addIssue({ code: 'custom', message: err });
          }),
      )
      .max(100)
      .default([]),
    path: z
      .string()
      .max(2000)
      .regex(/^\/[\x21-\x7e]*$/, 'a path prefix: starts with "/", ASCII, no spaces')
      .refine((p) => !/[?#]/.test(p), 'no "?" or "#" in a path prefix')
      .optional(),
    strip: z.boolean().default(false),
  })
  .strict()
  .refine((r) => !r.strip || r.path !== undefined, { message: 'strip: true needs a path', path: ['strip'] });

export const addBackendBodySchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    name: z.string().min(1).max(200).optional(),
    service: z.string().min(1).max(200).optional(),
    weight: z.number().positive().max(1_000_000).optional(),
    healthPath: z.string().startsWith('/').max(2000).optional(),
    /** The routes of its service, as the lb.host / lb.path / lb.path.strip labels. */
    routes: routeLabelsSchema.optional(),
  })
  .strict();
export type AddBackendBody = z.infer<typeof addBackendBodySchema>;

export const setWeightBodySchema = z.object({ weight: z.number().positive().max(1_000_000) }).strict();

/** Body forwarded to a backend's POST /cpu/toggle. */
export const cpuToggleBodySchema = z
  .object({
    on: z.boolean().optional(),
    cores: z.number().int().min(1).max(1024).optional(),
    duty: z.number().gt(0).max(1).optional(),
  })
  .strict();
export type CpuToggleBody = z.infer<typeof cpuToggleBodySchema>;

const latencySchema = z.object({
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  p99: z.number().nullable(),
});

export const backendStatsSchema = z.object({
  id: z.string(),
  name: z.string(),
  rps: z.number(),
  errors: z.number(),
  share: z.number(),
  latencyMs: latencySchema,
});

/** GET /api/stats: the last few seconds. */
export const statsSchema = z.object({
  windowSeconds: z.number(),
  rps: z.number(),
  errorRate: z.number(),
  latencyMs: latencySchema,
  totals: z.object({ requests: z.number(), errors: z.number(), retries: z.number() }),
  byBackend: z.array(backendStatsSchema),
});
export type Stats = z.infer<typeof statsSchema>;

/** One per-second point of GET /api/stats/history. */
export const historyPointSchema = z.object({
  t: z.number(),
  rps: z.number(),
  errors: z.number(),
  p50: z.number().nullable(),
  p99: z.number().nullable(),
  mode: balancerModeSchema,
  backends: z.record(
    z.string(),
    z.object({
      name: z.string(),
      rps: z.number(),
      share: z.number(),
      cpu: z.number().nullable(),
      effectiveWeight: z.number(),
    }),
  ),
});
export const historySchema = z.object({ points: z.array(historyPointSchema) });
export type HistoryPoint = z.infer<typeof historyPointSchema>;

/** GET /api/info: what the dashboard needs to know about this balancer. */
export const balancerInfoSchema = z.object({
  version: z.string(),
  authRequired: z.boolean(),
  discovery: z.string(),
  autoscaler: z.object({ url: z.string() }).nullable(),
  grafana: z.object({ url: z.string(), dashboardUid: z.string() }).nullable(),
});
export type BalancerInfo = z.infer<typeof balancerInfoSchema>;

/** POST /api/burst: the balancer sends a short burst of /load through its own proxy. */
export const burstBodySchema = z
  .object({
    requests: z.number().int().min(1).max(2000).default(200),
    concurrency: z.number().int().min(1).max(64).default(8),
    ms: z.number().int().min(1).max(2000).default(20),
  })
  .strict();
export const burstResultSchema = z.object({
  sent: z.number().int(),
  ok: z.number().int(),
  failed: z.number().int(),
  durationMs: z.number(),
  byBackend: z.record(z.string(), z.number().int()),
});

/** What a backend's state changed to (GET /api/events, headroom_lb_backend_transitions_total `to`). */
export const BACKEND_TRANSITIONS = [
  'healthy',
  'unhealthy',
  'ejected',
  'draining',
  'undrained',
  'weight-changed',
  'drained',
  'removed',
  /** Slow start began (the backend ramps to its full weight) and ended. */
  'slow-start',
  'full-weight',
] as const;

/** One backend state change, with its reason code (a closed set: the metric's `reason` label) and text. */
export const backendEventSchema = z.object({
  /** Increasing; pass the last one seen as `?since=` to get only newer events. */
  seq: z.number().int().positive(),
  /** ms since epoch. */
  at: z.number(),
  id: z.string(),
  name: z.string(),
  from: backendStateSchema,
  to: z.enum(BACKEND_TRANSITIONS),
  code: z.string(),
  reason: z.string(),
});
export type BackendEvent = z.infer<typeof backendEventSchema>;

/** GET /api/events: the most recent backend state changes, oldest first. */
export const backendEventsSchema = z.object({ events: z.array(backendEventSchema) });
export type BackendEvents = z.infer<typeof backendEventsSchema>;

/** GET /api/backends/:id/drained?timeoutMs=: waits until the backend has nothing in flight (or is gone). */
export const drainWaitQuerySchema = z
  .object({ timeoutMs: z.coerce.number().int().min(0).max(600_000).default(30_000) })
  .strict();
export const drainWaitResponseSchema = z.object({
  id: z.string(),
  /** true: nothing in flight (or the backend left); false: the wait timed out with requests in flight. */
  drained: z.boolean(),
  inFlight: z.number().int().nonnegative(),
  /** false when the balancer no longer lists the backend. */
  present: z.boolean(),
});
export type DrainWaitResponse = z.infer<typeof drainWaitResponseSchema>;
