// Load balancer entry point: the one file that knows every part, and only wires them.
// Discovery and the static list publish sets into the backends/ stage (merge, diff, drain,
// views), which hands each change to the balancing core, the upstream pools, the health
// prober and the resource source; then it serves the proxy and admin ports until a signal.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import {
  AdminTokenError,
  adminBindHost,
  createLogger,
  dockerSocketPaths,
  loadBalancerConfigSchema,
  loadConfig,
  resolveAdminToken,
  runAsConfiguredUser,
} from '@headroom/shared';
import type { AdminContext } from './admin/admin-context.js';
import { createAdminServer } from './admin/admin-server.js';
import { BackendStage } from './backends/stage.js';
import { StaticDrain } from './backends/static-drain.js';
import { backendViews } from './backends/view.js';
import { createBalancer } from './balancing/balancer.js';
import type { BackendSource } from './discovery/backend-set.js';
import { createDockerSource } from './discovery/docker-source.js';
import { MultiEngineSource, parseEngineAddress } from './discovery/multi-engine-source.js';
import type { ServiceScan, SleepScan } from './discovery/sleep-scan.js';
import { StaticSource } from './discovery/static-source.js';
import { createSwarmSource } from './discovery/swarm-source.js';
import { HttpProber } from './health/http-prober.js';
import { createHoldMetrics, HoldController } from './hold/hold-controller.js';
import { Admission } from './proxy/admission.js';
import { createProxyServer, ProxyHandler } from './proxy/proxy-server.js';
import { TrustedProxies } from './proxy/trusted-proxies.js';
import { UpstreamPools } from './proxy/upstream-pools.js';
import { createResourceSource } from './resources/create-resource-source.js';
import { NodeLoadSource } from './resources/node-load-source.js';
import { ReplicaUsage } from './resources/replica-usage.js';
import type { PublishSample } from './resources/resource-sample.js';
import { displayName, ServiceRegistry } from './services/service-registry.js';
import { TrafficStats } from './stats/traffic-stats.js';
import { AccessLog } from './telemetry/access-log.js';
import { BusyClock } from './telemetry/busy-clock.js';
import { sampleLoopDelay } from './telemetry/loop-delay.js';
import { createMetrics } from './telemetry/metrics.js';
import { RequestRecorder } from './telemetry/request-recorder.js';
import { TransitionLog } from './telemetry/transitions.js';
import { createTlsProxy, type TlsProxy } from './tls/tls-server.js';

