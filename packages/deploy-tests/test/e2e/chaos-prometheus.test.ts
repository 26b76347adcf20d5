// Chaos: Prometheus stopped under load. The real stack on the real engine: the stress backend
// container, the balancer discovering it, a real Prometheus scraping it (Docker service
// discovery) and evaluating the project's recording rules, and the autoscaler reading them.
// Load scales the service out to 2; then Prometheus is stopped (SIGTERM) with the load going on.
// For the whole outage (15 s here, not the 60: the autoscaler's behaviour is the same
// from its first failed query, and each further second only adds test time) the autoscaler holds
// the 2 and says why (HoldMissingData, "unreachable", one warning), where missing data read as
// no load would drop to 1 at once (SCALE_DOWN_WINDOW_MS=0). When Prometheus is back on the same
// port it reads the metrics again and acts on them: the load stopped, it scales in. No request
// fails meanwhile: Prometheus is not on the request path.
import { readFileSync } from 'node:fs';
import {
  type AutoscalerStatus,
  autoscalerStatusSchema,
  decisionListSchema,
  LB_LABELS,
  OWNER_LABELS,
} from '@headroom/shared';
import {
  dockerSdScrapeConfig,
  hostDocker,
  lbLabels,
  type RunningPrometheus,
  removeLabelled,
  removeRun,
  requireDocker,
  runLabelled,
  type ServiceProcess,
  startAutoscaler,
  startBalancer,
  startPrometheus,
  testRunId,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoPath } from '../../src/repo-files.js';

const IMAGE = 'headroom/backend:latest';
const run = testRunId('chaos-prom');
const SERVICE = `${run}-web`;
const OUTAGE_MS = 15_000;

let prom: RunningPrometheus | undefined;
let lb: ServiceProcess | undefined;
let scaler: ServiceProcess | undefined;
let proxy = '';
let scalerUrl = '';

const running = () =>
  hostDocker('ps', '-q', '--filter', `label=${LB_LABELS.service}=${SERVICE}`, '--filter', 'status=running')
    .split('\n')
    .filter(Boolean).length;

async function status(): Promise<AutoscalerStatus> {
  return autoscalerStatusSchema.parse(await (await fetch(`${scalerUrl}/api/status`)).json());
}

