// Scenario: scale to zero and back (issue #19), on the parts a user runs. The balancer holds a
// request for a sleeping service and asks the autoscaler to wake it; the autoscaler starts the
// kept container (docker runtime) or a new process (local runtime); the held request is served
// when the first replica passes its first health check. Measured, per runtime:
//   - cold start: time from sending the first request to the sleeping service until its
//     response headers arrive (fetch resolves there), several sleeps and wakes in a row;
//   - a burst: 50 clients arriving at once at a sleeping service: how many succeed, the slowest;
// and, once, the warm path: two balancers over the same trivial backend, one with hold-and-wake
// configured (WAKE_URL) and one without, taking turns under autocannon: req/s and p50.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LB_LABELS } from '@headroom/shared';
import { dockerSdScrapeConfig, type ServiceProcess, spawnService, startPrometheus } from '@headroom/testkit';
import autocannon from 'autocannon';
import { median } from '../lib/load.js';
import {
  ensureBackendImage,
  freePort,
  type Lb,
  repoRoot,
  startHeadroom,
  startTrivialBackend,
  waitFor,
} from '../lib/procs.js';

const IDLE_MS = 2000;
const BURST = 50;

export interface WakeRuntimeResult {
  runtime: 'docker' | 'local';
  /** ms from the first request to its response headers, one per wake. */
  coldStartsMs: number[];
  coldFailed: number;
  burst: { clients: number; ok: number; failed: number; slowestMs: number; replicasAfter: number };
}

export interface ScaleToZeroResult {
  runs: number;
  idleAfterMs: number;
  runtimes: WakeRuntimeResult[];
  warm: {
    runs: number;
    seconds: number;
    connections: number;
    off: { rps: number; p50: number };
    on: { rps: number; p50: number };
    rpsRatio: number;
    p50AddedMs: number;
  };
  notMeasured: string[];
}

async function serviceState(admin: string): Promise<{ state: string; held: number; backends: number }> {
  const body = (await (await fetch(`${admin}/api/backends`)).json()) as {
    backends: unknown[];
    service?: { state: string; held: number };
  };
  return {
    state: body.service?.state ?? 'unknown',
    held: body.service?.held ?? 0,
    backends: body.backends.length,
  };
}

async function untilSleeping(admin: string): Promise<void> {
  await waitFor(async () => (await serviceState(admin)).state === 'sleeping', {
    timeoutMs: 60_000,
    intervalMs: 100,
    message: 'service asleep',
  });
}

async function timedGet(url: string): Promise<{ ok: boolean; ms: number; detail?: string }> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    const ms = performance.now() - t0;
    const body = await res.text();
    return res.ok ? { ok: true, ms } : { ok: false, ms, detail: `${res.status} ${body.slice(0, 200)}` };
  } catch (err) {
    return { ok: false, ms: performance.now() - t0, detail: (err as Error).message };
  }
}

async function measureWakes(
  runtime: WakeRuntimeResult['runtime'],
  lb: Lb,
  runs: number,
  replicas: () => Promise<number> | number,
): Promise<WakeRuntimeResult> {
  const coldStartsMs: number[] = [];
  let coldFailed = 0;
  for (let i = 0; i < runs; i++) {
    await untilSleeping(lb.admin);
    const r = await timedGet(`${lb.proxy}/load?ms=1`);
    if (r.ok) coldStartsMs.push(r.ms);
    else coldFailed++;
    process.stdout.write(
      `  ${runtime} wake ${i + 1}: ${r.ok ? `${r.ms.toFixed(0)} ms` : `FAILED after ${r.ms.toFixed(0)} ms: ${r.detail}`}\n`,
    );
  }
  await untilSleeping(lb.admin);
  const results = await Promise.all(Array.from({ length: BURST }, () => timedGet(`${lb.proxy}/load?ms=1`)));
  const ok = results.filter((r) => r.ok).length;
  const burst = {
    clients: BURST,
    ok,
    failed: BURST - ok,
    slowestMs: Math.max(...results.map((r) => r.ms)),
    replicasAfter: await replicas(),
  };
  process.stdout.write(`  ${runtime} burst: ${ok}/${BURST} ok, slowest ${burst.slowestMs.toFixed(0)} ms\n`);
  return { runtime, coldStartsMs, coldFailed, burst };
}

