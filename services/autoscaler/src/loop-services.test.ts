// Many services in one loop (issue #25): each labelled service gets its own decisions (named in
// the decision and in /api/status), its own settings from its labels, its own sleep; a
// malformed label makes that service ConfigInvalid (one log line naming the container and the
// label) while the others carry on; a wake names the service it is for; the whole tick reads
// GET /api/backends once for all of them. The runtime is in memory (scaled by count, like a
// Swarm service); the balancer is a real HTTP server reached through BalancerClient.
import { createLogger } from '@headroom/shared';
import { backendView, type FakeBalancer, startFakeBalancer } from '@headroom/testkit';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ReplicaActor } from './act/replica-runtime.js';
import { SleepAnnouncer } from './act/sleep-announcer.js';
import { AutoscalerMetrics } from './admin/metrics.js';
import { BalancerClient } from './clients/balancer-client.js';
import { DecisionLog } from './decision-log.js';
import { ScalingLoop } from './loop.js';
import type { ReplicaRecord } from './model/replica.js';
import { BalancerSource } from './observe/metric-source.js';
import { Observer } from './observe/observer.js';
import type { RuntimeObservation, RuntimeObserver } from './observe/runtime-observer.js';
import { type SettingsDefaults, serviceSettings } from './policy/service-settings.js';

interface Svc {
  count: number;
  labels: Record<string, string>;
  /** In-flight requests per replica the balancer reports. */
  inFlight: number;
}