const config = loadConfig('load-balancer', loadBalancerConfigSchema);
const logger = createLogger({ service: 'load-balancer', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
// Started as root (compose): become RUN_AS with the Docker socket's group (when it reads the
// engine) before any file is touched.
const readsEngine = config.DISCOVERY !== 'static' || config.METRICS_SOURCE === 'docker';
runAsConfiguredUser(
  'load-balancer',
  logger,
  readsEngine ? dockerSocketPaths(config.DOCKER_SOCKET, config.DOCKER_HOSTS) : [],
);
// ADMIN_TOKEN_FILE (when ADMIN_TOKEN is unset): read the kept token, or generate it on first start.
try {
  config.ADMIN_TOKEN = (
    await resolveAdminToken({
      envToken: config.ADMIN_TOKEN,
      file: config.ADMIN_TOKEN_FILE,
      create: true,
      log: logger,
    })
  ).token;
} catch (err) {
  if (!(err instanceof AdminTokenError)) throw err;
  console.error(`invalid configuration for load-balancer:\n${err.message}`);
  process.exit(1);
}
const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const stats = new TrafficStats(config.STATS_HISTORY_SECONDS, Date.now());
// the replica signals (headroom_lb_replica_*): in-flight over time, and the engine's raw figures
const busy = new BusyClock();
const usage = new ReplicaUsage();
// the registry's units are created on demand (a new lb.service value); the metrics read them at scrape time
const metrics = createMetrics(
  {
    get mode() {
      return services.mode;
    },
    runtime: (now) => services.runtime(now),
  },
  Date.now,
  { busy, usage },
);
createHoldMetrics(metrics.registry, () => services.units().map((u) => u.hold));
const transitions = new TransitionLog(logger, metrics);
const recorder = new RequestRecorder(stats, metrics, busy);
// one settings object for every service's limits: the sampler keeps its host delay current
const limits = { min: config.LIMIT_MIN, max: config.LIMIT_MAX, hostDelayMs: 0 };
sampleLoopDelay(limits);
// every lb.service value gets a unit: its own balancer (pool, mode, weights, stickiness, slow
// start) and its own sleep state and hold queue
const services = new ServiceRegistry(
  (key, mode) => {
    // the service's one queue (issue #26): its requests wait here when every backend is at its
    // concurrency limit, and while it sleeps or wakes (scale to zero: held, each with its own deadline)
    const queue: Admission = new Admission(
      {
        timeoutMs: config.QUEUE_TIMEOUT_MS,
        max: config.QUEUE_MAX,
        service: displayName(key),
        hold: { timeoutMs: config.HOLD_TIMEOUT_MS, max: config.HOLD_MAX_REQUESTS },
      },
      {
        core: {
          pick: (...args) => core.pick(...args),
          hasEligible: () => core.hasEligible(),
          expectedMs: (slot, now) => core.expectedMs(slot, now),
          fastestMs: (now) => core.fastestMs(now),
        },
        // the handler is built below; these run only once requests arrive
        pickFor: (req, waiting) => handler.pickFor(core, req, waiting),
        go: (req, res, pick) => handler.dequeued(req, res, core, queue, pick),
        // held requests go once the service is awake (hold is built below; read per dispatch)
        holding: () => hold.holding,
        logger,
        registry: metrics.registry,
      },
    );
    const hold = new HoldController(
      {
        timeoutMs: config.HOLD_TIMEOUT_MS,
        htmlPage: config.HOLD_HTML_PAGE,
        wakeUrl: config.WAKE_URL ?? config.AUTOSCALER_URL,
        token: config.ADMIN_TOKEN,
        serviceName: displayName(key),
      },
      { logger, queue },
    );
    const core = createBalancer({
      mode,
      limits,
      cpuWeight: config.SCORE_CPU_WEIGHT,
      memoryWeight: config.SCORE_MEMORY_WEIGHT,
      metricsStaleMs: config.METRICS_STALE_MS,
      slowStartMs: config.SLOW_START_MS,
      latencyDecayMs: config.LATENCY_DECAY_MS,
      ejectAfterFailures: config.EJECT_AFTER_FAILURES,
      ejectCooldownMs: config.EJECT_COOLDOWN_MS,
      healthRise: config.HEALTH_RISE,
      healthFall: config.HEALTH_FALL,
      random: Math.random,
      // called synchronously from core methods, never before the first set (below) is applied
      onTransition: (t) => {
        transitions.record(t);
        // scale to zero: a backend's pass releases its service's held requests (ignored when awake)
        if (t.to === 'healthy') hold.event({ kind: 'health-pass', backend: t.name });
      },
    });
    return { key, core, hold, queue };
  },
  logger,
  config.BALANCER_MODE,
  config.LB_SERVICE ?? '',
);
const pools = new UpstreamPools({
  connections: config.MAX_CONNECTIONS_PER_BACKEND,
  connectTimeoutMs: config.CONNECT_TIMEOUT_MS,
  responseTimeoutMs: config.RESPONSE_TIMEOUT_MS,
  bodyTimeoutMs: config.BODY_TIMEOUT_MS,
  closeTimeoutMs: config.DRAIN_TIMEOUT_MS,
});
const prober = new HttpProber(
  { intervalMs: config.HEALTH_INTERVAL_MS, timeoutMs: config.HEALTH_TIMEOUT_MS },
  // the core reports the state changes this causes (healthy, unhealthy) through onTransition
  (id, ok, reason, immediate) => services.reportHealth(id, ok, Date.now(), reason, immediate),
  logger,
);
const toCore: PublishSample = (s) => {
  usage.record(s);
  services.setMetrics(s.id, s.cpu, s.mem, s.at);
};
// NODE_CPU_QUERY: every sample of a task with a node is raised to its node's load first
const resources =
  config.NODE_CPU_QUERY !== undefined && config.PROMETHEUS_URL !== undefined
    ? new NodeLoadSource((publish) => createResourceSource(config, logger, publish), toCore, {
        prometheusUrl: config.PROMETHEUS_URL,
        query: config.NODE_CPU_QUERY,
        intervalMs: config.METRICS_INTERVAL_MS,
        maxAgeMs: config.METRICS_STALE_MS,
        logger,
      })
    : createResourceSource(config, logger, toCore);

// Backends come from the configured discovery plus those registered through the admin API.
const statics = new StaticSource(config.DISCOVERY === 'static' ? config.BACKENDS : [], {
  path: config.HEALTH_PATH,
  status: config.HEALTH_STATUS,
});
if (config.DISCOVERY !== 'static' && config.BACKENDS.length > 0)
  logger.warn(
    { discovery: config.DISCOVERY, backends: config.BACKENDS },
    `BACKENDS is ignored with DISCOVERY=${config.DISCOVERY}; set DISCOVERY=static to use it, or register backends with POST /api/backends`,
  );
// scale to zero: no running replica and stopped labeled containers (or a Swarm spec at 0) = sleeping
// one engine or Swarm: every service sleeps and wakes on its own (a stopped service keeps its
// routes); with DOCKER_HOSTS the merged scan speaks for the default service, as before
function servicesScanned(scans: ReadonlyMap<string, ServiceScan>): void {
  for (const [key, scan] of scans) {
    const unit = services.declare(key, scan.routes);
    unit.hold.setIdleAfter(scan.idleAfterMs);
    unit.hold.event({ kind: 'discovered', running: scan.running, asleep: scan.stopped > 0 });
  }
}
function sleepScanned(scan: SleepScan): void {
  const hold = services.defaultUnit().hold;
  hold.setIdleAfter(scan.idleAfterMs);
  hold.event({ kind: 'discovered', running: scan.running, asleep: scan.stopped > 0 });
}
// the backends/ stage: discovery's and the static list's sets in, one diff out to every consumer
const stage = new BackendStage({
  services,
  pools,
  prober,
  resources,
  logger,
  transitions,
  onSet: (set) => recorder.learnNames(set),
  onRemoved: (id) =>
    void metrics.forgetBackend(id).then(() => {
      recorder.forget(id);
      usage.forget(id);
    }),
});
// DOCKER_HOSTS: one watch per engine, merged; otherwise the one engine of DOCKER_SOCKET/DOCKER_HOST.
const engines =
  config.DISCOVERY === 'docker' && config.DOCKER_HOSTS.length > 0
    ? new MultiEngineSource(
        config.DOCKER_HOSTS.map((h) => parseEngineAddress(h)),
        config,
        logger,
        metrics.registry,
        sleepScanned,
        stage.containerStopping,
      )
    : undefined;
const discovered: BackendSource | undefined =
  engines ??
  (config.DISCOVERY === 'docker'
    ? createDockerSource(config, logger, undefined, {
        onServiceScans: servicesScanned,
        onStopping: stage.containerStopping,
      })
    : config.DISCOVERY === 'swarm'
      ? createSwarmSource(config, logger, undefined, servicesScanned)
      : undefined);
// DELETE /api/backends/:id of a static backend: drained, then removed
const drains = new StaticDrain({
  spec: (id) => stage.spec(id),
  isStatic: (id) => statics.has(id),
  removeStatic: (id) => statics.remove(id),
  services,
  transitions,
  cut: (id, why) => void pools.cut(id, why),
  drainTimeoutMs: config.DRAIN_TIMEOUT_MS,
});

let shuttingDown = false;
const handler = new ProxyHandler({
  services,
  accessLog: config.ACCESS_LOG === 'off' ? undefined : new AccessLog(config.ACCESS_LOG),
  pools,
  recorder,
  logger,
  retries: config.RETRIES,
  clientIdleMs: config.CLIENT_IDLE_TIMEOUT_MS,
  tunnel: { connectTimeoutMs: config.CONNECT_TIMEOUT_MS, responseTimeoutMs: config.RESPONSE_TIMEOUT_MS },
  trustedProxies: new TrustedProxies(config.TRUSTED_PROXIES),
  tlsRedirectPort: config.TLS_REDIRECT_PORT,
});
const proxyServer = createProxyServer(handler, { headersTimeoutMs: config.CLIENT_HEADER_TIMEOUT_MS });
let proxyPort = config.PORT;
// TLS_PORT: a second listener on the same handler, certificates from TLS_CERT_DIR
let tls: TlsProxy | undefined;
if (config.TLS_PORT !== undefined && config.TLS_CERT_DIR !== undefined) {
  try {
    tls = await createTlsProxy(
      config.TLS_CERT_DIR,
      handler,
      { headersTimeoutMs: config.CLIENT_HEADER_TIMEOUT_MS },
      logger,
      metrics.registry,
    );
  } catch (err) {
    console.error(`invalid configuration for load-balancer:\n${(err as Error).message}`);
    process.exit(1);
  }
}

const ctx: AdminContext = {
  config,
  logger,
  core: services,
  stats,
  metrics,
  version,
  views: () => backendViews(services.runtime(Date.now()), (id) => stats.backendRps(id)),
  spec: (id) => stage.spec(id),
  register: (reg) => statics.add(reg),
  remove: (id) => drains.remove(id),
  proxyUrl: () => `http://127.0.0.1:${proxyPort}`,
  shuttingDown: () => shuttingDown,
  events: transitions,
  engines: engines ? () => engines.engines() : undefined,
  // calls that name no service (an autoscaler of one service) mean the default one
  service: {
    view: () => services.defaultUnit().hold.view(),
    event: (e) => services.defaultUnit().hold.event(e),
  },
  queue: { view: () => services.defaultUnit().queue.view() },
  services,
};
const admin = await createAdminServer(ctx);

const ticker = setInterval(() => {
  const now = Date.now();
  stats.tick(
    now,
    services.mode,
    services
      .runtime(now)
      .map((r) => ({ id: r.spec.id, name: r.spec.name, cpu: r.cpu, effectiveWeight: r.effectiveWeight })),
  );
  // slow-start windows that ended: reported within 250 ms (the core has no clock of its own)
  for (const u of services.units()) u.core.tick(now);
}, 250);
ticker.unref();

await statics.start(stage.publishStatic);
if (discovered) await discovered.start(stage.publishDiscovered);

try {
  await new Promise<void>((resolve, reject) => {
    proxyServer.once('error', reject);
    proxyServer.listen(config.PORT, config.HOST, () => resolve());
  });
  proxyPort = (proxyServer.address() as AddressInfo).port;
  const tlsServer = tls?.server;
  if (tlsServer)
    await new Promise<void>((resolve, reject) => {
      tlsServer.once('error', reject);
      tlsServer.listen(config.TLS_PORT, config.HOST, () => resolve());
    });
  const adminHost = adminBindHost(config);
  const adminAddress = await admin.listen({ port: config.ADMIN_PORT, host: adminHost });
  logger.info(
    {
      proxy: `http://${config.HOST}:${proxyPort}`,
      ...(tlsServer
        ? {
            tls: `https://${config.HOST}:${(tlsServer.address() as AddressInfo).port}`,
            certificates: tls?.store.current.entries.length,
          }
        : {}),
      admin: adminAddress,
      mode: services.mode,
      discovery: config.DISCOVERY,
    },
    'load balancer listening',
  );
  if (config.ADMIN_TOKEN === undefined)
    logger.warn(
      { admin: adminAddress, adminHost },
      `no ADMIN_TOKEN: the admin API listens on ${adminHost} only and changes need no token; set ADMIN_TOKEN (and ADMIN_HOST or HOST) to open it to the network`,
    );
} catch (err) {
  logger.fatal({ err }, 'could not start');
  process.exit(1);
}

async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ signal, inFlight: handler.active }, 'shutting down: finishing in-flight requests');
  const force = setTimeout(() => {
    logger.warn({ inFlight: handler.active }, 'grace period over: exiting with requests in flight');
    process.exit(1);
  }, config.SHUTDOWN_GRACE_MS);
  force.unref();
  // stop accepting; idle keep-alive connections close now, busy ones after their response
  proxyServer.close();
  proxyServer.closeIdleConnections();
  tls?.server.close();
  tls?.server.closeIdleConnections();
  tls?.store.stop();
  // Held requests (a sleeping service) get their 503 now: no wake is coming. Requests waiting at
  // the limits were accepted like those in flight: they keep going to backends as these free up,
  // each within its own QUEUE_TIMEOUT_MS, and the grace period bounds the whole
  // (chaos-balancer-stop.test.ts).
  for (const u of services.units()) u.hold.stop();
  drains.stop();
  await handler.idle();
  await Promise.allSettled([
    admin.close(),
    discovered?.stop(),
    statics.stop(),
    resources.stop(),
    prober.stop(),
  ]);
  await pools.closeAll();
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
