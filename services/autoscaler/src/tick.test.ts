// The tick as a table (issue #25): (observation, state) → (reason, plan), through the pure
// steps only (policy/decide-tick.ts, placement/plan-tick.ts, and settle for what act
// reported). No HTTP server, no engine, no clock.
import { describe, expect, it } from 'vitest';
import type { PlanStep } from './model/plan.js';
import type { ReplicaRecord } from './model/replica.js';
import type { ReplicaTemplate } from './model/replica-template.js';
import { scaledServices } from './observe/docker-observer.js';
import { serviceView } from './observe/observer.js';
import type { HostState } from './placement/host-state.js';
import { planService } from './placement/plan-tick.js';
import {
  decideTick,
  initialState,
  type ServiceState,
  type SettleOutcome,
  settle,
  type TickInput,
} from './policy/decide-tick.js';
import type { MetricReading } from './policy/policy-types.js';
import type { ServiceSettings } from './policy/service-settings.js';

const NOW = 10_000_000;
const GiB = 1024 ** 3;

const replica = (n: number, over: Partial<ReplicaRecord> = {}): ReplicaRecord & { ready: boolean } => ({
  id: `c${n}`,
  name: `web-${n}`,
  index: n,
  owned: true,
  state: 'running',
  host: 'h1',
  ready: true,
  labels: { 'headroom.service': 'web' },
  ...over,
});

const host = (free: number): HostState => ({
  id: 'h1',
  reachable: true,
  cpuCapacity: 4,
  memoryCapacity: 8 * GiB,
  cpuBooked: 4 - free,
  memoryBooked: 0,
});

const template = { image: 'app', nanoCpus: 500_000_000, memory: 0 } as ReplicaTemplate;

const settings = (over: Partial<ServiceSettings> = {}): ServiceSettings => ({
  policy: {
    min: 1,
    max: 10,
    tolerance: 0.1,
    scaleUpWindowMs: 0,
    scaleDownWindowMs: 0,
    scaleUpMaxFactor: 2,
    scaleDownMaxStep: 1,
  },
  targets: [{ metric: 'cpu', target: 0.5 }],
  ...over,
});

const cpu = (...values: number[]): MetricReading[] => [{ metric: 'cpu', target: 0.5, values }];
const sleepy = settings({ scaleToZero: { idleAfterMs: 60_000, wakeRequestsPerReplica: 10 } });

interface Row {
  name: string;
  replicas?: (ReplicaRecord & { ready: boolean })[];
  readings?: MetricReading[];
  settings?: ServiceSettings;
  state?: Partial<ServiceState>;
  input?: 'engine-unavailable' | 'config-invalid';
  paused?: boolean;
  wakeHeld?: number;
  balancer?: { state: string; held: number; lastRequestAt: number | null };
  hostFree?: number;
  /** What act reports (default: every step ran). */
  outcome?: SettleOutcome;
  reason: string;
  steps: string[];
  onAbort?: string[];
  sleeping?: boolean;
}

function step(s: PlanStep): string {
  switch (s.do) {
    case 'reap':
      return `reap ${s.replica.name}`;
    case 'adopt':
      return `adopt ${s.replica.name}`;
    case 'announce':
      return `announce ${s.state}`;
    case 'start-kept':
      return `start-kept ${s.replica.name}`;
    case 'create':
      return `create on ${s.host}`;
    case 'remove':
      return `remove ${s.replica.name}${s.keep ? ' (keep)' : ''}`;
    case 'set-count':
      return `set-count ${s.count}`;
  }
}

function run(row: Row) {
  const replicas = row.replicas ?? [replica(1), replica(2)];
  const active = replicas.filter((r) => r.state !== 'exited');
  const facts = {
    service: 'web',
    census: { current: active.length, ready: active.filter((r) => r.ready).length, replicas },
    readings: row.readings ?? cpu(0.5, 0.5),
    balancer: row.balancer ? { idleAfterMs: null, ...row.balancer } : undefined,
    inFlight: 0,
  };
  const input: TickInput =
    row.input === 'engine-unavailable'
      ? { kind: 'engine-unavailable', service: 'web', error: 'connect ENOENT /var/run/docker.sock' }
      : row.input === 'config-invalid'
        ? {
            kind: 'config-invalid',
            facts,
            container: 'web-1',
            label: 'autoscale.max',
            message: 'expected an integer',
          }
        : { kind: 'observed', facts, settings: row.settings ?? settings() };
  const state = { ...initialState(NOW - 3_600_000), ...row.state };
  const t = decideTick(input, state, {
    now: NOW,
    paused: row.paused ?? false,
    dryRun: false,
    wakeHeld: row.wakeHeld ?? null,
  });
  // The loop plans only what it observed: an unavailable engine gives no plan at all.
  const planned =
    input.kind === 'engine-unavailable'
      ? undefined
      : planService({
          service: 'web',
          runtime: 'docker',
          intent: t.intent,
          why: t.decision.message,
          replicas,
          template,
          request: { cpu: 0.5, memory: 0 },
          hosts: [host(row.hostFree ?? 4)],
          settings: { cpuOvercommit: 1, memoryReserve: 0, diskReserve: 0 },
          deaths: t.state.deaths,
          now: NOW,
          keepOneOnSleep: true,
          dryRun: false,
        });
  const final = settle(t, planned?.plan.shortfall, row.outcome ?? {});
  return {
    reason: final.decision.reason,
    steps: (planned?.plan.steps ?? []).map(step),
    onAbort: (planned?.plan.onAbort ?? []).map(step),
    sleeping: final.state.sleeping,
    message: final.decision.message,
  };
}

