// Each picker as a table: slots in (their counters set directly), a pick sequence or the
// shares of many picks out. The simulations in balancer.test.ts hold the cross-mode claims.
import type { BalancerMode } from '@headroom/shared';
import { describe, expect, it } from 'vitest';
import { mulberry32, spec } from '../balancer-sim.test-helper.js';
import { createSlot, type Slot } from '../slot.js';
import { PICKERS, type PickContext, type PickerSettings } from './index.js';
import { pressureOf } from './resource-aware.js';

interface SlotRow {
  weight?: number;
  inFlight?: number;
  /** resource-aware's service time estimate (ms), sampled at t = 0 */
  svc?: number;
  /** latency mode's peak-EWMA (ms), sampled at t = 0 */
  ewma?: number;
  cpu?: number;
  mem?: number;
  healthy?: boolean;
  draining?: boolean;
  cpuPrior?: number;
}

const settings: PickerSettings = {
  slowStartMs: 0,
  latencyDecayMs: 10_000,
  metricsStaleMs: 5000,
  cpuWeight: 0.8,
  memoryWeight: 0.2,
};

function slotsOf(rows: SlotRow[]): Slot[] {
  return rows.map((r, i) => {
    const s = createSlot(spec(`b${i + 1}`, r.weight ? { weight: r.weight } : {}), i, `t${i}`, 0);
    s.baseWeight = r.weight ?? 1;
    s.cpuPrior = r.cpuPrior ?? 1;
    s.healthy = r.healthy ?? true;
    s.draining = r.draining ?? false;
    s.inFlight = r.inFlight ?? 0;
    if (r.svc !== undefined) s.svc = r.svc;
    if (r.ewma !== undefined) s.ewma = r.ewma;
    if (r.cpu !== undefined || r.mem !== undefined) {
      s.cpu = r.cpu ?? null;
      s.mem = r.mem ?? null;
      s.metricsAt = 0;
    }
    return s;
  });
}

function context(slots: Slot[], tried?: number[], seed = 1): PickContext {
  // limits off: these tables pile requests to see the cost ratios (limits have their own below)
  return { slots, now: 1, tried, limited: false, waiting: 0, random: mulberry32(seed), settings };
}

/** `n` picks with nothing completing: each pick adds one in flight when `pile` is set. */
function picks(mode: BalancerMode, rows: SlotRow[], n: number, pile: boolean, tried?: number[]): string[] {
  const slots = slotsOf(rows);
  const ctx = context(slots, tried);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = PICKERS[mode](ctx);
    out.push(s?.id ?? '-');
    if (s && pile) s.inFlight++;
  }
  return out;
}

function shareOf(seq: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const id of seq) counts[id] = (counts[id] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / seq.length]));
}

describe('pick sequences', () => {
  it.each([
    {
      name: 'round-robin interleaves weights 5,1,1 (smooth WRR)',
      mode: 'round-robin',
      rows: [{ weight: 5 }, { weight: 1 }, { weight: 1 }],
      pile: false,
      seq: 'b1 b1 b2 b1 b3 b1 b1',
    },
    {
      name: 'least-connections fills the emptiest first',
      mode: 'least-connections',
      rows: [{ inFlight: 2 }, { inFlight: 0 }, { inFlight: 1 }],
      pile: true,
      seq: 'b2 b2',
    },
    {
      name: 'resource-aware: a 2.5× slower backend gets its first request once the others hold 2 each',
      mode: 'resource-aware',
      rows: [{ svc: 4 }, { svc: 4 }, { svc: 10 }],
      pile: true,
      // costs (n+1)·svc: b3 costs 10 at n=0; b1/b2 cost 12 at n=2, more than 15 % above it (b1/b2 ties drawn at random)
      seq: 'b1 b2 b2 b1 b3',
    },
    {
      name: 'resource-aware skips a draining, an unhealthy and a hot-memory backend',
      mode: 'resource-aware',
      rows: [{ draining: true }, { healthy: false }, { mem: 0.95 }, {}],
      pile: true,
      seq: 'b4 b4 b4',
    },
    {
      name: 'resource-aware falls back to a hot-memory backend when nothing else is eligible',
      mode: 'resource-aware',
      rows: [{ draining: true }, { mem: 0.95 }],
      pile: true,
      seq: 'b2 b2',
    },
  ] as const)('$name', ({ mode, rows, pile, seq }) => {
    expect(picks(mode, [...rows], seq.split(' ').length, pile).join(' ')).toBe(seq);
  });
});

