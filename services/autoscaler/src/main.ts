// Entry point: read config, wire observe/decide/act, serve the admin API, stop cleanly on
// SIGTERM/SIGINT (finish the tick in progress, optionally remove owned replicas).
import {
  AdminTokenError,
  autoscalerConfigSchema,
  createLogger,
  dockerSocketPaths,
  formatIssue,
  loadConfig,
  resolveAdminToken,
  runAsConfiguredUser,
} from '@headroom/shared';
import { enginesFromConfig } from './act/docker-engines.js';
import { DockerRuntime } from './act/docker-runtime.js';
import { DrainClient } from './act/drain-client.js';
import { LocalRuntime } from './act/local-runtime.js';
import type { ReplicaRuntime } from './act/replica-runtime.js';
import { SleepAnnouncer } from './act/sleep-announcer.js';
import { SwarmRuntime } from './act/swarm-runtime.js';
import { buildAdminServer } from './admin/admin-server.js';
import { AutoscalerMetrics } from './admin/metrics.js';
import { DecisionLog } from './decision-log.js';
import { ScalingLoop } from './loop.js';
import { BalancerClient } from './observe/balancer-client.js';
import { BalancerSource, type MetricSource, PrometheusSource } from './observe/metric-source.js';
import { PrometheusClient } from './observe/prometheus-client.js';
import type { ScaleMetric } from './policy/policy-types.js';

const config = loadConfig('autoscaler', autoscalerConfigSchema);

// Rules the schema cannot express field by field: same one-line-per-field format, exit 1.
const crossIssues: { field: string; value: string | undefined; message: string }[] = [];
if (config.MIN_REPLICAS > config.MAX_REPLICAS) {
  crossIssues.push({
    field: 'MIN_REPLICAS',
    value: String(config.MIN_REPLICAS),
    message: `must not exceed MAX_REPLICAS (${config.MAX_REPLICAS})`,
  });
}
// Scale to zero is opt-in with its idle window: MIN_REPLICAS=0 alone would let the ordinary
// policy drop to 0 with nothing to wake it.
if (config.MIN_REPLICAS === 0 && config.SCALE_TO_ZERO_AFTER_MS === undefined) {
  crossIssues.push({
    field: 'MIN_REPLICAS',
    value: '0',
    message: 'MIN_REPLICAS=0 (scale to zero) needs SCALE_TO_ZERO_AFTER_MS (the idle window in ms)',
  });
}
if (!config.PROMETHEUS_URL && config.RUNTIME !== 'local') {
  crossIssues.push({
    field: 'PROMETHEUS_URL',
    value: undefined,
    message: `required when RUNTIME=${config.RUNTIME}`,
  });
}
if (crossIssues.length > 0) {
  console.error(`invalid configuration for autoscaler:\n${crossIssues.map(formatIssue).join('\n')}`);
  process.exit(1);
}

