// The autoscaler process over two standalone engines (each its own dockerd in a network
// namespace, its containers pinned to its own core, reached over tcp:// like two hosts), with
// the balancer process and Prometheus (the config `node prometheus/engines.mjs` generates) over
// the same two engines. Engine b runs a real CPU hog: a container with NO CPU limit burning its
// core, so it books nothing and only the measured CPU use shows b is busy. Under load through
// the balancer the autoscaler scales out with real CPU metrics: more new replicas go to a than
// to b, each new replica serves traffic through the balancer and is scraped by Prometheus under
// its replica label. Then engine b is killed: the autoscaler reports it unreachable and scales
// back up to its count on engine a.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  autoscalerStatusSchema,
  backendListSchema,
  decisionListSchema,
  LB_LABELS,
  OWNER_LABELS,
} from '@headroom/shared';
import {
  type EngineCluster,
  freePort,
  type RunningAutoscaler,
  type RunningBalancer,
  type RunningPrometheus,
  runBackendReplica,
  startAutoscaler,
  startBalancer,
  startEngines,
  startPrometheus,
  testRunId,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoPath } from '../../src/repo-files.js';

const IMAGE = 'headroom/backend:latest';
const SERVICE = 'mna-web';
const MAX = 5;
type ClusterEngine = EngineCluster['engines'][number];
let cluster: EngineCluster;
let a: ClusterEngine;
let b: ClusterEngine;
let lb: RunningBalancer | undefined;
let scaler: RunningAutoscaler | undefined;
let prom: RunningPrometheus | undefined;
let proxy = '';
let admin = '';
let scalerAdmin = '';
let promUrl = '';