const ROWS: Row[] = [
  { name: 'on target: nothing to do', reason: 'WithinTolerance', steps: [] },
  {
    name: 'above target: two replicas placed',
    readings: cpu(1, 1),
    reason: 'ScaleUp',
    steps: ['create on h1', 'create on h1'],
  },
  {
    name: 'Paused: the policy still runs, nothing is planned',
    readings: cpu(1, 1),
    paused: true,
    reason: 'Paused',
    steps: [],
  },
  {
    name: 'EngineUnavailable: no observation, no plan',
    input: 'engine-unavailable',
    reason: 'EngineUnavailable',
    steps: [],
  },
  {
    name: 'ConfigInvalid: the service is not scaled',
    input: 'config-invalid',
    readings: cpu(1, 1),
    reason: 'ConfigInvalid',
    steps: [],
  },
  {
    name: 'a dead owned replica is reaped (it is replaced through the count)',
    replicas: [replica(1), replica(2, { state: 'exited', ready: false })],
    readings: cpu(0.5),
    reason: 'WithinTolerance',
    steps: ['reap web-2'],
  },
  {
    name: 'crash backoff: 3 deaths in 5 minutes hold creation back (ScaleFailed with the wait)',
    readings: cpu(1, 1),
    state: { deaths: [NOW - 3_000, NOW - 2_000, NOW - 1_000] },
    reason: 'ScaleFailed',
    steps: [],
  },
  {
    name: 'HostCapacityExhausted: room for one of two',
    readings: cpu(1, 1),
    hostFree: 0.5,
    reason: 'HostCapacityExhausted',
    steps: ['create on h1'],
  },
  {
    name: 'sleep: idle for the window; the balancer is told before the replicas go, the last one kept',
    settings: sleepy,
    balancer: { state: 'awake', held: 0, lastRequestAt: NOW - 120_000 },
    reason: 'IdleScaleToZero',
    steps: ['announce sleeping', 'remove web-2', 'remove web-1 (keep)'],
    onAbort: ['announce awake'],
    sleeping: true,
  },
  {
    name: 'sleep aborted: a stop fails part-way, the service stays awake (the balancer is told)',
    settings: sleepy,
    balancer: { state: 'awake', held: 0, lastRequestAt: NOW - 120_000 },
    outcome: { failed: { step: 'remove', detail: 'remove web-2: stop timed out' } },
    reason: 'ScaleFailed',
    steps: ['announce sleeping', 'remove web-2', 'remove web-1 (keep)'],
    onAbort: ['announce awake'],
    sleeping: false,
  },
  {
    name: 'sleep refused by the balancer: nothing removed, awake',
    settings: sleepy,
    balancer: { state: 'awake', held: 0, lastRequestAt: NOW - 120_000 },
    outcome: { sleepRefused: true },
    reason: 'ScaleFailed',
    steps: ['announce sleeping', 'remove web-2', 'remove web-1 (keep)'],
    onAbort: ['announce awake'],
    sleeping: false,
  },
  {
    name: 'asleep, nothing asks: held at 0',
    settings: sleepy,
    replicas: [replica(1, { state: 'exited', ready: false })],
    readings: [],
    balancer: { state: 'sleeping', held: 0, lastRequestAt: NOW - 120_000 },
    reason: 'Sleeping',
    steps: [],
    sleeping: true,
  },
  {
    name: 'wake: 25 held → 3 replicas, the kept container first',
    settings: sleepy,
    replicas: [replica(1, { state: 'exited', ready: false })],
    readings: [],
    wakeHeld: 25,
    balancer: { state: 'sleeping', held: 25, lastRequestAt: NOW },
    reason: 'WakeOnRequest',
    steps: ['start-kept web-1', 'create on h1', 'create on h1'],
    sleeping: false,
  },
  {
    name: 'missing signals: hold, with the reason',
    readings: [{ metric: 'cpu', target: 0.5, values: [], missing: 'empty' }],
    reason: 'HoldMissingData',
    steps: [],
  },
];

