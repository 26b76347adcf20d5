// The loop's scale to zero: sleep after the idle window (the balancer told first), stay asleep,
// wake on POST /api/wake at once (no waiting for INTERVAL_MS), a wake during a tick follows it,
// held requests while awake ask for more. The runtime is an in-memory counter (the docker and
// local runtimes are tested against the real engine / real processes elsewhere); the balancer
// is a real HTTP server that records PUT /api/service/state, reached through BalancerClient.
import { createLogger, type ServiceView } from '@headroom/shared';
import { backendView, type FakeBalancer, startFakeBalancer } from '@headroom/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReplicaActor } from './act/replica-runtime.js';
import { SleepAnnouncer } from './act/sleep-announcer.js';
import { buildAdminServer } from './admin/admin-server.js';
import { AutoscalerMetrics } from './admin/metrics.js';
import { BalancerClient } from './clients/balancer-client.js';
import { DecisionLog } from './decision-log.js';
import { ScalingLoop } from './loop.js';
import type { ReplicaRecord } from './model/replica.js';
import { Observer } from './observe/observer.js';
import type { RuntimeObservation, RuntimeObserver } from './observe/runtime-observer.js';

/** A Swarm-like runtime in memory: observed as `count` ready replicas, scaled by its count. */
class CountingRuntime implements RuntimeObserver, ReplicaActor {
  readonly kind = 'swarm' as const;
  count: number;
  calls: { desired: number }[] = [];
  /** Resolves the next setCount when set (to hold a tick in progress). */
  gate: Promise<void> | undefined;
  events: string[];
  constructor(count: number, events: string[]) {
    this.count = count;
    this.events = events;
  }
  async observe(): Promise<RuntimeObservation> {
    const records: ReplicaRecord[] = Array.from({ length: this.count }, (_, i) => ({
      id: `r${i + 1}`,
      name: `svc-${i + 1}`,
      index: i + 1,
      owned: false,
      state: 'running' as const,
      host: 'local',
      ready: true,
    }));
    return { services: [{ service: 'svc', records, labelSources: [] }], unreachable: [] };
  }
  async setCount(_service: string, desired: number) {
    this.events.push(`setCount ${desired}`);
    this.calls.push({ desired });
    if (this.gate) await this.gate;
    const before = this.count;
    this.count = desired;
    const names = (n: number) => Array.from({ length: n }, (_, i) => `x${i}`);
    return { added: names(Math.max(0, desired - before)), removed: names(Math.max(0, before - desired)) };
  }
  async create(): Promise<string> {
    throw new Error('by count');
  }
  async startKept(): Promise<string> {
    throw new Error('by count');
  }
  async remove() {}
  async cleanup() {}
  async close() {}
}

let fakeLb: FakeBalancer;
let states: { state: string; reason?: string }[];
let events: string[];
let acceptSleep: boolean;
/** What GET /api/backends answers this moment. */
let view: () => { service: Partial<ServiceView> | undefined; inFlight: number } = () => ({
  service: undefined,
  inFlight: 0,
});
let backendCalls = 0;

beforeEach(async () => {
  states = [];
  events = [];
  acceptSleep = true;
  backendCalls = 0;
  fakeLb = await startFakeBalancer((req) => {
    if (req.method === 'GET' && req.url === '/api/backends') {
      backendCalls++;
      const v = view();
      const service =
        v.service === undefined
          ? undefined
          : {
              name: 'svc',
              state: 'awake',
              since: new Date(0).toISOString(),
              held: 0,
              lastRequestAt: null,
              idleAfterMs: null,
              ...v.service,
            };
      const backends =
        v.inFlight > 0
          ? [
              backendView({
                id: 'b1',
                url: 'http://127.0.0.1:1',
                name: 'svc-1',
                service: 'svc',
                inFlight: v.inFlight,
              }),
            ]
          : [];
      return { body: { mode: 'round-robin', backends, ...(service ? { service } : {}) } };
    }
    if (req.method === 'PUT' && req.url === '/api/service/state') {
      if (!acceptSleep) return { status: 404, body: {} };
      const parsed = JSON.parse(req.body) as { state: string };
      states.push(parsed);
      events.push(`balancer ${parsed.state}`);
      return { body: {} };
    }
    return undefined;
  });
});
afterEach(async () => {
  await fakeLb.close();
});