// resource-aware draws among costs within 15 % of the best, so its splits follow the cost
// ratios to within a few percent, not exactly
describe('shares', () => {
  it.each([
    {
      name: 'least-connections: equal slots tie, drawn at random',
      mode: 'least-connections',
      rows: [{}, {}, {}],
      n: 3000,
      expected: { b1: 1 / 3, b2: 1 / 3, b3: 1 / 3 },
      tolerance: 0.03,
    },
    {
      name: 'latency: the faster of two choices wins, the slower is still drawn into pairs',
      mode: 'latency',
      rows: [{ ewma: 5 }, { ewma: 50 }],
      n: 2000,
      expected: { b1: 1 },
      tolerance: 0.01,
    },
    {
      name: 'resource-aware with nothing measured: CPU-limit priors 2:1 split a pile 2:1',
      mode: 'resource-aware',
      rows: [{ cpuPrior: 2 }, { cpuPrior: 1 }],
      n: 300,
      pile: true,
      expected: { b1: 2 / 3, b2: 1 / 3 },
      tolerance: 0.04,
    },
    {
      name: 'resource-aware: a stated weight of 3 takes three times the pile',
      mode: 'resource-aware',
      rows: [{ svc: 4, weight: 3 }, { svc: 4 }],
      n: 400,
      pile: true,
      expected: { b1: 0.75, b2: 0.25 },
      tolerance: 0.04,
    },
    {
      name: 'resource-aware: the pile splits by service time (4 ms vs 8 ms → 2:1)',
      mode: 'resource-aware',
      rows: [{ svc: 4 }, { svc: 8 }],
      n: 300,
      pile: true,
      expected: { b1: 2 / 3, b2: 1 / 3 },
      tolerance: 0.04,
    },
    {
      name: 'resource-aware: a backend with no answer yet is priced at the pool mean',
      mode: 'resource-aware',
      rows: [{ svc: 4 }, { svc: 8 }, {}],
      n: 600,
      pile: true,
      // costs 4, 8 and 6 (the mean) per request in flight: shares 1/4 : 1/8 : 1/6
      expected: { b1: 6 / 13, b2: 3 / 13, b3: 4 / 13 },
      tolerance: 0.04,
    },
    {
      name: 'resource-aware: below 1 ms service times are noise, two fast backends share alike',
      mode: 'resource-aware',
      rows: [{ svc: 0.3 }, { svc: 0.7 }],
      n: 2000,
      expected: { b1: 0.5, b2: 0.5 },
      tolerance: 0.04,
    },
    {
      name: 'resource-aware: only the reported CPU differs, a pinned one takes less of the pile',
      mode: 'resource-aware',
      rows: [
        { svc: 4, cpu: 0.2, mem: 0.2 },
        { svc: 4, cpu: 1, mem: 0.2 },
      ],
      n: 400,
      pile: true,
      // score 0.16 → pressure 1 + (0.3 − 0.16)/0.3 = 1.47: shares 1.47 : 1
      expected: { b1: 1.47 / 2.47, b2: 1 / 2.47 },
      tolerance: 0.04,
    },
  ] as const)('$name', ({ mode, rows, n, expected, tolerance, ...rest }) => {
    const pile = 'pile' in rest && rest.pile === true;
    const got = shareOf(picks(mode, [...rows], n, pile));
    for (const [id, share] of Object.entries(expected))
      expect(Math.abs((got[id] ?? 0) - share), id).toBeLessThan(tolerance);
  });
});

describe('tried slots', () => {
  it.each(['round-robin', 'least-connections', 'resource-aware', 'latency'] as const)(
    '%s never returns a slot the request already tried',
    (mode) => {
      const seq = picks(mode, [{}, {}, {}], 200, false, [0, 2]);
      expect(new Set(seq)).toEqual(new Set(['b2']));
      expect(picks(mode, [{}, {}], 5, false, [0, 1])).toEqual(['-', '-', '-', '-', '-']);
    },
  );
});

describe('concurrency limits', () => {
  // [mode] → with b1 at its limit of 2 and b2 free, every pick is b2; with both full, none
  it.each(['round-robin', 'least-connections', 'resource-aware', 'latency'] as const)(
    '%s chooses only among backends under their limit',
    (mode) => {
      const slots = slotsOf([
        { inFlight: 2, svc: 1 },
        { inFlight: 5, svc: 50 },
      ]);
      slots[0]!.limitNow = 2;
      slots[1]!.limitNow = 8;
      const ctx: PickContext = { ...context(slots), limited: true };
      const seq = Array.from({ length: 20 }, () => PICKERS[mode](ctx)?.id ?? '-');
      // resource-aware may also choose to wait (the slow-server rule); never b1
      expect(seq.includes('b1')).toBe(false);
      if (mode !== 'resource-aware') expect(new Set(seq)).toEqual(new Set(['b2']));
      slots[1]!.inFlight = 8;
      expect(PICKERS[mode](ctx)).toBeUndefined();
      // a retry (limits off) still finds a backend
      expect(PICKERS[mode]({ ...ctx, limited: false })).toBeDefined();
    },
  );

  // two fast backends (5 ms) full at 2 each, a 20 ms one idle: it is used only once enough
  // wait that it answers sooner than the queue would (2 × 5 + (waiting + 1) × 2.5 > 20 → waiting ≥ 3)
  it.each([
    [0, '-'],
    [2, '-'],
    [3, 'b3'],
    [10, 'b3'],
  ])('resource-aware with %d waiting: %s', (waiting, expected) => {
    const slots = slotsOf([{ inFlight: 2, svc: 5 }, { inFlight: 2, svc: 5 }, { svc: 20 }]);
    for (const s of slots) s.limitNow = 2;
    const ctx: PickContext = { ...context(slots), limited: true, waiting };
    expect(PICKERS['resource-aware'](ctx)?.id ?? '-').toBe(expected);
  });
});