describe('tick: (observation, state) → (reason, plan)', () => {
  it.each(ROWS.map((r) => [r.name, r] as const))('%s', (_name, row) => {
    const got = run(row);
    expect(got.reason).toBe(row.reason);
    expect(got.steps).toEqual(row.steps);
    if (row.onAbort) expect(got.onAbort).toEqual(row.onAbort);
    if (row.sleeping !== undefined) expect(got.sleeping).toBe(row.sleeping);
  });

  it('the crash-backoff message says how long until the next start', () => {
    const got = run(ROWS.find((r) => r.name.startsWith('crash backoff'))!);
    expect(got.message).toContain('3 replicas died in the last 5 minutes: next start in');
  });

  it('ConfigInvalid names the container and the label', () => {
    const got = run(ROWS.find((r) => r.input === 'config-invalid')!);
    expect(got.message).toContain('container web-1, label autoscale.max');
  });
});

describe('which services are scaled (observe/docker-observer.ts scaledServices)', () => {
  it.each<[string, Record<string, string>[], string | undefined, string[]]>([
    ['SERVICE alone, no labels', [{ 'lb.service': 'api' }], 'api', ['api']],
    [
      'labelled services, SERVICE unset',
      [{ 'lb.service': 'a', 'autoscale.enable': 'true' }, { 'lb.service': 'b' }],
      undefined,
      ['a'],
    ],
    [
      "SERVICE set: only it, another autoscaler's labelled service left alone",
      [{ 'lb.service': 'a', 'autoscale.enable': 'true' }],
      'api',
      ['api'],
    ],
    ["nothing at all: today's default", [{ 'lb.service': 'x' }], undefined, ['backend']],
    [
      'our replicas count by their owner label',
      [{ 'headroom.service': 'a', 'autoscale.enable': 'true' }],
      undefined,
      ['a'],
    ],
  ])('%s', (_n, labels, configured, expected) => {
    expect(
      scaledServices(
        labels.map((l) => ({ labels: l })),
        configured,
      ),
    ).toEqual(expected);
  });
});

describe("the balancer's sleep view of a service (observe/observer.ts serviceView)", () => {
  const view = (name: string) => ({
    name,
    state: 'awake' as const,
    since: '1970-01-01T00:00:00.000Z',
    held: 0,
    lastRequestAt: null,
    idleAfterMs: null,
  });
  const backend = (service: string) => ({ service }) as never;
  it.each<[string, Parameters<typeof serviceView>[0], string, string | undefined]>([
    [
      'per-service views: its own',
      { mode: 'round-robin', backends: [], services: [view('a'), view('b')] },
      'b',
      'b',
    ],
    [
      'per-service views: none for it',
      { mode: 'round-robin', backends: [], services: [view('a')] },
      'c',
      undefined,
    ],
    [
      // the balancer lists `services` since it serves several (GET /api/backends): before our
      // first replica registers it knows only the unnamed default, which holds our requests
      'per-service views: none for it yet, the unnamed default alone and empty',
      { mode: 'round-robin', backends: [], service: view('default'), services: [view('default')] },
      'web',
      'default',
    ],
    [
      'per-service views: none for it, the default serving another service',
      {
        mode: 'round-robin',
        backends: [backend('api')],
        service: view('default'),
        services: [view('default')],
      },
      'web',
      undefined,
    ],
    [
      'one view that names it',
      { mode: 'round-robin', backends: [backend('x')], service: view('web') },
      'web',
      'web',
    ],
    [
      'one view, every backend ours',
      { mode: 'round-robin', backends: [backend('web')], service: view('default') },
      'web',
      'default',
    ],
    [
      "one view, another service's backends too",
      { mode: 'round-robin', backends: [backend('web'), backend('api')], service: view('api') },
      'web',
      undefined,
    ],
    [
      'one unnamed view, no backends (asleep)',
      { mode: 'round-robin', backends: [], service: view('default') },
      'web',
      'default',
    ],
    ['no view', { mode: 'round-robin', backends: [] }, 'web', undefined],
  ])('%s', (_n, list, service, expected) => {
    expect(serviceView(list, service)?.name).toBe(expected);
  });
});