const logger = createLogger({ service: 'test', level: 'silent' });

function setup(opts: {
  count: number;
  now: { t: number };
  service: () => Partial<ServiceView> | undefined;
  inFlight?: () => number;
}) {
  const runtime = new CountingRuntime(opts.count, events);
  const url = fakeLb.url;
  const balancer = new BalancerClient({ url });
  view = () => ({ service: opts.service(), inFlight: opts.inFlight?.() ?? 0 });
  const metrics = new AutoscalerMetrics('svc');
  const log = new DecisionLog();
  const loop = new ScalingLoop({
    service: 'svc',
    runtimeName: 'swarm',
    observer: new Observer({ runtime, balancer, source: undefined, targetsOf: () => [], maxAgeMs: 30_000 }),
    actor: runtime,
    defaults: {
      policy: {
        min: 0,
        max: 5,
        tolerance: 0.1,
        scaleUpWindowMs: 0,
        scaleDownWindowMs: 0,
        scaleUpMaxFactor: 2,
        scaleDownMaxStep: 1,
      },
      targets: [],
      idleAfterMs: 10_000,
      wakeRequestsPerReplica: 10,
      canSleep: true,
    },
    placement: { cpuOvercommit: 1, memoryReserve: 0, diskReserve: 0 },
    intervalMs: 3_600_000,
    dryRun: false,
    announcer: new SleepAnnouncer(balancer, logger),
    log,
    metrics,
    logger,
    now: () => opts.now.t,
  });
  return { loop, runtime, metrics, log };
}

async function gauge(metrics: AutoscalerMetrics, name: string): Promise<number> {
  const m = await metrics.registry.getSingleMetric(name)?.get();
  return m?.values[0]?.value ?? Number.NaN;
}