// Load through the balancer: a few concurrent loops of CPU-bound requests, stopped by the test.
let loading = false;
let ok = 0;
const failures: string[] = [];
let loops: Promise<void>[] = [];
function startLoad(concurrency: number): void {
  loading = true;
  loops = Array.from({ length: concurrency }, async () => {
    while (loading) {
      try {
        const res = await fetch(`${proxy}/load?ms=20`, { signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        if (res.ok) ok++;
        else failures.push(`HTTP ${res.status}`);
      } catch (err) {
        failures.push((err as Error).message);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
}
async function stopLoad(): Promise<void> {
  loading = false;
  await Promise.all(loops);
}

/** The SERVICE's running replicas on one engine, by name, and which the autoscaler created. */
function replicasOn(engine: ClusterEngine): { name: string; owned: boolean }[] {
  const out = engine.docker(
    'ps',
    '--filter',
    `label=${LB_LABELS.service}=${SERVICE}`,
    '--format',
    `{{.Names}}\t{{.Label "${OWNER_LABELS.managedBy}"}}`,
  );
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [name, managedBy] = l.split('\t');
      return { name: name!, owned: Boolean(managedBy) };
    });
}

async function backends() {
  return backendListSchema.parse(await (await fetch(`${admin}/api/backends`)).json());
}
async function status() {
  return autoscalerStatusSchema.parse(await (await fetch(`${scalerAdmin}/api/status`)).json());
}
async function decisions() {
  return decisionListSchema.parse(await (await fetch(`${scalerAdmin}/api/decisions?limit=1000`)).json())
    .decisions;
}
async function promQuery(promql: string) {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  return (
    (await res.json()) as {
      data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    }
  ).data.result;
}

beforeAll(async () => {
  cluster = await startEngines({ count: 2, images: [IMAGE], cpusets: ['0', '1'] });
  [a, b] = cluster.engines as [ClusterEngine, ClusterEngine];
  // The template replica, on engine a: what every new replica copies (image, limits, labels, port).
  runBackendReplica({ run: testRunId('mna'), service: SERVICE, name: `${SERVICE}-tmpl`, docker: a.docker });
  // The real CPU hog on engine b: no CPU limit (books nothing), burns the core b's cpuset has.
  b.docker('run', '-d', '--name', 'hog', '--entrypoint', 'node', IMAGE, '-e', 'for (;;) {}');

  const [port, adminPort] = [await freePort(), await freePort()];
  const hosts = `${a.tcpHost},${b.tcpHost}`;

  prom = await startPrometheus({
    config: (dir) => {
      const gen = spawnSync(
        process.execPath,
        [repoPath('prometheus/engines.mjs'), hosts, '--balancer', `127.0.0.1:${adminPort}`],
        { encoding: 'utf8' },
      );
      if (gen.status !== 0) throw new Error(`engines.mjs: ${gen.stderr}`);
      mkdirSync(join(dir, 'rules'));
      copyFileSync(repoPath('prometheus/rules/headroom.rules.yml'), join(dir, 'rules/headroom.rules.yml'));
      return gen.stdout;
    },
  });
  promUrl = prom.url;

  lb = await startBalancer(
    {
      DISCOVERY: 'docker',
      DOCKER_HOSTS: hosts,
      LB_SERVICE: SERVICE,
      HEALTH_INTERVAL_MS: '500',
      SLOW_START_MS: '0',
    },
    { port, adminPort },
  );
  proxy = lb.proxy;
  admin = lb.admin;
  await waitFor(async () => (await backends()).backends.some((x) => x.state === 'healthy'), {
    timeoutMs: 30_000,
    message: 'template healthy at the balancer',
  });
  // the template's CPU series exists before the autoscaler starts: it decides on real metrics
  await waitFor(
    async () =>
      (await promQuery(`headroom:replica_cpu_utilization:ratio{service="${SERVICE}"}`).catch(() => []))
        .length === 1,
    { timeoutMs: 60_000, intervalMs: 1000, message: "the template's CPU series in Prometheus" },
  );

  scaler = await startAutoscaler({
    RUNTIME: 'docker',
    DOCKER_HOSTS: hosts,
    SERVICE,
    PROMETHEUS_URL: promUrl,
    MIN_REPLICAS: '1',
    MAX_REPLICAS: String(MAX),
    TARGET_CPU_UTILIZATION: '0.5',
    INTERVAL_MS: '1000',
    SCALE_UP_WINDOW_MS: '0',
    // no scale-in while the test runs: it is about where replicas go, not when they leave
    SCALE_DOWN_WINDOW_MS: '600000',
    METRICS_MAX_AGE_MS: '30000',
    LB_ADMIN_URL: admin,
    STOP_GRACE_SECONDS: '1',
    LOG_LEVEL: 'info',
  });
  scalerAdmin = scaler.admin;
}, 400_000);

afterAll(async () => {
  loading = false;
  await Promise.all(loops);
  await scaler?.stop();
  await lb?.stop();
  await prom?.stop();
  cluster?.stop();
}, 120_000);

describe('the autoscaler process over two engines, one busy with an unlimited CPU hog', () => {
  it('scales out under load: more new replicas on the idle engine, each served and scraped', async () => {
    startLoad(6);
    await waitFor(async () => (await status()).current === MAX, {
      timeoutMs: 180_000,
      intervalMs: 1000,
      message: `scale out to ${MAX} (${scaler?.output().slice(-1500)})`,
    });
    const onA = replicasOn(a).filter((r) => r.owned);
    const onB = replicasOn(b).filter((r) => r.owned);
    process.stdout.write(
      `new replicas: a=${onA.map((r) => r.name).join(',')} b=${onB.map((r) => r.name).join(',')}\n`,
    );
    expect(onA.length + onB.length).toBe(MAX - 1);
    // booked limits alone would send the first one to b (a has the template's 0.25 booked)
    expect(onA.length).toBeGreaterThan(onB.length);

    const created = [...onA, ...onB].map((r) => r.name);
    // each new replica serves traffic through the balancer
    await waitFor(
      async () => {
        const list = await backends();
        return created.every((n) => (list.backends.find((x) => x.name === n)?.requests ?? 0) > 0);
      },
      { timeoutMs: 60_000, intervalMs: 500, message: 'every new replica served requests' },
    );
    // and is scraped by Prometheus under its replica label, on its engine's job
    const up = await waitFor(
      async () => {
        const r = await promQuery(`up{service="${SERVICE}"} == 1`).catch(() => []);
        const names = new Set(r.map((x) => x.metric.replica));
        return created.every((n) => names.has(n)) ? r : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000, message: 'every new replica scraped' },
    );
    for (const r of onB) expect(up.find((x) => x.metric.replica === r.name)?.metric.engine).toBe(b.tcpHost);
    for (const r of onA) expect(up.find((x) => x.metric.replica === r.name)?.metric.engine).toBe(a.tcpHost);
  });

  it('engine b killed: reported unreachable, and scaling continues on engine a', async () => {
    const lostOnB = replicasOn(b).length;
    const failedBefore = failures.length;
    const okBefore = ok;
    const killedAt = Date.now();
    b.kill();
    // the autoscaler sees fewer replicas and creates them again, on a (the only engine that answers)
    await waitFor(async () => replicasOn(a).length === MAX, {
      timeoutMs: 180_000,
      intervalMs: 1000,
      message: `back to ${MAX} on engine a (${scaler?.output().slice(-1500)})`,
    });
    await waitFor(async () => (await status()).current === MAX, { timeoutMs: 30_000, intervalMs: 500 });
    const after = (await decisions()).filter((d) => Date.parse(d.at) >= killedAt);
    const ups = after.filter((d) => d.desired > d.current);
    process.stdout.write(
      `after the kill: ${lostOnB} replicas lost on b; decisions ${after
        .map((d) => `${d.current}->${d.desired} ${d.reason}`)
        .join(' | ')}\n`,
    );
    expect(ups.length).toBeGreaterThan(0);
    // logged once when b went: its replicas are not counted and placement skips it
    const gone = (scaler?.output() ?? '').split('\n').find((l) => l.includes('engine unreachable'));
    expect(gone).toContain(b.tcpHost);
    // all healthy backends now live on engine a
    await waitFor(
      async () => {
        const healthy = (await backends()).backends.filter((x) => x.state === 'healthy');
        return healthy.length === MAX && healthy.every((x) => new URL(x.url).hostname === a.address);
      },
      { timeoutMs: 60_000, intervalMs: 500, message: 'every healthy backend on engine a' },
    );
    const okAfterRecovery = ok;
    await waitFor(async () => ok > okAfterRecovery + 20, { timeoutMs: 30_000 });
    const failedAfterRecovery = failures.length;
    const okEnd = ok;
    await new Promise((r) => setTimeout(r, 3000));
    await stopLoad();
    process.stdout.write(
      `requests while b was killed and replaced: ${ok - okBefore} ok, ${failedAfterRecovery - failedBefore} failed (${[
        ...new Set(failures.slice(failedBefore)),
      ].join('; ')}); after recovery: ${ok - okEnd} ok, ${failures.length - failedAfterRecovery} failed\n`,
    );
    // once every backend is on a, nothing fails
    expect(failures.length - failedAfterRecovery).toBe(0);
    expect(ok - okEnd).toBeGreaterThan(0);
  });
});
