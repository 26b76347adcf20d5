// Queue depth is a scaling signal (issue #26): requests waiting at the balancer (its service
// queue, and requests held while the service wakes) count as concurrency demand, so a service
// whose backends sit at their limits with clients queued scales out even though its in-flight
// reading is at target. desired = ceil((in-flight + queued) / target per replica).
import type { BackendList, BackendView, ServiceView } from '@headroom/shared';
import { describe, expect, it } from 'vitest';
import { recommendForMetric } from '../policy/replica-ratio.js';
import { BalancerSource } from './metric-source.js';
import { queuedDemand } from './queued-demand.js';
import { toReading } from './readings.js';
import type { CensusReplica } from './replica-census.js';

const backend = (name: string, inFlight: number, service = 'shop'): BackendView => ({
  id: `id-${name}`,
  url: `http://10.0.0.1/${name}`,
  name,
  service,
  source: 'docker',
  state: 'healthy',
  stateReason: null,
  inFlight,
  requests: 0,
  errors: 0,
  rps: 0,
  cpu: 0.2,
  mem: 0.1,
  score: null,
  metricsAgeMs: 0,
  latencyMs: null,
  weight: 1,
  effectiveWeight: 1,
  sticky: { kind: 'none' },
});
const view = (name: string, held = 0): ServiceView => ({
  name,
  state: 'awake',
  since: new Date(0).toISOString(),
  held,
  lastRequestAt: null,
  idleAfterMs: null,
});
/** A balancer's queue: `held` of its `depth` are held requests (one queue, issue #26). */
const queue = (depth: number, held = 0) => ({ depth, held, timeoutMs: 3000, max: 1000, shed: {} });
/** An older balancer's queue: its depth did not count held requests (no `held` field). */
const olderQueue = (depth: number) => ({ depth, timeoutMs: 3000, max: 1000, shed: {} });
const replica = (name: string): CensusReplica => ({
  id: `${name}${'a'.repeat(64)}`.slice(0, 64),
  name,
  owned: true,
  state: 'running',
  host: 'h',
  ready: true,
});

/** The balancer-view source, the reading and the policy: replicas the concurrency metric asks for. */
async function desired(list: BackendList, target: number, metric: 'concurrency' | 'cpu' = 'concurrency') {
  const mine = list.backends.filter((b) => b.service === 'shop');
  const result = await new BalancerSource().read(metric, 'shop', 0, { backends: list.backends, list });
  const reading = toReading(
    metric,
    target,
    result,
    mine.map((b) => replica(b.name)),
    30_000,
  );
  return recommendForMetric(reading, mine.length, 0.1).recommendation;
}

describe('queued requests count as concurrency demand (balancer view → policy)', () => {
  it.each([
    // [what, in-flight per replica, service view, queue depth (held ones included), target, desired]
    ['one replica at its limit of 2, 6 queued: ceil((2+6)/2)', [2], view('shop'), 6, 2, 4],
    ['nothing queued: in-flight alone, at target, holds', [2], view('shop'), 0, 2, 1],
    ['two replicas at 3 each, 4 queued: ceil((6+4)/3)', [3, 3], view('shop'), 4, 3, 4],
    ['held while it wakes count too: 1 in flight, 5 held', [1], view('shop', 5), 5, 2, 3],
    [
      'held and queued in one depth, counted once: 2 in flight, 2 held + 4 queued',
      [2],
      view('shop', 2),
      6,
      2,
      4,
    ],
    ['below target with a small queue: (0.5+0.5)/2 holds at 1', [0], view('shop'), 1, 2, 1],
  ] as const)('%s', async (_what, inFlight, service, depth, target, want) => {
    const list: BackendList = {
      mode: 'resource-aware',
      backends: inFlight.map((n, i) => backend(`shop-${i + 1}`, n)),
      service,
      queue: queue(depth, service.held),
    };
    expect(await desired(list, target)).toBe(want);
  });

  it('counts queued demand for concurrency only: CPU is what the replicas use', async () => {
    const list: BackendList = {
      mode: 'resource-aware',
      backends: [backend('shop-1', 2)],
      service: view('shop'),
      queue: queue(50),
    };
    expect(await desired(list, 0.5, 'cpu')).toBe(1);
  });
});

describe('queuedDemand: whose queue', () => {
  const backends = [backend('shop-1', 1), backend('web-1', 1, 'web')];
  it.each([
    [
      'a one-service balancer naming the service: its depth, the held one in it',
      { service: view('shop', 1), queue: queue(3, 1) },
      3,
    ],
    ['a one-service balancer of another service', { service: view('web', 1), queue: queue(3, 1) }, 0],
    [
      'an older balancer whose depth left the held out: both',
      { service: view('shop', 1), queue: olderQueue(3) },
      4,
    ],
    [
      'several services: each one’s held; the top-level queue is the default service’s',
      { service: view('web'), services: [view('shop', 2), view('web')], queue: queue(9) },
      2,
    ],
    [
      'several services, ours the default: its queue, held ones included',
      { service: view('shop'), services: [view('shop', 2), view('web')], queue: queue(9, 2) },
      9,
    ],
    ['an older balancer: no queue field, its held only', { service: view('shop', 2) }, 2],
    ['no service view at all', {}, 0],
  ] as const)('%s', (_what, extra, want) => {
    const list = { mode: 'resource-aware', backends, ...extra } as BackendList;
    expect(queuedDemand(list, 'shop')).toBe(want);
  });
  it('no balancer answer: nothing queued (the metric itself is missing then)', () => {
    expect(queuedDemand(undefined, 'shop')).toBe(0);
  });
});