describe('scale to zero in the loop', () => {
  it('sleeps after the idle window: the balancer is told before the replicas go', async () => {
    const now = { t: 1_000_000 };
    const { loop, runtime, metrics } = setup({ count: 2, now, service: () => ({ lastRequestAt: 995_000 }) });
    expect((await loop.tick()).reason).not.toBe('IdleScaleToZero');
    // one observation per tick: GET /api/backends once (readiness, sleep view, metrics)
    expect(backendCalls).toBe(1);
    expect(runtime.count).toBe(2);

    now.t = 1_010_000; // 15 s after the last request, 10 s after the loop started (counts as one)
    const d = await loop.tick();
    expect(d).toMatchObject({ reason: 'IdleScaleToZero', desired: 0, action: 'scale-down' });
    expect(events).toEqual(['balancer sleeping', 'setCount 0']);
    expect(runtime.count).toBe(0);
    expect(loop.status().sleeping).toBe(true);
    expect(await gauge(metrics, 'headroom_autoscaler_sleeping')).toBe(1);

    now.t += 60_000;
    expect(await loop.tick()).toMatchObject({ reason: 'Sleeping', desired: 0, action: 'none' });
    expect(runtime.calls).toHaveLength(1);
  });

  it('does not sleep with a request in flight, one held, or no service in the view', async () => {
    const now = { t: 1_000_000 };
    let inFlight = 1;
    let service: Partial<ServiceView> | undefined = { lastRequestAt: 0 };
    const { loop, runtime } = setup({ count: 1, now, service: () => service, inFlight: () => inFlight });
    now.t += 10_000;
    expect((await loop.tick()).reason).not.toBe('IdleScaleToZero');
    inFlight = 0;
    service = { lastRequestAt: 0, held: 1 };
    expect((await loop.tick()).reason).not.toBe('IdleScaleToZero');
    service = undefined; // an older balancer: idleness cannot be judged
    expect((await loop.tick()).reason).not.toBe('IdleScaleToZero');
    expect(runtime.count).toBe(1);
    expect(states).toEqual([]);
  });

  it('stays awake when the balancer cannot hold requests (no PUT /api/service/state)', async () => {
    acceptSleep = false;
    const now = { t: 1_000_000 };
    const { loop, runtime } = setup({ count: 1, now, service: () => ({ lastRequestAt: 0 }) });
    now.t += 10_000;
    expect((await loop.tick()).reason).toBe('ScaleFailed');
    expect(runtime.count).toBe(1);
    expect(runtime.calls).toEqual([]);
    expect(loop.status().sleeping).toBe(false);
  });

  it('asleep while the balancer says awake (it restarted, or static backends): the sleep is announced again', async () => {
    const now = { t: 1_000_000 };
    let state: ServiceView['state'] = 'awake';
    const { loop, runtime } = setup({ count: 0, now, service: () => ({ state, lastRequestAt: null }) });
    expect((await loop.tick()).reason).toBe('Sleeping');
    expect(states.map((x) => x.state)).toEqual(['sleeping']);
    state = 'sleeping'; // the balancer knows now: nothing more is sent
    now.t += 5_000;
    expect((await loop.tick()).reason).toBe('Sleeping');
    expect(states.map((x) => x.state)).toEqual(['sleeping']);
    expect(runtime.calls).toEqual([]);
  });

  it('counts its own start as the last request when the balancer has seen none', async () => {
    const now = { t: 1_000_000 };
    const { loop, runtime } = setup({ count: 1, now, service: () => ({ lastRequestAt: null }) });
    now.t += 9_999;
    await loop.tick();
    expect(runtime.count).toBe(1);
    now.t += 1;
    expect((await loop.tick()).reason).toBe('IdleScaleToZero');
  });

  it('wakes at once on POST /api/wake with ceil(held / per replica) replicas, and stays up', async () => {
    const now = { t: 1_000_000 };
    let service: Partial<ServiceView> = { state: 'sleeping', lastRequestAt: 0 };
    const { loop, runtime, log, metrics } = setup({ count: 0, now, service: () => service });
    loop.start(); // the first tick at once, the next after INTERVAL_MS (an hour)
    const admin = await buildAdminServer({ loop, log, metrics, token: 's3cret', logger });
    try {
      await expect.poll(() => log.latest()?.reason).toBe('Sleeping');
      expect(loop.status().sleeping).toBe(true);

      const unauth = await admin.inject({ method: 'POST', url: '/api/wake', payload: { held: 1 } });
      expect(unauth.statusCode).toBe(401);
      const bad = await admin.inject({
        method: 'POST',
        url: '/api/wake',
        headers: { authorization: 'Bearer s3cret' },
        payload: { held: -1, extra: true },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().details.length).toBeGreaterThan(0);
      expect(runtime.calls).toEqual([]);

      const res = await admin.inject({
        method: 'POST',
        url: '/api/wake',
        headers: { authorization: 'Bearer s3cret' },
        payload: { held: 25 },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ desired: 3, sleeping: false });
      expect(runtime.calls).toEqual([{ desired: 3 }]);
      expect(log.latest()).toMatchObject({ reason: 'WakeOnRequest', desired: 3 });
      expect(await gauge(metrics, 'headroom_autoscaler_sleeping')).toBe(0);

      // Just woken, with an old lastRequestAt: the wake counts as a request, no sleep again.
      service = { state: 'awake', lastRequestAt: 0 };
      now.t += 5_000;
      expect((await loop.tick()).reason).not.toBe('IdleScaleToZero');
      expect(runtime.count).toBeGreaterThan(0);
    } finally {
      await loop.stop();
      await admin.close();
    }
  });

  it('a wake during a tick runs right after it, never alongside', async () => {
    const now = { t: 1_000_000 };
    const { loop, runtime } = setup({ count: 1, now, service: () => ({ lastRequestAt: 0 }) });
    let open!: () => void;
    runtime.gate = new Promise((r) => {
      open = r;
    });
    now.t += 10_000;
    loop.start(); // this tick sleeps and is held inside scaleTo
    await expect.poll(() => runtime.calls.length).toBe(1);
    const woken = loop.wake(12);
    await new Promise((r) => setTimeout(r, 50));
    expect(runtime.calls).toHaveLength(1); // not alongside the running tick
    runtime.gate = undefined;
    open();
    const status = await woken;
    expect(runtime.calls).toEqual([{ desired: 0 }, { desired: 2 }]);
    expect(status.desired).toBe(2);
    await loop.stop();
  });

  it('held requests while awake and starting ask for more than one replica', async () => {
    const now = { t: 1_000_000 };
    const { loop, runtime } = setup({
      count: 1,
      now,
      service: () => ({ state: 'waking', held: 31, lastRequestAt: now.t }),
    });
    const d = await loop.tick();
    expect(d).toMatchObject({ reason: 'WakeOnRequest', desired: 4 });
    expect(runtime.count).toBe(4);
  });
});
