// Config of services/load-balancer.
import { z } from 'zod';
import { BALANCER_MODES } from '../contracts/balancer-api.js';
import { DEFAULT_HEALTH_STATUS, parseStatusRanges } from '../labels.js';
import { engineAddressProblem, loggingFields, parseCidr } from './common.js';
import { env } from './env-fields.js';

export const DISCOVERY_KINDS = ['docker', 'static', 'swarm'] as const;
export const METRICS_SOURCES = ['auto', 'docker', 'backend', 'prometheus', 'none'] as const;
export const DOCKER_ADDRESS_MODES = ['auto', 'network', 'published'] as const;

export const loadBalancerConfigSchema = z
  .object({
    PORT: env.listenPort(
      8080,
      'Proxy port: each request goes to a backend of the service its host and path route to (404 when none matches).',
    ),
    ADMIN_PORT: env.listenPort(8081, 'Admin API, /metrics, /healthz and the dashboard.'),
    HOST: env.string(
      '0.0.0.0',
      'Bind address of the proxy port (and of the admin port when ADMIN_TOKEN is set).',
    ),
    ADMIN_HOST: env.optionalString(
      'Bind address of the admin port. Default: 127.0.0.1 without ADMIN_TOKEN (whoever reaches the admin API can register upstreams and fire bursts), HOST with it. Any other address than loopback needs ADMIN_TOKEN.',
    ),
    DISCOVERY: env.oneOf(DISCOVERY_KINDS)(
      'docker',
      'Where backends come from: docker (labels), swarm (service tasks) or static.',
    ),
    BACKENDS: env.backendList(
      '',
      'Static backends, comma-separated base URLs (DISCOVERY=static). Empty is valid. Each may name its service and routes after a `#`: `http://127.0.0.1:9001#service=shop&host=shop.localhost&path=/api&strip=true` (`host` repeats for several; the keys mean what lb.service, lb.host, lb.path and lb.path.strip mean; `redirect=true` what lb.tls.redirect=true means).',
    ),
    BALANCER_MODE: env.oneOf(BALANCER_MODES)(
      'resource-aware',
      'Initial balancing mode; switch at run time with PUT /api/mode.',
    ),
    ADMIN_TOKEN: env.optionalString(
      'When set, admin calls that change state need `Authorization: Bearer <token>`.',
      {
        secret: true,
      },
    ),
    ADMIN_READS_NEED_TOKEN: env.bool(
      false,
      'With a token (ADMIN_TOKEN or ADMIN_TOKEN_FILE): reads need it too: every GET of /api/* (backend addresses, stats, events, the autoscaler passthrough) but /api/info, and /metrics (give Prometheus the token as a bearer credential). /healthz and the dashboard page stay open; the dashboard asks for the token.',
    ),
    ADMIN_TOKEN_FILE: env.optionalString(
      'When ADMIN_TOKEN is unset: a file holding the token, read at start; when absent it is created with a generated token, logged once as `admin token generated` (compose keeps it in a named volume). ADMIN_TOKEN wins.',
    ),
    ADMIN_RATE_LIMIT: env.int(1, 1_000_000)(600, 'Admin API requests per minute per client address.'),

    DOCKER_SOCKET: env.string(
      '/var/run/docker.sock',
      'Docker engine socket (DOCKER_HOST=tcp://… also honoured).',
    ),
    DOCKER_HOST: env.optionalString(
      'Docker engine address as the docker CLI reads it (unix:///path or tcp://host:port; DOCKER_TLS_VERIFY and DOCKER_CERT_PATH for TLS); wins over DOCKER_SOCKET.',
    ),
    DOCKER_HOSTS: env.list(
      '',
      "Several engines to discover containers on, comma-separated (unix:///path or tcp://host:port, as the autoscaler's DOCKER_HOSTS); a published port of a tcp:// engine is reached at that host. Default: DOCKER_SOCKET only.",
    ),
    DOCKER_NETWORK: env.optionalString(
      'Network to reach containers on; default: one shared with the balancer. A balancer in a container skips a container on none of its own networks (it could not reach it); outside Docker, any.',
    ),
    DOCKER_ADDRESS: env.oneOf(DOCKER_ADDRESS_MODES)(
      'auto',
      'How to reach containers: network (container IP), published (host port), auto (network when the balancer runs in Docker).',
    ),
    ACCESS_LOG: env.oneOf(['off', 'json', 'common'] as const)(
      'off',
      'One line per proxied request on stdout (service, backend, status, duration, bytes, retries): json, or common (Common Log Format plus those fields).',
    ),
    LB_SERVICE: env.optionalString('Only balance containers whose lb.service label equals this.'),
    RESYNC_INTERVAL_MS: env.int(1000, 3_600_000)(
      30_000,
      'Full re-list of containers, a safety net under the events stream.',
    ),

    CONNECT_TIMEOUT_MS: env.int(10, 600_000)(
      2_000,
      'Upstream connect timeout; a timeout answers 502 (or retries).',
    ),
    RESPONSE_TIMEOUT_MS: env.int(10, 3_600_000)(
      30_000,
      'Time to the upstream response headers; over it answers 504.',
    ),
    BODY_TIMEOUT_MS: env.int(0, 3_600_000)(60_000, 'Idle time allowed between body chunks (0 disables).'),
    RETRIES: env.int(0, 5)(
      1,
      'Idempotent requests without a body that fail to connect, or whose connection is reset before any response, are retried this many times on another backend.',
    ),
    TRUSTED_PROXIES: env.list(
      '',
      'Peers (CIDRs or addresses, comma-separated, e.g. 10.0.0.0/8) whose X-Forwarded-*, Forwarded and X-Real-IP headers are kept, the client address appended: a TLS terminator or CDN in front. Default: nobody; from anyone else those headers are dropped and the proxy writes its own.',
    ),
    CLIENT_HEADER_TIMEOUT_MS: env.int(100, 600_000)(
      10_000,
      'Time a client has to send its request headers (slowloris); over it the connection is closed (408).',
    ),
    CLIENT_IDLE_TIMEOUT_MS: env.int(0, 3_600_000)(
      60_000,
      'Time a client may stall while it sends a request body or reads a response (slow body, slow read); over it the connection is closed. 0 disables.',
    ),
    TLS_PORT: env.optionalInt(
      0,
      65535,
    )(
      'TLS port (HTTPS): off when unset. Certificates come from TLS_CERT_DIR; the same routes and backends as PORT; X-Forwarded-Proto: https.',
    ),
    TLS_CERT_DIR: env.optionalString(
      'With TLS_PORT: a directory of PEM pairs <name>.crt + <name>.key, watched and reloaded without a restart. SNI picks the certificate whose SAN names match (exact before *.wildcard); a client without SNI, or with an unknown name, gets default.crt, else the first pair by file name.',
    ),
    TLS_REDIRECT_PORT: env.port(
      443,
      'The https port a 308 from lb.tls.redirect=true names (the published TLS port; 443 is left out of the URL).',
    ),
    MAX_CONNECTIONS_PER_BACKEND: env.int(1, 100_000)(128, 'Keep-alive pool size per backend.'),
    // Overload control (issue #26): the defaults protect a service with nothing configured
    LIMIT_MIN: env.int(1, 100_000)(
      2,
      'Lowest adaptive concurrency limit per backend (requests it may hold at once; the rest wait in the service queue).',
    ),
    LIMIT_MAX: env.int(1, 100_000)(
      128,
      'Highest adaptive concurrency limit per backend; lb.maxconn on a container pins a static one instead.',
    ),
    QUEUE_TIMEOUT_MS: env.int(10, 600_000)(
      2_000,
      'Response budget of a request waiting in the service queue when every backend is at its limit: once its wait (or predicted wait) plus the expected time of its backend (at most half of this) would pass it: 503 + Retry-After (LB_ERR_OVERLOADED), not a late answer.',
    ),
    QUEUE_MAX: env.int(1, 1_000_000)(
      1_000,
      'Requests waiting in the service queue at once; one more: 503 + Retry-After (LB_ERR_OVERLOADED).',
    ),

    HEALTH_INTERVAL_MS: env.int(100, 3_600_000)(2_000, 'Active health check interval.'),
    HEALTH_TIMEOUT_MS: env.int(10, 600_000)(1_000, 'Active health check timeout.'),
    HEALTH_PATH: env.optionalString(
      'Path of an HTTP health check for backends without an lb.health.path label. Unset: a TCP connect checks them (plus Docker’s own HEALTHCHECK status where the image has one).',
    ),
    HEALTH_STATUS: env.string(
      DEFAULT_HEALTH_STATUS,
      'Statuses that count as up for an HTTP health check without an lb.health.status label: statuses or ranges, comma-separated (e.g. 200-499).',
    ),
    HEALTH_RISE: env.int(1, 100)(1, 'Consecutive passing checks that make a backend healthy.'),
    HEALTH_FALL: env.int(1, 100)(2, 'Consecutive failing checks that make a backend unhealthy.'),
    EJECT_AFTER_FAILURES: env.int(1, 1000)(
      3,
      'Consecutive proxied connection errors or 5xx that eject a backend (passive health).',
    ),
    EJECT_COOLDOWN_MS: env.int(100, 3_600_000)(
      10_000,
      'How long an ejected backend stays out before checks may return it.',
    ),
    // 10 s, not 30: a replica the autoscaler adds under load must take its share within
    // seconds (with in-flight costs a 10 % ramp floor keeps a newcomer nearly idle until the
    // others queue ten deep)
    SLOW_START_MS: env.int(0, 3_600_000)(
      10_000,
      'Window over which a joining backend ramps to its full share (lb.slowstart overrides).',
    ),
    DRAIN_TIMEOUT_MS: env.int(0, 3_600_000)(
      30_000,
      'Longest a removed backend may keep its in-flight requests.',
    ),

    METRICS_SOURCE: env.oneOf(METRICS_SOURCES)(
      'auto',
      'Where resource-aware mode gets CPU/memory: docker stats, the backend /metrics, prometheus, or auto (docker for containers, backend otherwise).',
    ),
    METRICS_INTERVAL_MS: env.int(100, 600_000)(1_000, 'Refresh of backend /metrics or Prometheus queries.'),
    METRICS_STALE_MS: env.int(100, 3_600_000)(
      5_000,
      'Metrics older than this are stale: resource-aware steers that backend by in-flight and latency only (no headroom pressure, no memory guard).',
    ),
    PROMETHEUS_URL: env.optionalUrl('Prometheus for METRICS_SOURCE=prometheus and NODE_CPU_QUERY.'),
    NODE_CPU_QUERY: env.optionalString(
      "PromQL returning each node's CPU busy fraction 0..1 with a `node` label (hostname or Swarm node id), e.g. 1 - avg by (node) (rate(node_cpu_seconds_total{mode=\"idle\"}[30s])); a Swarm task's CPU then reads as at least its node's. Needs PROMETHEUS_URL. Off when unset.",
    ),
    PROMQL_CPU: env.optionalString(
      'PromQL returning CPU utilization 0..1 with a `backend` label (backend id or URL).',
    ),
    PROMQL_MEMORY: env.optionalString('PromQL returning memory utilization 0..1 with a `backend` label.'),
    SCORE_CPU_WEIGHT: env.number(0, 1)(
      0.8,
      'Weight of CPU headroom in the headroom score; a score under 0.3 raises resource-aware’s cost of a backend (up to 1.83×: the score floors at 0.05).',
    ),
    SCORE_MEMORY_WEIGHT: env.number(0, 1)(0.2, 'Weight of memory headroom in the headroom score.'),
    LATENCY_DECAY_MS: env.int(100, 3_600_000)(
      10_000,
      'Latency time constant: latency mode’s peak-EWMA and resource-aware’s service time (idle estimates decay at a quarter of it).',
    ),

    DASHBOARD_DIR: env.optionalString(
      'Built dashboard to serve at / on the admin port; default: the bundled one when present.',
    ),
    AUTOSCALER_URL: env.optionalUrl('Autoscaler admin URL the dashboard reads through the balancer.'),
    WAKE_URL: env.optionalUrl(
      'Scale to zero: where to POST /api/wake when a request arrives for a sleeping service; default: AUTOSCALER_URL. Requests are held only when one of the two is set.',
    ),
    HOLD_TIMEOUT_MS: env.int(100, 600_000)(
      30_000,
      'Scale to zero: longest a held request waits in the service queue for its service to wake (its own deadline; QUEUE_TIMEOUT_MS is for requests waiting at the limits); past it: 503 with Retry-After.',
    ),
    HOLD_MAX_REQUESTS: env.int(1, 100_000)(
      1_000,
      'Scale to zero: a request for a sleeping or waking service is held in the service queue while fewer than this wait there (held ones and any waiting at the concurrency limits); else 503 with Retry-After.',
    ),
    HOLD_HTML_PAGE: env.bool(
      false,
      'Scale to zero: answer browsers (Accept: text/html) with a small waiting page that refreshes instead of holding them; APIs are held either way.',
    ),
    GRAFANA_URL: env.optionalUrl('Grafana base URL whose panels the dashboard embeds.'),
    GRAFANA_DASHBOARD_UID: env.string(
      'headroom-overview',
      'Grafana dashboard uid the dashboard embeds panels from.',
    ),
    STATS_HISTORY_SECONDS: env.int(10, 3600)(
      300,
      'Seconds of per-second traffic history kept for the dashboard charts.',
    ),
    SHUTDOWN_GRACE_MS: env.int(0, 600_000)(
      10_000,
      'On SIGTERM, how long in-flight requests may take before exit.',
    ),
    ...loggingFields,
  })
  .superRefine((cfg, ctx) => {
    const statuses = parseStatusRanges(cfg.HEALTH_STATUS);
    if (typeof statuses === 'string')
      ctx.addIssue({ code: 'custom', path: ['HEALTH_STATUS'], message: statuses });
    if (cfg.HEALTH_PATH !== undefined && !cfg.HEALTH_PATH.startsWith('/'))
      ctx.addIssue({ code: 'custom', path: ['HEALTH_PATH'], message: 'a path starting with /' });
    // safe by default: an admin API open to the network needs a token
    // (a token file always yields a token: read, or generated at start)
    // one line at start, not a stack trace from the part that would use them
    if (cfg.METRICS_SOURCE === 'prometheus' && cfg.PROMETHEUS_URL === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['PROMETHEUS_URL'],
        message: 'METRICS_SOURCE=prometheus reads CPU and memory from Prometheus: set PROMETHEUS_URL',
      });
    if (cfg.DOCKER_HOST !== undefined) {
      const problem = engineAddressProblem(cfg.DOCKER_HOST);
      if (problem) ctx.addIssue({ code: 'custom', path: ['DOCKER_HOST'], message: problem });
    }
    for (const entry of cfg.TRUSTED_PROXIES) {
      const parsed = parseCidr(entry);
      if (typeof parsed === 'string')
        ctx.addIssue({ code: 'custom', path: ['TRUSTED_PROXIES'], message: parsed });
    }
    for (const address of cfg.DOCKER_HOSTS) {
      const problem = engineAddressProblem(address, true);
      if (problem)
        ctx.addIssue({ code: 'custom', path: ['DOCKER_HOSTS'], message: `"${address}": ${problem}` });
    }
    if (cfg.LIMIT_MIN > cfg.LIMIT_MAX)
      ctx.addIssue({
        code: 'custom',
        path: ['LIMIT_MIN'],
        message: `LIMIT_MIN (${cfg.LIMIT_MIN}) is above LIMIT_MAX (${cfg.LIMIT_MAX})`,
      });
    if (cfg.NODE_CPU_QUERY !== undefined && cfg.PROMETHEUS_URL === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['NODE_CPU_QUERY'],
        message: 'NODE_CPU_QUERY is a PromQL query: it needs PROMETHEUS_URL',
      });
    // TLS is all or nothing: a port without certificates, or certificates without a port,
    // is a half-finished set-up the user would only notice at the first https request
    if (cfg.TLS_PORT !== undefined && cfg.TLS_CERT_DIR === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['TLS_CERT_DIR'],
        message: 'TLS_PORT is set: it needs TLS_CERT_DIR, a directory of <name>.crt + <name>.key PEM pairs',
      });
    if (cfg.TLS_CERT_DIR !== undefined && cfg.TLS_PORT === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['TLS_PORT'],
        message: 'TLS_CERT_DIR is set but TLS is off: set TLS_PORT (e.g. 8443) to serve it',
      });
    if (cfg.TLS_PORT !== undefined && cfg.TLS_PORT !== 0 && cfg.TLS_PORT === cfg.PORT)
      ctx.addIssue({
        code: 'custom',
        path: ['TLS_PORT'],
        message: `TLS_PORT must differ from PORT (${cfg.PORT})`,
      });
    if (cfg.ADMIN_READS_NEED_TOKEN && cfg.ADMIN_TOKEN === undefined && cfg.ADMIN_TOKEN_FILE === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['ADMIN_READS_NEED_TOKEN'],
        message: 'reads can only need a token that exists: set ADMIN_TOKEN or ADMIN_TOKEN_FILE',
      });
    if (
      cfg.ADMIN_HOST !== undefined &&
      cfg.ADMIN_TOKEN === undefined &&
      cfg.ADMIN_TOKEN_FILE === undefined &&
      !isLoopbackHost(cfg.ADMIN_HOST)
    )
      ctx.addIssue({
        code: 'custom',
        path: ['ADMIN_HOST'],
        message:
          'a non-loopback admin address needs ADMIN_TOKEN or ADMIN_TOKEN_FILE (without a token anyone on the network could change the balancer)',
      });
  });

/** 127.0.0.0/8, ::1 and localhost: reachable from this host only. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Where the admin port binds: ADMIN_HOST, else HOST when a token protects it, else 127.0.0.1. */
export function adminBindHost(cfg: Pick<LoadBalancerConfig, 'ADMIN_HOST' | 'ADMIN_TOKEN' | 'HOST'>): string {
  if (cfg.ADMIN_HOST !== undefined) return cfg.ADMIN_HOST;
  return cfg.ADMIN_TOKEN !== undefined ? cfg.HOST : '127.0.0.1';
}

export type LoadBalancerConfig = z.output<typeof loadBalancerConfigSchema>;