const logger = createLogger({ service: 'autoscaler', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
// Started as root (compose): become RUN_AS with the Docker socket's group (when it drives the
// engine) before any file is touched.
runAsConfiguredUser(
  'autoscaler',
  logger,
  config.RUNTIME === 'local' ? [] : dockerSocketPaths(config.DOCKER_SOCKET, config.DOCKER_HOSTS),
);
// ADMIN_TOKEN_FILE (when ADMIN_TOKEN is unset): the token the balancer generated and keeps there.
try {
  config.ADMIN_TOKEN = (
    await resolveAdminToken({
      envToken: config.ADMIN_TOKEN,
      file: config.ADMIN_TOKEN_FILE,
      create: false,
      waitMs: config.ADMIN_TOKEN_WAIT_MS,
      log: logger,
    })
  ).token;
} catch (err) {
  if (!(err instanceof AdminTokenError)) throw err;
  console.error(`invalid configuration for autoscaler:\n${err.message}`);
  process.exit(1);
}
const lbToken = config.LB_ADMIN_TOKEN ?? config.ADMIN_TOKEN;
const balancer = config.LB_ADMIN_URL
  ? new BalancerClient({ url: config.LB_ADMIN_URL, token: lbToken })
  : undefined;
const drain = balancer ? new DrainClient(balancer, config.DRAIN_TIMEOUT_MS, logger) : undefined;
// Scale to zero needs the balancer: it tells when the last request came, and holds requests
// (and wakes us) while the service sleeps. Without it, MIN_REPLICAS=0 runs as 1.
const scaleToZero =
  config.MIN_REPLICAS === 0 && config.SCALE_TO_ZERO_AFTER_MS !== undefined && balancer
    ? {
        idleAfterMs: config.SCALE_TO_ZERO_AFTER_MS,
        wakeRequestsPerReplica: config.WAKE_REQUESTS_PER_REPLICA,
        announcer: new SleepAnnouncer(balancer, logger),
      }
    : undefined;
if (config.MIN_REPLICAS === 0 && !balancer) {
  logger.warn(
    'MIN_REPLICAS=0 without LB_ADMIN_URL: scale to zero cannot judge idleness or hold requests, so the service never sleeps (minimum 1)',
  );
}

function buildRuntime(): ReplicaRuntime {
  if (config.RUNTIME === 'local') {
    return new LocalRuntime({
      service: config.SERVICE,
      command: config.LOCAL_BACKEND_COMMAND,
      balancer,
      drain,
      stopGraceSeconds: config.STOP_GRACE_SECONDS,
      cpuQuota: config.LOCAL_CPU_QUOTA,
      cpuOvercommit: config.CPU_OVERCOMMIT,
      logger,
    });
  }
  const engines = enginesFromConfig(config.DOCKER_HOSTS, config.DOCKER_SOCKET);
  if (config.RUNTIME === 'swarm') return new SwarmRuntime(engines[0]!, config.SERVICE, logger);
  return new DockerRuntime({
    service: config.SERVICE,
    engines,
    placement: {
      cpuOvercommit: config.CPU_OVERCOMMIT,
      memoryReserve: config.MEMORY_RESERVE_MB * 1024 * 1024,
      diskReserve: config.DISK_RESERVE_MB * 1024 * 1024,
    },
    fallback: {
      image: config.REPLICA_IMAGE,
      network: config.REPLICA_NETWORK,
      cpus: config.REPLICA_CPUS,
      memoryMb: config.REPLICA_MEMORY_MB,
    },
    drain,
    stopGraceSeconds: config.STOP_GRACE_SECONDS,
    logger,
    keepOneOnSleep: scaleToZero !== undefined,
  });
}

const source: MetricSource | undefined = config.PROMETHEUS_URL
  ? new PrometheusSource(new PrometheusClient({ url: config.PROMETHEUS_URL }), config.SERVICE, {
      cpu: config.PROMQL_CPU,
      memory: config.PROMQL_MEMORY,
      rps: config.PROMQL_RPS,
      concurrency: config.PROMQL_CONCURRENCY,
    })
  : balancer
    ? new BalancerSource(balancer, config.SERVICE)
    : undefined;

const targets: { metric: ScaleMetric; target: number }[] = [
  { metric: 'cpu', target: config.TARGET_CPU_UTILIZATION },
];
if (config.TARGET_MEMORY_UTILIZATION !== undefined)
  targets.push({ metric: 'memory', target: config.TARGET_MEMORY_UTILIZATION });
if (config.TARGET_RPS_PER_REPLICA !== undefined)
  targets.push({ metric: 'rps', target: config.TARGET_RPS_PER_REPLICA });
if (config.TARGET_CONCURRENCY_PER_REPLICA !== undefined)
  targets.push({ metric: 'concurrency', target: config.TARGET_CONCURRENCY_PER_REPLICA });

const runtime = buildRuntime();
const metrics = new AutoscalerMetrics(config.SERVICE);
const log = new DecisionLog();
const loop = new ScalingLoop({
  service: config.SERVICE,
  runtimeName: config.RUNTIME,
  runtime,
  source,
  targets,
  settings: {
    // MIN_REPLICAS=0 is a sleep, never the ordinary policy's floor (the loop keeps it at 1 awake).
    min: Math.max(1, config.MIN_REPLICAS),
    max: config.MAX_REPLICAS,
    tolerance: config.TOLERANCE,
    scaleUpWindowMs: config.SCALE_UP_WINDOW_MS,
    scaleDownWindowMs: config.SCALE_DOWN_WINDOW_MS,
    scaleUpMaxFactor: config.SCALE_UP_MAX_FACTOR,
    scaleDownMaxStep: config.SCALE_DOWN_MAX_STEP,
  },
  intervalMs: config.INTERVAL_MS,
  maxAgeMs: config.METRICS_MAX_AGE_MS,
  dryRun: config.DRY_RUN,
  balancerView: balancer
    ? async () => {
        const o = await balancer.overview();
        return {
          states: new Map(o.backends.map((b) => [b.id, b.state] as const)),
          service: o.service,
          inFlight: o.backends.reduce((sum, b) => sum + b.inFlight, 0),
        };
      }
    : undefined,
  scaleToZero,
  log,
  metrics,
  logger,
});

const admin = await buildAdminServer({ loop, log, metrics, token: config.ADMIN_TOKEN, logger });
await admin.listen({ port: config.ADMIN_PORT, host: config.HOST });
loop.start();
logger.info(
  {
    scaledService: config.SERVICE,
    runtime: config.RUNTIME,
    metrics: source?.name ?? 'none',
    adminPort: config.ADMIN_PORT,
    dryRun: config.DRY_RUN,
    scaleToZeroAfterMs: scaleToZero?.idleAfterMs ?? null,
  },
  'autoscaler started',
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  const force = setTimeout(
    () => {
      logger.error('shutdown took too long, exiting');
      process.exit(1);
    },
    Math.max(30_000, config.DRAIN_TIMEOUT_MS + config.STOP_GRACE_SECONDS * 1000 + 10_000),
  );
  force.unref();
  await loop.stop();
  if (config.CLEANUP_ON_EXIT) {
    await runtime.cleanup().catch((err) => logger.error({ err: (err as Error).message }, 'cleanup failed'));
  }
  await runtime.close();
  await admin.close();
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