/** Load through the balancer, each worker pausing `pauseMs` between requests; every failure counted. */
function loadWorkers(n: number, ms: number, pauseMs: number) {
  let on = true;
  let ok = 0;
  const t0 = Date.now();
  const failures: string[] = [];
  const worker = async () => {
    while (on) {
      try {
        const res = await fetch(`${proxy}/load?ms=${ms}`);
        if (res.ok) {
          await res.arrayBuffer();
          ok++;
        } else
          failures.push(
            `status ${res.status} at +${Date.now() - t0} ms: ${(await res.text()).slice(0, 200)}`,
          );
      } catch (err) {
        failures.push((err as Error).message);
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  };
  const done = Promise.all(Array.from({ length: n }, worker));
  return {
    failures,
    ok: () => ok,
    stop: async () => {
      on = false;
      await done;
    },
  };
}

beforeAll(async () => {
  requireDocker();
  hostDocker('image', 'inspect', IMAGE);
  runLabelled({
    run,
    name: `${SERVICE}-tmpl`,
    image: IMAGE,
    labels: lbLabels(SERVICE),
    // the balancer runs on the host: it reaches a replica at a published port
    publish: ['127.0.0.1::3000'],
    flags: ['--cpus', '0.5'],
  });
  prom = await startPrometheus({
    scrapeConfigsYaml: dockerSdScrapeConfig(SERVICE),
    rules: [readFileSync(repoPath('prometheus/rules/headroom.rules.yml'), 'utf8')],
  });
  const balancer = await startBalancer({
    DISCOVERY: 'docker',
    LB_SERVICE: SERVICE,
    HEALTH_INTERVAL_MS: '500',
    // not what this test is about: a CPU-capped replica on a busy 2-core machine may answer a
    // health check late while it works, which is no reason to take the only one out
    HEALTH_TIMEOUT_MS: '3000',
    HEALTH_FALL: '3',
    LOG_LEVEL: 'info',
  });
  lb = balancer;
  proxy = balancer.proxy;
  const autoscaler = await startAutoscaler({
    LOG_LEVEL: 'info',
    RUNTIME: 'docker',
    SERVICE,
    PROMETHEUS_URL: prom.url,
    LB_ADMIN_URL: balancer.admin,
    MIN_REPLICAS: '1',
    MAX_REPLICAS: '2',
    TARGET_CPU_UTILIZATION: '0.5',
    INTERVAL_MS: '500',
    SCALE_DOWN_WINDOW_MS: '0',
    // other tests' containers book this shared engine's CPU: this test is not about capacity
    CPU_OVERCOMMIT: '16',
    STOP_GRACE_SECONDS: '1',
  });
  scaler = autoscaler;
  scalerUrl = autoscaler.admin;
  // the autoscaler reads a real CPU figure for the one replica before anything is stopped
  await waitFor(
    async () => {
      if (scaler?.child.exitCode !== null) throw new Error(`autoscaler exited: ${scaler?.output()}`);
      const s = await status();
      return s.lastMetrics[0]?.value !== null && s.lastMetrics[0]?.value !== undefined && s.current === 1;
    },
    { timeoutMs: 60_000, intervalMs: 250, message: 'the autoscaler reads CPU from Prometheus' },
  );
  await waitFor(async () => (await fetch(`${proxy}/load?ms=1`)).ok, {
    timeoutMs: 20_000,
    message: `the balancer serves the replica\n${lb?.output().slice(-2000)}`,
  });
}, 120_000);

afterAll(async () => {
  await scaler?.stop();
  await lb?.stop();
  await prom?.stop();
  removeRun(run);
  removeLabelled(OWNER_LABELS.service, SERVICE);
});

describe('chaos: Prometheus stopped under load', () => {
  it('holds the count while Prometheus is gone and says why; acts on the metrics again once it is back', async () => {
    if (!prom || !scaler) throw new Error('set-up failed');
    const as = scaler;
    // the replica's CPU limit is 0.5: two workers asking 20 ms of CPU every ~60 ms want ~0.7 of
    // a core, above the 0.5 target, with at most two requests queued (its health checks still pass)
    const workers = loadWorkers(2, 20, 20);
    let backAt = 0;
    try {
      await waitFor(
        async () => {
          const s = await status();
          return s.current === 2 && s.ready === 2;
        },
        {
          timeoutMs: 45_000,
          intervalMs: 250,
          message: `scale-out to 2 under load\n${as.output().slice(-1500)}`,
        },
      );
      await prom.halt();
      const haltedAt = Date.now();
      // With SCALE_DOWN_WINDOW_MS=0 a missing metric read as no load would drop to 1 at once.
      const seen: AutoscalerStatus[] = [];
      while (Date.now() - haltedAt < OUTAGE_MS) {
        const s = await status();
        // the first tick after the stop may still have started before it
        if (s.loop?.lastTickAt && Date.parse(s.loop.lastTickAt) > haltedAt + 1_000) seen.push(s);
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(seen.length).toBeGreaterThan(10);
      for (const s of seen) {
        expect(s).toMatchObject({ current: 2, desired: 2, holdReason: 'HoldMissingData' });
        expect(s.lastDecision?.reason).toBe('HoldMissingData');
        expect(s.lastDecision?.message).toContain('unreachable');
      }
      expect(running()).toBe(2);
      const warned = as
        .output()
        .split('\n')
        .filter((l) => l.includes('metrics unavailable'));
      expect(warned).toHaveLength(1);
      expect(warned[0]).toContain(`prometheus unreachable at ${prom.url}`);

      await prom.restart();
      backAt = Date.now();
      await waitFor(
        async () => {
          const s = await status();
          return s.holdReason === null && s.lastMetrics[0]?.value !== null;
        },
        { timeoutMs: 30_000, intervalMs: 250, message: 'metrics read again after the return' },
      );
      expect(as.output()).toContain('metrics available again');
    } finally {
      await workers.stop();
    }
    expect(workers.failures).toEqual([]);
    expect(workers.ok()).toBeGreaterThan(50);
    // and it acts on them: the load is gone, so it scales in (window 0)
    await waitFor(async () => (await status()).current === 1, {
      timeoutMs: 45_000,
      intervalMs: 250,
      message: `scale-in once the load stopped\n${as.output().slice(-1500)}`,
    });
    const decisions = decisionListSchema.parse(
      await (await fetch(`${scalerUrl}/api/decisions`)).json(),
    ).decisions;
    const down = decisions.find((d) => d.reason === 'ScaleDown' && Date.parse(d.at) >= backAt);
    expect(down?.metrics[0]?.value).toBeLessThan(0.5);
  });
});
