// Entry point: read config, wire observe/decide/act, serve the admin API, stop cleanly on
// SIGTERM/SIGINT (finish the tick in progress, optionally remove owned replicas).
import os from 'node:os';
import {
  AdminTokenError,
  autoscalerBindHost,
  autoscalerConfigSchema,
  createLogger,
  dockerSocketPaths,
  formatIssue,
  isLoopbackHost,
  loadConfig,
  resolveAdminToken,
  runAsConfiguredUser,
} from '@headroom/shared';
import { DockerRuntime } from './act/docker-runtime.js';
import { DrainClient } from './act/drain-client.js';
import { LocalRuntime } from './act/local-runtime.js';
import type { ReplicaActor } from './act/replica-runtime.js';
import { SleepAnnouncer } from './act/sleep-announcer.js';
import { SwarmRuntime } from './act/swarm-runtime.js';
import { buildAdminServer } from './admin/admin-server.js';
import { AutoscalerMetrics } from './admin/metrics.js';
import { BalancerClient } from './clients/balancer-client.js';
import { enginesFromConfig } from './clients/docker-engines.js';
import { PrometheusClient } from './clients/prometheus-client.js';
import { DecisionLog } from './decision-log.js';
import { ScalingLoop } from './loop.js';
import { DockerObserver } from './observe/docker-observer.js';
import { LocalObserver } from './observe/local-observer.js';
import { BalancerSource, type MetricSource, PrometheusSource } from './observe/metric-source.js';
import { Observer } from './observe/observer.js';
import type { RuntimeObserver } from './observe/runtime-observer.js';
import { SwarmObserver } from './observe/swarm-observer.js';
import type { ScaleMetric } from './policy/policy-types.js';
import { type SettingsDefaults, serviceSettings } from './policy/service-settings.js';

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
// Without Prometheus, the balancer's own view is the metric source (any runtime); with neither
// there is nothing to scale on.
if (!config.PROMETHEUS_URL && !config.LB_ADMIN_URL) {
  crossIssues.push({
    field: 'PROMETHEUS_URL',
    value: undefined,
    message: "required unless LB_ADMIN_URL is set (then the balancer's own view is the metric source)",
  });
}
if (
  config.HOST !== undefined &&
  !isLoopbackHost(config.HOST) &&
  config.ADMIN_TOKEN === undefined &&
  config.ADMIN_TOKEN_FILE === undefined
) {
  crossIssues.push({
    field: 'HOST',
    value: config.HOST,
    message:
      'a non-loopback address needs ADMIN_TOKEN or ADMIN_TOKEN_FILE (without a token anyone on the network could pause scaling or wake services)',
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
if (config.MIN_REPLICAS === 0 && !balancer) {
  logger.warn(
    'MIN_REPLICAS=0 without LB_ADMIN_URL: scale to zero cannot judge idleness or hold requests, so the service never sleeps (minimum 1)',
  );
}
// Scale to zero needs the balancer: it tells when the last request came, and holds requests
// (and wakes us) while a service sleeps.
const announcer = balancer ? new SleepAnnouncer(balancer, logger) : undefined;
const placement =
  config.RUNTIME === 'local'
    ? { cpuOvercommit: config.CPU_OVERCOMMIT, memoryReserve: 0, diskReserve: 0 }
    : {
        cpuOvercommit: config.CPU_OVERCOMMIT,
        memoryReserve: config.MEMORY_RESERVE_MB * 1024 * 1024,
        diskReserve: config.DISK_RESERVE_MB * 1024 * 1024,
      };

function buildRuntime(): { observer: RuntimeObserver; actor: ReplicaActor } {
  if (config.RUNTIME === 'local') {
    const local = new LocalRuntime({
      service: config.SERVICE ?? 'backend',
      command: config.LOCAL_BACKEND_COMMAND,
      balancer,
      drain,
      stopGraceSeconds: config.STOP_GRACE_SECONDS,
      cpuQuota: config.LOCAL_CPU_QUOTA,
      logger,
    });
    return {
      actor: local,
      observer: new LocalObserver({
        service: config.SERVICE ?? 'backend',
        children: local,
        quota: local.quota,
        hostCores: os.availableParallelism(),
      }),
    };
  }
  const engines = enginesFromConfig(config.DOCKER_HOSTS, config.DOCKER_SOCKET);
  if (config.RUNTIME === 'swarm')
    return {
      observer: new SwarmObserver(engines[0]!, config.SERVICE),
      // scale-in drains the tasks that will go at the balancer first (LB_ADMIN_URL)
      actor: new SwarmRuntime(
        engines[0]!,
        logger,
        drain && balancer ? { drain, undrain: (id) => balancer.undrain(id) } : undefined,
      ),
    };
  return {
    observer: new DockerObserver({
      service: config.SERVICE,
      engines,
      fallback: {
        image: config.REPLICA_IMAGE,
        network: config.REPLICA_NETWORK,
        cpus: config.REPLICA_CPUS,
        memoryMb: config.REPLICA_MEMORY_MB,
      },
      diskReserve: placement.diskReserve,
      logger,
    }),
    actor: new DockerRuntime({ engines, drain, stopGraceSeconds: config.STOP_GRACE_SECONDS, logger }),
  };
}

const source: MetricSource | undefined = config.PROMETHEUS_URL
  ? new PrometheusSource(new PrometheusClient({ url: config.PROMETHEUS_URL }), {
      cpu: config.PROMQL_CPU,
      memory: config.PROMQL_MEMORY,
      rps: config.PROMQL_RPS,
      concurrency: config.PROMQL_CONCURRENCY,
    })
  : balancer
    ? new BalancerSource()
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

const defaults: SettingsDefaults = {
  policy: {
    min: config.MIN_REPLICAS,
    max: config.MAX_REPLICAS,
    tolerance: config.TOLERANCE,
    scaleUpWindowMs: config.SCALE_UP_WINDOW_MS,
    scaleDownWindowMs: config.SCALE_DOWN_WINDOW_MS,
    scaleUpMaxFactor: config.SCALE_UP_MAX_FACTOR,
    scaleDownMaxStep: config.SCALE_DOWN_MAX_STEP,
  },
  targets,
  idleAfterMs: config.SCALE_TO_ZERO_AFTER_MS,
  wakeRequestsPerReplica: config.WAKE_REQUESTS_PER_REPLICA,
  canSleep: balancer !== undefined,
};

const { observer: runtimeObserver, actor: runtime } = buildRuntime();
const scaledService = config.SERVICE ?? 'backend';
const metrics = new AutoscalerMetrics(scaledService);
const log = new DecisionLog();
const observer = new Observer({
  runtime: runtimeObserver,
  balancer,
  source,
  // A service's metrics: the ones its labels name, else the environment's (bad labels are ConfigInvalid in the loop).
  targetsOf: (_service, labelSources) => {
    const r = serviceSettings(defaults, labelSources);
    return r.ok ? r.settings.targets : [];
  },
  maxAgeMs: config.METRICS_MAX_AGE_MS,
});
const loop = new ScalingLoop({
  service: scaledService,
  runtimeName: config.RUNTIME,
  observer,
  actor: runtime,
  defaults,
  placement,
  intervalMs: config.INTERVAL_MS,
  dryRun: config.DRY_RUN,
  announcer,
  keepOneOnSleep: config.RUNTIME === 'docker',
  log,
  metrics,
  logger,
});

const admin = await buildAdminServer({ loop, log, metrics, token: config.ADMIN_TOKEN, logger });
const bindHost = autoscalerBindHost(config.HOST, config.ADMIN_TOKEN);
await admin.listen({ port: config.ADMIN_PORT, host: bindHost });
loop.start();
logger.info(
  {
    scaledService,
    labelledServices: config.RUNTIME !== 'local',
    runtime: config.RUNTIME,
    metrics: source?.name ?? 'none',
    adminHost: bindHost,
    adminPort: config.ADMIN_PORT,
    dryRun: config.DRY_RUN,
    scaleToZeroAfterMs:
      config.MIN_REPLICAS === 0 && balancer ? (config.SCALE_TO_ZERO_AFTER_MS ?? null) : null,
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
    await runtime
      .cleanup(loop.serviceNames())
      .catch((err) => logger.error({ err: (err as Error).message }, 'cleanup failed'));
  }
  await runtime.close();
  await admin.close();
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
