// Autoscale any app from labels (issue #25, "done when"): an app container that exports no
// metrics at all (its /metrics answers 404), labelled autoscale.enable/min/max and a concurrency
// target, is scaled out under load through the real balancer with no Prometheus: the autoscaler
// reads the balancer's own view (in-flight per replica). Each new replica serves through the
// balancer. A second labelled service on the same engine keeps its own count throughout, and a
// third with a malformed label is ConfigInvalid (named in /api/decisions) without stopping the
// others. Real engine, real balancer, real autoscaler (the built services), no SERVICE set.
import { autoscalerStatusSchema, backendListSchema, decisionListSchema } from '@headroom/shared';
import {
  dockerBalancerEnv,
  ensureBaseImage,
  type RunningAutoscaler,
  type RunningBalancer,
  removeRun,
  removeServiceContainers,
  requireDocker,
  runAnyApp,
  runningReplicas,
  startAutoscaler,
  startBalancer,
  testRunId,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = testRunId('as-lbl');
const APP = `${run}-app`;
const OTHER = `${run}-other`;
const BROKEN = `${run}-broken`;

let lb: RunningBalancer;
let scaler: RunningAutoscaler;

const owned = async (service: string) => (await runningReplicas(service)).filter((c) => c.owned);

beforeAll(async () => {
  requireDocker();
  ensureBaseImage();
  runAnyApp({
    run,
    service: APP,
    autoscale: { 'autoscale.min': '1', 'autoscale.max': '3', 'autoscale.target.concurrency': '2' },
  });
  runAnyApp({
    run,
    service: OTHER,
    autoscale: { 'autoscale.min': '1', 'autoscale.max': '2', 'autoscale.target.concurrency': '2' },
  });
  runAnyApp({ run, service: BROKEN, autoscale: { 'autoscale.max': 'many' } });
  // The balancer in front of the app (one service per balancer until routes land: issue #24).
  lb = await startBalancer(dockerBalancerEnv(APP, { METRICS_SOURCE: 'none' }));
  scaler = await startAutoscaler({
    RUNTIME: 'docker',
    SERVICE: undefined,
    PROMETHEUS_URL: undefined,
    LB_ADMIN_URL: lb.admin,
    // other tests' containers book this shared engine's CPU at the same time: not about capacity
    CPU_OVERCOMMIT: '16',
    INTERVAL_MS: '1000',
    SCALE_DOWN_WINDOW_MS: '600000',
    DRAIN_TIMEOUT_MS: '2000',
    STOP_GRACE_SECONDS: '1',
    LOG_LEVEL: 'info',
  });
}, 120_000);

afterAll(async () => {
  await scaler?.stop();
  await lb?.stop();
  removeRun(run);
  for (const service of [APP, OTHER, BROKEN]) removeServiceContainers(service);
});

describe('many services from labels, no Prometheus, an app with no metrics', () => {
  it('scales the app out on the concurrency the balancer measures; every new replica serves; the others keep their counts', async () => {
    // the app's /metrics is a 404: nothing but the balancer can tell its load
    const probe = await fetch(`${lb.proxy}/metrics`);
    expect(probe.status).toBe(404);
    await probe.arrayBuffer();

    // 8 clients, 300 ms a request: ~8 in flight on one replica, against a target of 2
    let loading = true;
    const served = new Set<string>();
    const failures: string[] = [];
    const clients = Array.from({ length: 8 }, async () => {
      while (loading) {
        try {
          const res = await fetch(`${lb.proxy}/`);
          if (res.status === 200) served.add(((await res.json()) as { instance: string }).instance);
          else failures.push(`HTTP ${res.status}: ${await res.text()}`);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    });
    try {
      await waitFor(async () => (await owned(APP)).length >= 2, {
        timeoutMs: 60_000,
        message: `the app scaled out to 3 (${scaler.output().slice(-1500)})`,
      });
      const replicas = (await owned(APP)).map((c) => c.name);
      // each new replica answers through the balancer (its hostname is its name)
      await waitFor(async () => replicas.every((r) => served.has(r)), {
        timeoutMs: 30_000,
        message: `every new replica served a request (${replicas.join(', ')} vs ${[...served].join(', ')})`,
      });
    } finally {
      loading = false;
      await Promise.all(clients);
    }
    expect(failures).toEqual([]);

    const backends = backendListSchema.parse(await (await fetch(`${lb.admin}/api/backends`)).json()).backends;
    expect(backends.filter((b) => b.state === 'healthy').length).toBeGreaterThanOrEqual(3);

    // the second service kept its own count: its one container, no replica of ours
    expect((await runningReplicas(OTHER)).length).toBe(1);
    expect(await owned(OTHER)).toEqual([]);

    // the status reports the count its last tick observed: the next tick sees the new replicas
    const status = await waitFor(
      async () => {
        const st = autoscalerStatusSchema.parse(await (await fetch(`${scaler.admin}/api/status`)).json());
        const app = st.services?.find((x) => x.service === APP);
        return app && app.current >= 3 ? st : undefined;
      },
      { timeoutMs: 10_000, message: 'the status counts 3 replicas of the app' },
    );
    const byName = new Map(status.services?.map((s) => [s.service, s]));
    expect(byName.get(APP)).toMatchObject({ min: 1, max: 3 });
    expect(byName.get(OTHER)).toMatchObject({ current: 1, max: 2 });
    expect(byName.get(BROKEN)?.holdReason).toBe('ConfigInvalid');

    const decisions = decisionListSchema.parse(
      await (await fetch(`${scaler.admin}/api/decisions?service=${BROKEN}`)).json(),
    ).decisions;
    expect(decisions[0]).toMatchObject({ service: BROKEN, reason: 'ConfigInvalid' });
    expect(decisions[0]?.message).toContain(`container ${BROKEN}-web, label autoscale.max`);
    // one log line for the malformed label, however many ticks saw it
    expect(
      scaler
        .output()
        .split('\n')
        .filter((l) => l.includes('label autoscale.max')).length,
    ).toBe(1);
  });
});