function removeServiceContainers(service: string): void {
  const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=${LB_LABELS.service}=${service}`])
    .toString()
    .split('\n')
    .filter(Boolean);
  if (ids.length > 0) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
}

function runningContainers(service: string): number {
  return execFileSync('docker', ['ps', '-q', '--filter', `label=${LB_LABELS.service}=${service}`])
    .toString()
    .split('\n')
    .filter(Boolean).length;
}

/** The autoscaler settings both runtimes share: scale to zero after IDLE_MS, up to 4 replicas. */
function sleepyScaler(port: number, lb: Lb): Record<string, string> {
  return {
    MIN_REPLICAS: '0',
    MAX_REPLICAS: '4',
    SCALE_TO_ZERO_AFTER_MS: String(IDLE_MS),
    INTERVAL_MS: '1000',
    ADMIN_PORT: String(port),
    HOST: '127.0.0.1',
    LB_ADMIN_URL: lb.admin,
  };
}

async function dockerRuntime(runs: number): Promise<WakeRuntimeResult> {
  const service = `bench-s2z-${process.pid}`;
  ensureBackendImage();
  removeServiceContainers(service);
  const rules = readFileSync(join(repoRoot, 'prometheus', 'rules', 'headroom.rules.yml'), 'utf8');
  const prom = await startPrometheus({
    scrapeConfigsYaml: dockerSdScrapeConfig(service, 5),
    rules: [rules],
    scrapeIntervalSeconds: 5,
  });
  const scalerPort = await freePort();
  const lb = await startHeadroom({
    DISCOVERY: 'docker',
    LB_SERVICE: service,
    DOCKER_ADDRESS: 'network',
    METRICS_SOURCE: 'none',
    WAKE_URL: `http://127.0.0.1:${scalerPort}`,
  });
  let scaler: ServiceProcess | undefined;
  try {
    scaler = spawnService('autoscaler', {
      RUNTIME: 'docker',
      SERVICE: service,
      PROMETHEUS_URL: prom.url,
      ...sleepyScaler(scalerPort, lb),
      STOP_GRACE_SECONDS: '2',
      // nothing runs yet: the first wake creates the replica from these (not timed), and every
      // sleep after it keeps that container stopped for the next wake to start
      REPLICA_IMAGE: 'headroom/backend:latest',
      REPLICA_NETWORK: 'bridge',
      REPLICA_CPUS: '1',
      REPLICA_MEMORY_MB: '256',
      CLEANUP_ON_EXIT: 'true',
    });
    await untilSleeping(lb.admin);
    const created = await timedGet(`${lb.proxy}/load?ms=1`);
    process.stdout.write(
      `  docker first wake (creates the container): ${created.ok ? `${created.ms.toFixed(0)} ms` : `FAILED: ${created.detail}`}\n`,
    );
    return await measureWakes('docker', lb, runs, () => runningContainers(service));
  } finally {
    await scaler?.stop();
    await lb.stop();
    await prom.stop();
    removeServiceContainers(service);
  }
}

async function localRuntime(runs: number): Promise<WakeRuntimeResult> {
  const scalerPort = await freePort();
  const lb = await startHeadroom({
    DISCOVERY: 'static',
    BACKENDS: '',
    METRICS_SOURCE: 'none',
    WAKE_URL: `http://127.0.0.1:${scalerPort}`,
  });
  let scaler: ServiceProcess | undefined;
  try {
    scaler = spawnService('autoscaler', {
      RUNTIME: 'local',
      ...sleepyScaler(scalerPort, lb),
    });
    return await measureWakes('local', lb, runs, async () => (await serviceState(lb.admin)).backends);
  } finally {
    await scaler?.stop();
    await lb.stop();
  }
}

async function warmPath(
  runs: number,
  seconds: number,
  connections: number,
): Promise<ScaleToZeroResult['warm']> {
  const backend = await startTrivialBackend();
  const off = await startHeadroom({ DISCOVERY: 'static', BACKENDS: backend.url, METRICS_SOURCE: 'none' });
  // the feature on: hold-and-wake configured (the wake target is never called while awake)
  const on = await startHeadroom({
    DISCOVERY: 'static',
    BACKENDS: backend.url,
    METRICS_SOURCE: 'none',
    WAKE_URL: 'http://127.0.0.1:9',
  });
  const rows: Record<'off' | 'on', { rps: number[]; p50: number[] }> = {
    off: { rps: [], p50: [] },
    on: { rps: [], p50: [] },
  };
  try {
    for (const lb of [off, on]) await autocannon({ url: lb.proxy, connections, duration: 2 }); // warm up
    for (let i = 0; i < runs; i++) {
      // alternate the order so neither always runs second
      const order = i % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
      for (const which of order) {
        const lb = which === 'off' ? off : on;
        const r = await autocannon({ url: lb.proxy, connections, duration: seconds });
        rows[which].rps.push(r.requests.average);
        rows[which].p50.push(r.latency.p50);
      }
    }
  } finally {
    await off.stop();
    await on.stop();
    backend.stop();
  }
  const m = (w: 'off' | 'on') => ({ rps: median(rows[w].rps), p50: median(rows[w].p50) });
  const [mo, mn] = [m('off'), m('on')];
  return {
    runs,
    seconds,
    connections,
    off: mo,
    on: mn,
    rpsRatio: mn.rps / mo.rps,
    p50AddedMs: mn.p50 - mo.p50,
  };
}

export async function scaleToZero(runs: number): Promise<ScaleToZeroResult> {
  const runtimes: WakeRuntimeResult[] = [];
  runtimes.push(await dockerRuntime(runs));
  runtimes.push(await localRuntime(runs));
  const warm = await warmPath(Math.max(5, runs), 5, 50);
  return {
    runs,
    idleAfterMs: IDLE_MS,
    runtimes,
    warm,
    notMeasured: [
      'the Swarm runtime (the engine here is not a Swarm manager; the multi-node tests cover a Swarm at 0 replicas only through table tests)',
    ],
  };
}