class Services implements RuntimeObserver, ReplicaActor {
  readonly kind = 'swarm' as const;
  calls: string[] = [];
  constructor(readonly svcs: Record<string, Svc>) {}
  async observe(): Promise<RuntimeObservation> {
    return {
      services: Object.entries(this.svcs).map(([service, s]) => ({
        service,
        records: Array.from(
          { length: s.count },
          (_, i): ReplicaRecord => ({
            id: `${service}${i + 1}`,
            name: `${service}-${i + 1}`,
            owned: false,
            state: 'running',
            host: 'swarm',
            ready: true,
            backendId: `${service}${i + 1}`,
          }),
        ),
        labelSources: [{ name: `${service}-web`, labels: s.labels }],
      })),
      unreachable: [],
    };
  }
  async setCount(service: string, count: number) {
    this.calls.push(`${service} → ${count}`);
    const before = this.svcs[service]!.count;
    this.svcs[service]!.count = count;
    return {
      added: Array(Math.max(0, count - before)).fill('x'),
      removed: Array(Math.max(0, before - count)).fill('x'),
    };
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
let gets = 0;
let runtime: Services;
/** Each service's sleep view (GET /api/backends `services`), when the test gives them. */
let views: Record<string, unknown>[] | undefined;
const announced: { state: string; service?: string }[] = [];

function backends() {
  return Object.entries(runtime.svcs).flatMap(([service, s]) =>
    Array.from({ length: s.count }, (_, i) =>
      backendView({
        id: `${service}${i + 1}`,
        url: `http://127.0.0.1:${1000 + i}`,
        name: `${service}-${i + 1}`,
        service,
        source: 'swarm',
        inFlight: s.inFlight,
      }),
    ),
  );
}

beforeEach(async () => {
  gets = 0;
  views = undefined;
  announced.length = 0;
  fakeLb = await startFakeBalancer((req) => {
    if (req.method === 'GET' && req.url === '/api/backends') {
      gets++;
      return { body: { mode: 'round-robin', backends: backends(), ...(views ? { services: views } : {}) } };
    }
    if (req.method === 'PUT' && req.url === '/api/service/state') {
      announced.push(JSON.parse(req.body));
      return { body: {} };
    }
    return undefined;
  });
});
afterEach(async () => {
  await fakeLb.close();
});

const defaults: SettingsDefaults = {
  policy: {
    min: 1,
    max: 10,
    tolerance: 0.1,
    scaleUpWindowMs: 0,
    scaleDownWindowMs: 0,
    scaleUpMaxFactor: 2,
    scaleDownMaxStep: 1,
  },
  targets: [{ metric: 'cpu', target: 0.6 }],
  wakeRequestsPerReplica: 10,
  canSleep: false,
};

function setup(svcs: Record<string, Svc>, canSleep = false) {
  runtime = new Services(svcs);
  const logger = createLogger({ service: 'test', level: 'info' });
  const errors = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
  vi.spyOn(logger, 'info').mockImplementation(() => undefined);
  vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
  const balancer = new BalancerClient({ url: fakeLb.url });
  const log = new DecisionLog();
  const loop = new ScalingLoop({
    service: 'api',
    runtimeName: 'swarm',
    observer: new Observer({
      runtime,
      balancer,
      source: new BalancerSource(),
      targetsOf: (_s, sources) => {
        const r = serviceSettings({ ...defaults, canSleep }, sources);
        return r.ok ? r.settings.targets : [];
      },
      maxAgeMs: 30_000,
    }),
    actor: runtime,
    defaults: { ...defaults, canSleep },
    announcer: canSleep ? new SleepAnnouncer(balancer, logger) : undefined,
    placement: { cpuOvercommit: 1, memoryReserve: 0, diskReserve: 0 },
    intervalMs: 3_600_000,
    dryRun: false,
    log,
    metrics: new AutoscalerMetrics('api'),
    logger,
  });
  return { loop, log, errors };
}

const enabled = { 'autoscale.enable': 'true' };

describe('one autoscaler, many services from labels', () => {
  it('scales each labelled service on its own metric and bounds; one GET /api/backends a tick', async () => {
    const { loop, log } = setup({
      api: {
        count: 2,
        labels: { ...enabled, 'autoscale.target.concurrency': '10', 'autoscale.max': '3' },
        inFlight: 30,
      },
      shop: { count: 1, labels: { ...enabled, 'autoscale.target.concurrency': '5' }, inFlight: 1 },
    });
    await loop.tickAll();
    expect(gets).toBe(1);
    // api: 30 in flight per replica vs 10 → 6, capped by its own autoscale.max=3; shop: 1 vs 5 holds at its min
    expect(runtime.calls).toEqual(['api → 3']);
    expect(log.latest('api')).toMatchObject({ service: 'api', reason: 'DesiredAboveMax', desired: 3 });
    expect(log.latest('shop')).toMatchObject({ service: 'shop', desired: 1, action: 'none' });
    const status = loop.status();
    expect(status.services?.map((s) => [s.service, s.current, s.max])).toEqual([
      ['api', 2, 3],
      ['shop', 1, 10],
    ]);
    expect(log.recent(10, 'shop').every((d) => d.service === 'shop')).toBe(true);
  });

  it('a malformed label: ConfigInvalid naming container and label, logged once; the others carry on', async () => {
    const { loop, log, errors } = setup({
      api: { count: 1, labels: { ...enabled, 'autoscale.target.concurrency': '1' }, inFlight: 4 },
      bad: { count: 1, labels: { ...enabled, 'autoscale.max': 'lots' }, inFlight: 50 },
    });
    await loop.tickAll();
    await loop.tickAll();
    expect(log.latest('bad')).toMatchObject({ reason: 'ConfigInvalid', action: 'none' });
    expect(log.latest('bad')?.message).toContain('container bad-web, label autoscale.max');
    expect(loop.status().services?.find((s) => s.service === 'bad')?.holdReason).toBe('ConfigInvalid');
    // the other service scaled on both ticks (1 → 2 → 4); the malformed one never moved
    expect(runtime.calls).toEqual(['api → 2', 'api → 4']);
    expect(errors.mock.calls.filter((c) => String(c.at(-1)).includes('autoscale.max'))).toHaveLength(1);
  });

  it('a service whose signals are missing holds with the reason; the others scale', async () => {
    const { loop, log } = setup({
      api: { count: 1, labels: { ...enabled, 'autoscale.target.concurrency': '1' }, inFlight: 3 },
      // cpu from the balancer view: null for every backend here
      quiet: { count: 2, labels: { ...enabled, 'autoscale.target.cpu': '0.5' }, inFlight: 0 },
    });
    await loop.tickAll();
    expect(log.latest('quiet')).toMatchObject({ reason: 'HoldMissingData', desired: 2 });
    expect(runtime.calls).toEqual(['api → 2']);
  });

  it('each service sleeps on its own idle window, and a wake names the service it wakes', async () => {
    const sleepy = {
      ...enabled,
      'autoscale.min': '0',
      'lb.idle.after': '1000',
      'autoscale.target.concurrency': '10',
    };
    const view = (name: string, lastRequestAt: number) => ({
      name,
      state: 'awake',
      since: new Date(0).toISOString(),
      held: 0,
      lastRequestAt,
      idleAfterMs: 1000,
    });
    const { loop, log } = setup(
      { a: { count: 1, labels: sleepy, inFlight: 0 }, b: { count: 1, labels: sleepy, inFlight: 0 } },
      true,
    );
    // a has been idle for a minute, b just served a request
    views = [view('a', Date.now() - 60_000), view('b', Date.now())];
    await new Promise((r) => setTimeout(r, 1100)); // past the idle window since the loop started
    views = [view('a', Date.now() - 60_000), view('b', Date.now())];
    await loop.tickAll();
    expect(log.latest('a')).toMatchObject({ reason: 'IdleScaleToZero', desired: 0 });
    expect(log.latest('b')?.reason).not.toBe('IdleScaleToZero');
    expect(announced).toEqual([expect.objectContaining({ state: 'sleeping', service: 'a' })]);
    expect(runtime.calls).toEqual(['a → 0']);
    expect(loop.status().services?.map((s) => [s.service, s.sleeping])).toEqual([
      ['a', true],
      ['b', false],
    ]);

    // a wake for b (awake) wakes nothing; a wake for a starts a
    views = [{ ...view('a', Date.now() - 60_000), state: 'sleeping' }, view('b', Date.now())];
    // (the loop is not started: wake records the ask, the next tick acts on it)
    await loop.wake(5, 'b');
    await loop.tickAll();
    expect(runtime.calls).toEqual(['a → 0']);
    await loop.wake(25, 'a');
    await loop.tickAll();
    expect(runtime.calls).toEqual(['a → 0', 'a → 3']);
    expect(log.latest('a')).toMatchObject({ reason: 'WakeOnRequest', desired: 3 });
  });
});
