// Config of services/autoscaler.
import { z } from 'zod';
import { loggingFields } from './common.js';
import { env } from './env-fields.js';

export const RUNTIMES = ['docker', 'swarm', 'local'] as const;

export const autoscalerConfigSchema = z.object({
  PROMETHEUS_URL: env.optionalUrl(
    "Prometheus to read per-replica metrics from. Unset: the balancer's own view (GET /api/backends at LB_ADMIN_URL: in-flight, rate, CPU and memory per replica, for any app).",
  ),
  RUNTIME: env.oneOf(RUNTIMES)(
    'docker',
    'docker (containers), swarm (a Swarm service) or local (child processes).',
  ),
  SERVICE: env.optionalString(
    'The one service to scale (its lb.service label value, or the Swarm service name), labelled or not, its autoscale.* labels over these defaults. Unset: every service whose containers (or Swarm service) carry autoscale.enable=true; none labelled: backend.',
  ),
  MIN_REPLICAS: env.int(0, 1000)(
    1,
    'Never fewer replicas. 0 (scale to zero) needs SCALE_TO_ZERO_AFTER_MS and LB_ADMIN_URL to judge idleness.',
  ),
  SCALE_TO_ZERO_AFTER_MS: env.optionalInt(
    1000,
    604_800_000,
  )(
    'With MIN_REPLICAS=0: sleep (scale to 0) after this long with no request; a replica label lb.idle.after overrides it.',
  ),
  WAKE_REQUESTS_PER_REPLICA: env.int(1, 1_000_000)(
    10,
    'A wake (POST /api/wake) starts ceil(held requests / this) replicas, at least 1, at most MAX_REPLICAS.',
  ),
  MAX_REPLICAS: env.int(1, 1000)(10, 'Never more replicas.'),
  TARGET_CPU_UTILIZATION: env.number(0.01, 4)(
    0.6,
    "Target CPU use as a fraction of each replica's CPU limit.",
  ),
  TARGET_MEMORY_UTILIZATION: env.optionalNumber(
    0.01,
    4,
  )('Target memory use as a fraction of the limit (off when unset).'),
  TARGET_RPS_PER_REPLICA: env.optionalNumber(0.001, 1e9)('Target requests/s per replica (off when unset).'),
  TARGET_CONCURRENCY_PER_REPLICA: env.optionalNumber(
    0.001,
    1e9,
  )(
    'Target requests in flight per replica, averaged over time (off when unset): what the balancer measures for any app.',
  ),
  // 2 s, not 5: the tick was up to 5 s of the load-step-to-new-replica time (docs/benchmarks.md);
  // the recorded series change every second, the policy's windows are in ms, not ticks
  INTERVAL_MS: env.int(100, 3_600_000)(2_000, 'How often to observe and decide.'),
  SCALE_UP_WINDOW_MS: env.int(0, 3_600_000)(
    0,
    'Scale-up stabilization: act on the lowest recommendation in this window.',
  ),
  SCALE_DOWN_WINDOW_MS: env.int(0, 3_600_000)(
    60_000,
    'Scale-down stabilization: act on the highest recommendation in this window.',
  ),
  TOLERANCE: env.number(0, 1)(0.1, 'No change while observed/target is within 1 ± this.'),
  SCALE_UP_MAX_FACTOR: env.number(1, 100)(
    2,
    'At most this many times the current replicas in one step (at least +1).',
  ),
  SCALE_DOWN_MAX_STEP: env.int(1, 1000)(1, 'At most this many replicas removed in one step.'),
  METRICS_MAX_AGE_MS: env.int(1000, 3_600_000)(
    30_000,
    'Samples older than this count as missing: hold the count.',
  ),
  PROMQL_CPU: env.optionalString(
    "PromQL override: per-replica CPU utilization (0..1 of the limit), one series per replica (e.g. from the app's own metrics); default: the balancer's engine stats.",
  ),
  PROMQL_MEMORY: env.optionalString(
    "PromQL override: per-replica memory utilization (0..1 of the limit); default: the balancer's engine stats.",
  ),
  PROMQL_RPS: env.optionalString(
    'PromQL override: per-replica requests per second; default: what the balancer served each replica.',
  ),
  PROMQL_CONCURRENCY: env.optionalString(
    'PromQL override: per-replica requests in flight; default: what the balancer measured, averaged over 5 s (15 s where the balancer is scraped only every 5 s), plus the service’s queued and held requests shared by its replicas.',
  ),
  ADMIN_PORT: env.listenPort(8082, 'Admin API and /metrics.'),
  HOST: env.optionalString(
    'Bind address of the admin API. Default: 127.0.0.1 without ADMIN_TOKEN (or ADMIN_TOKEN_FILE), 0.0.0.0 with it. Any other address than loopback needs a token.',
  ),
  ADMIN_TOKEN: env.optionalString(
    'When set, POST /api/pause, /api/resume and /api/wake need `Authorization: Bearer <token>`.',
    {
      secret: true,
    },
  ),
  ADMIN_TOKEN_FILE: env.optionalString(
    "When ADMIN_TOKEN is unset: a file holding the token (the balancer's ADMIN_TOKEN_FILE, which it creates), waited for at start; it is also the balancer token unless LB_ADMIN_TOKEN is set.",
  ),
  ADMIN_TOKEN_WAIT_MS: env.int(0, 3_600_000)(
    60_000,
    'How long to wait at start for ADMIN_TOKEN_FILE to appear before exiting.',
  ),
  DRY_RUN: env.bool(false, 'Decide and record, but never start or stop anything.'),
  LB_ADMIN_URL: env.optionalUrl(
    'Balancer admin URL: drain before stopping; register replicas in the local runtime.',
  ),
  LB_ADMIN_TOKEN: env.optionalString('Token for the balancer admin API; default: ADMIN_TOKEN.', {
    secret: true,
  }),
  CLEANUP_ON_EXIT: env.bool(false, 'On shutdown, stop and remove the replicas this autoscaler owns.'),
  DRAIN_TIMEOUT_MS: env.int(0, 3_600_000)(
    30_000,
    'Longest wait for a draining replica to finish its requests.',
  ),
  STOP_GRACE_SECONDS: env.int(0, 3600)(10, 'SIGTERM-to-SIGKILL grace when stopping a replica.'),
  DOCKER_HOSTS: env.list(
    '',
    'Several engines for placement, comma-separated (unix:///path or tcp://host:port); default: the local socket.',
  ),
  DOCKER_SOCKET: env.string('/var/run/docker.sock', 'Docker engine socket when DOCKER_HOSTS is empty.'),
  REPLICA_IMAGE: env.optionalString('Image for new replicas when no existing replica can serve as template.'),
  REPLICA_NETWORK: env.optionalString('Network for new replicas when there is no template.'),
  REPLICA_CPUS: env.optionalNumber(0.01, 1024)('CPU limit of new replicas when there is no template.'),
  REPLICA_MEMORY_MB: env.optionalInt(
    4,
    1_048_576,
  )('Memory limit of new replicas (MiB) when there is no template.'),
  CPU_OVERCOMMIT: env.number(1, 100)(
    1,
    "Placement: CPU taken on a host (the larger of its containers' limits and their measured use) may add up to capacity × this.",
  ),
  MEMORY_RESERVE_MB: env.int(0, 1_048_576)(256, 'Placement: memory kept free on every host.'),
  DISK_RESERVE_MB: env.int(0, 1_048_576_000)(1024, 'Placement: disk kept free on every host.'),
  LOCAL_CPU_QUOTA: env.number(0.01, 1024)(
    0.5,
    'Local runtime: CPU cores each replica may use, in a cgroup or systemd scope of its own; placement books this much per replica against the host cores × CPU_OVERCOMMIT.',
  ),
  LOCAL_BACKEND_COMMAND: env.optionalString(
    'Local runtime: command that starts one backend (PORT is set); default: the bundled backend.',
  ),
  ...loggingFields,
});

export type AutoscalerConfig = z.output<typeof autoscalerConfigSchema>;

/**
 * Where the autoscaler's admin API binds, once its token is known (ADMIN_TOKEN, or read from
 * ADMIN_TOKEN_FILE): HOST when set, else 0.0.0.0 with a token and 127.0.0.1 without, like the
 * balancer's admin port (safe by default: whoever reaches it can pause scaling and wake services).
 */
export function autoscalerBindHost(host: string | undefined, token: string | undefined): string {
  if (host !== undefined) return host;
  return token !== undefined ? '0.0.0.0' : '127.0.0.1';
}