// The README's and docs/architecture.md's pressure figures: none at a headroom score of 0.3 and
// above, linear below it, ×1.47 at 0.16 (a pinned CPU, memory at 20 %), at most ×1.83 because
// the score floors at 0.05; stale metrics exert none.
describe('resource-aware pressure', () => {
  it.each([
    ['idle', { cpu: 0, mem: 0 }, 0, 1],
    ['score 0.3 (the knee)', { cpu: 0.625, mem: 0 }, 0, 1],
    ['a pinned CPU, memory at 20 % (score 0.16)', { cpu: 1, mem: 0.2 }, 0, 1 + 0.14 / 0.3],
    ['everything full: the score floors at 0.05', { cpu: 1, mem: 1 }, 0, 1 + 0.25 / 0.3],
    ['everything full but stale', { cpu: 1, mem: 1 }, 6000, 1],
  ] as const)('%s', (_name, row, now, expected) => {
    const [slot] = slotsOf([row]);
    expect(pressureOf(slot!, { now, settings })).toBeCloseTo(expected, 6);
  });
  it('is at most 1.83×', () => {
    const [slot] = slotsOf([{ cpu: 1, mem: 1 }]);
    expect(pressureOf(slot!, { now: 0, settings })).toBeLessThan(1.84);
  });
});

describe('resource-aware ties go to the backend idle longest', () => {
  /** `n` picks, each answered before the next (nothing piles up), dispatch times as the balancer sets them. */
  function rotation(rows: SlotRow[], n: number, seed: number): string {
    const slots = slotsOf(rows);
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const s = PICKERS['resource-aware']({ ...context(slots, undefined, seed), now: 1 + i })!;
      s.sentAt = 1 + i;
      out.push(s.id);
    }
    return out.join(' ');
  }

  it.each([1, 2, 3])('three equal idle backends take turns, whatever the draw (seed %s)', (seed) => {
    // a random draw between them gave one backend runs of requests while another idled: with a
    // CPU quota such a run spends a period's budget (overload-sim.test.ts, heterogeneous)
    const seq = rotation([{ svc: 12 }, { svc: 12 }, { svc: 12 }], 9, seed).split(' ');
    for (let i = 3; i < seq.length; i++) expect(seq[i]).toBe(seq[i - 3]);
    expect(new Set(seq.slice(0, 3)).size).toBe(3);
  });

  it('within the idle band (15 %) too; a backend outside it is left out', () => {
    const seq = rotation([{ svc: 12 }, { svc: 13.5 }, { svc: 20 }], 6, 1).split(' ');
    expect(seq.filter((id) => id === 'b3')).toEqual([]);
    for (let i = 2; i < seq.length; i++) expect(seq[i]).toBe(seq[i - 2]);
  });
});

describe('resource-aware with CPU quotas modelled', () => {
  it('a rested 0.125-core backend with no answers yet ties with idle 0.5-core ones: its speed prior is not its limit', () => {
    // the pool's CPU per request is known (12 ms) and fits in the small backend's 12.5 ms a period
    const slots = slotsOf([{ svc: 12, cpuPrior: 4 / 3 }, { svc: 12, cpuPrior: 4 / 3 }, { cpuPrior: 1 / 3 }]);
    const limits = [0.5, 0.5, 0.125];
    slots.forEach((s, i) => {
      s.spec = { ...s.spec, cpuLimit: limits[i] };
      s.poolCpuMs = 12;
    });
    slots[0]!.sentAt = 0;
    slots[1]!.sentAt = 0.5;
    // b3 has never been sent anything: it is the one idle longest, and its cost ties
    expect(PICKERS['resource-aware'](context(slots))?.id).toBe('b3');
    // just used, its budget is spent: the others take the next ones
    slots[2]!.sentAt = 1;
    slots[2]!.quotaTokens = 0;
    slots[2]!.quotaAt = 1;
    expect(PICKERS['resource-aware'](context(slots))?.id).toBe('b1');
  });
});
