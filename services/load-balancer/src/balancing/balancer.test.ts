import { BALANCER_MODES, type BalancerMode } from '@headroom/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Balancer } from './balancer.js';
import {
  healthyBalancer,
  mulberry32,
  options,
  quantile,
  shares,
  simulate,
  spec,
} from './balancer-sim.test-helper.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => spec(`b${i + 1}`));

function countPicks(b: Balancer, n: number, now = 0): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const p = b.pick(now)!;
    counts[p.id] = (counts[p.id] ?? 0) + 1;
  }
  return counts;
}

describe('eligibility', () => {
  it.each(BALANCER_MODES)('%s: nothing eligible → undefined; draining and unhealthy never picked', (mode) => {
    const b = new Balancer(options({ mode }));
    b.setBackends(ids(3), 0);
    expect(b.pick(0)).toBeUndefined(); // waiting for the first health check
    b.reportHealth('b1', true, 0);
    b.reportHealth('b2', true, 0);
    b.setDraining('b2', true);
    for (let i = 0; i < 200; i++) expect(b.pick(i)!.id).toBe('b1');
    b.setDraining('b1', true);
    expect(b.pick(1000)).toBeUndefined();
  });

  it('health falls after HEALTH_FALL failures and rises after HEALTH_RISE passes', () => {
    const b = healthyBalancer(ids(2), { healthFall: 2, healthRise: 2 });
    b.reportHealth('b1', false, 1, 'HTTP 500');
    expect(b.runtime(1)[0]!.state).toBe('healthy');
    b.reportHealth('b1', false, 2, 'HTTP 500');
    expect(b.runtime(2)[0]).toMatchObject({
      state: 'unhealthy',
      stateReason: 'health check failed: HTTP 500',
    });
    b.reportHealth('b1', true, 3);
    expect(b.runtime(3)[0]!.state).toBe('unhealthy');
    b.reportHealth('b1', true, 4);
    expect(b.runtime(4)[0]!.state).toBe('healthy');
  });

  it('ejects after consecutive failures, keeps it out for the cooldown, never ejects the last one', () => {
    const b = healthyBalancer(ids(2), { mode: 'round-robin', ejectAfterFailures: 3, ejectCooldownMs: 1000 });
    for (let i = 0; i < 3; i++) {
      b.begin(0, i);
      b.end(0, i, 1, 'connect-error');
    }
    expect(b.runtime(3)[0]!.state).toBe('unhealthy');
    expect(b.runtime(3)[0]!.stateReason).toContain('ejected');
    b.reportHealth('b1', true, 500); // passing check during cooldown does not return it
    expect(b.runtime(500)[0]!.state).toBe('unhealthy');
    b.reportHealth('b1', true, 1100);
    expect(b.runtime(1100)[0]!.state).toBe('healthy');
    // the last eligible backend is not ejected
    b.setDraining('b1', true);
    for (let i = 0; i < 5; i++) {
      b.begin(1, 2000 + i);
      b.end(1, 2000 + i, 1, 'http-5xx');
    }
    expect(b.runtime(2010)[1]!.state).toBe('healthy');
  });

  it('keeps learned stats across set changes and mode switches', () => {
    const b = healthyBalancer(ids(2), { mode: 'latency' });
    b.begin(0, 0);
    b.end(0, 10, 50, 'success');
    b.setMetrics('b1', 0.5, 0.1, 10);
    b.setMode('resource-aware');
    b.setBackends([spec('b1'), spec('b3')], 20);
    const r = b.runtime(20).find((x) => x.spec.id === 'b1')!;
    expect(r).toMatchObject({ requests: 1, cpu: 0.5, state: 'healthy' });
    expect(r.latencyMs).not.toBeNull();
  });
});

describe('round-robin', () => {
  it('smooth weighted round-robin interleaves weights 5,1,1 without bursts', () => {
    const b = healthyBalancer([spec('a', { weight: 5 }), spec('b'), spec('c')]);
    const seq = Array.from({ length: 7 }, (_, i) => b.pick(i)!.id).join('');
    expect(seq).toBe('aabacaa');
    const counts = countPicks(b, 700);
    expect(counts).toEqual({ a: 500, b: 100, c: 100 });
  });

  it('derives weights from CPU limits when none is given (--cpus 2 vs 0.5 → 4:1)', () => {
    const b = healthyBalancer([spec('big', { cpuLimit: 2 }), spec('small', { cpuLimit: 0.5 })]);
    const counts = countPicks(b, 500);
    expect(counts.big).toBe(400);
    expect(counts.small).toBe(100);
    expect(b.runtime(0).map((r) => r.weight)).toEqual([1.6, 0.4]);
  });

  it('honours a run-time weight change', () => {
    const b = healthyBalancer(ids(2));
    expect(b.setWeight('b1', 3)).toBe(true);
    expect(b.setWeight('nope', 3)).toBe(false);
    expect(countPicks(b, 400)).toEqual({ b1: 300, b2: 100 });
  });
});

describe('least-connections', () => {
  it('picks the backend with fewest in-flight per weight, breaking ties at random', () => {
    const b = healthyBalancer(ids(3), { mode: 'least-connections' });
    b.begin(0, 0);
    b.begin(1, 0);
    expect(b.pick(0)!.id).toBe('b3');
    const c = healthyBalancer(ids(3), { mode: 'least-connections' });
    const counts = countPicks(c, 3000);
    for (const id of ['b1', 'b2', 'b3']) expect(counts[id]).toBeGreaterThan(850);
  });
});

describe('slow start', () => {
  it('ramps a joining backend from a small share to its full share over the window', () => {
    const b = new Balancer(options({ mode: 'round-robin', slowStartMs: 30_000 }));
    b.setBackends(ids(2), 0);
    b.reportHealth('b1', true, -60_000);
    b.reportHealth('b2', true, 0);
    const early = countPicks(b, 1000, 1000);
    const mid = countPicks(b, 1000, 15_000);
    const late = countPicks(b, 1000, 31_000);
    expect(early.b2! / 1000).toBeLessThan(0.12);
    expect(mid.b2! / 1000).toBeGreaterThan(0.25);
    expect(mid.b2! / 1000).toBeLessThan(0.4);
    expect(late.b2).toBe(500);
    expect(b.runtime(15_000)[1]!.effectiveWeight).toBeCloseTo(0.5, 5);
  });

  it('applies in every mode', () => {
    for (const mode of BALANCER_MODES) {
      const b = new Balancer(options({ mode, slowStartMs: 30_000 }));
      b.setBackends(ids(2), 0);
      b.reportHealth('b1', true, -60_000);
      b.reportHealth('b2', true, 0);
      const r = simulate(
        b,
        [
          { id: 'b1', serviceMs: () => 1 },
          { id: 'b2', serviceMs: () => 1 },
        ],
        { ratePerMs: 0.5, durationMs: 2000 },
      );
      expect(shares(r.counts).b2, mode).toBeLessThan(0.3);
    }
  });
});

describe('resource-aware', () => {
  it('spreads load in proportion to capacity and keeps p99 far below round-robin (heterogeneous backends)', () => {
    // service times ∝ 1/cpus for --cpus 0.5, 0.5, 0.125: capacity 0.2+0.2+0.05 = 0.45 req/ms
    const backends = [
      { id: 'b1', serviceMs: () => 5 },
      { id: 'b2', serviceMs: () => 5 },
      { id: 'b3', serviceMs: () => 20 },
    ];
    const run = (mode: BalancerMode) =>
      simulate(healthyBalancer(ids(3), { mode }), backends, {
        ratePerMs: 0.36,
        durationMs: 60_000,
        metricsEveryMs: 1000,
      });
    const ra = run('resource-aware');
    const rr = run('round-robin');
    const s = shares(ra.counts);
    expect(s.b3).toBeLessThan(0.15);
    expect(s.b3).toBeGreaterThan(0.01);
    expect(Math.abs(s.b1! - s.b2!)).toBeLessThan(0.05);
    expect(quantile(ra.latencies, 0.99)).toBeLessThan(0.3 * quantile(rr.latencies, 0.99));
  });

  it('does not herd onto the best-scored backend between metric refreshes', () => {
    const b = healthyBalancer(ids(3), { mode: 'resource-aware' });
    b.setMetrics('b1', 0.05, 0.1, 0);
    b.setMetrics('b2', 0.5, 0.1, 0);
    b.setMetrics('b3', 0.5, 0.1, 0);
    // 60 requests start before anything completes or metrics refresh
    const counts: Record<string, number> = {};
    for (let i = 0; i < 60; i++) {
      const p = b.pick(1)!;
      b.begin(p.slot, 1);
      counts[p.id] = (counts[p.id] ?? 0) + 1;
    }
    expect(counts.b1).toBeLessThan(45);
    expect(counts.b2).toBeGreaterThan(5);
    expect(counts.b3).toBeGreaterThan(5);
  });

  it('skips a backend whose memory is nearly full while another has room; CPU alone never excludes', () => {
    const b = healthyBalancer(ids(3), { mode: 'resource-aware', metricsStaleMs: 5000 });
    b.setMetrics('b1', 0.3, 0.1, 0);
    b.setMetrics('b2', 0.3, 0.1, 0);
    b.setMetrics('b3', 0.3, 0.95, 0);
    expect(countPicks(b, 600, 1000).b3).toBeUndefined();
    // a pinned CPU is a capacity question (the learned weight), not an exclusion
    b.setMetrics('b3', 1, 0.1, 1000);
    expect(countPicks(b, 600, 1500).b3).toBeGreaterThan(150);
    // stale metrics say nothing: not excluded any more
    b.setMetrics('b3', 0.3, 0.95, 2000);
    expect(countPicks(b, 600, 2500).b3).toBeUndefined();
    expect(countPicks(b, 600, 8000).b3).toBeGreaterThan(150);
  });

  it('falls back to a hot backend rather than refuse a request', () => {
    const b = healthyBalancer(ids(2), { mode: 'resource-aware' });
    b.setMetrics('b1', 0.1, 0.1, 0);
    b.setMetrics('b2', 0.1, 0.95, 0);
    b.setDraining('b1', true);
    expect(b.pick(10)!.id).toBe('b2');
  });

  it('learns capacity as completions/s per unit of CPU, after a blackout, clamped, and forgets it when it expires', () => {
    const b = healthyBalancer(ids(2), { mode: 'resource-aware', metricsStaleMs: 5000 });
    const weights = (now: number) => b.runtime(now).map((r) => r.effectiveWeight);
    // every second: both complete 50 requests; b1 at 25 % CPU, b2 at 75 % (3× less capacity)
    const second = (t: number, cpu1 = 0.25, cpu2 = 0.75) => {
      for (let i = 0; i < 50; i++)
        for (const slot of [0, 1]) {
          b.begin(slot, t);
          b.end(slot, t, 5, 'success');
        }
      b.setMetrics('b1', cpu1, 0.1, t);
      b.setMetrics('b2', cpu2, 0.1, t);
    };
    for (let t = 0; t <= 9000; t += 1000) second(t);
    expect(weights(9000)).toEqual([1, 1]); // blackout: prior weights
    for (let t = 10_000; t <= 40_000; t += 1000) second(t);
    const [w1, w2] = weights(40_000) as [number, number];
    expect(w1 / w2).toBeCloseTo(3, 1);
    expect((w1 + w2) / 2).toBeCloseTo(1, 5); // normalised to the prior's scale
    // the learned weight is what selection uses: with requests piling up, b1 holds 3× as many
    const inFlight: Record<string, number> = {};
    for (let i = 0; i < 400; i++) {
      const p = b.pick(40_000)!;
      b.begin(p.slot, 40_000);
      inFlight[p.id] = (inFlight[p.id] ?? 0) + 1;
    }
    expect(inFlight.b1! / inFlight.b2!).toBeCloseTo(3, 0);
    for (const slot of [0, 1])
      while (b.runtime(40_000)[slot]!.inFlight > 0) b.end(slot, 40_000, 5, 'aborted');
    // a backend that serves almost nothing per unit of CPU (a neighbour took it) is clamped
    // to half its prior weight: it may still have capacity the others need
    for (let t = 41_000; t <= 80_000; t += 1000) second(t, 0.05, 1);
    const [c1, c2] = weights(80_000) as [number, number];
    expect(c2).toBeCloseTo(0.5, 5);
    expect(c1).toBeGreaterThan(1.8);
    expect(c1).toBeLessThanOrEqual(2);
    expect(c2).toBeGreaterThan(0);
    // no refresh for longer than the expiry: back to the prior
    expect(weights(80_000 + 181_000)).toEqual([1, 1]);
    // CPU limits set the prior; the learned factor corrects it relative to the pool
    const limited = healthyBalancer([spec('big', { cpuLimit: 2 }), spec('small', { cpuLimit: 0.5 })], {
      mode: 'resource-aware',
    });
    expect(limited.runtime(0).map((r) => r.effectiveWeight)).toEqual([1.6, 0.4]);
  });

  it('lets an admin weight override win over the learned capacity', () => {
    const b = healthyBalancer(ids(2), { mode: 'resource-aware' });
    b.setWeight('b2', 3);
    expect(b.runtime(0).map((r) => r.effectiveWeight)).toEqual([1, 3]);
  });

  it('moves traffic away from a backend whose CPU is taken by a noisy neighbour', () => {
    const backends = [
      { id: 'b1', serviceMs: () => 5 },
      { id: 'b2', serviceMs: () => 5 },
      { id: 'b3', serviceMs: (t: number) => (t > 10_000 ? 25 : 5) },
    ];
    const r = simulate(healthyBalancer(ids(3), { mode: 'resource-aware' }), backends, {
      ratePerMs: 0.3,
      durationMs: 30_000,
      metricsEveryMs: 1000,
    });
    const after = r.log.filter(([t]) => t > 15_000).map(([, id]) => id);
    const share = after.filter((id) => id === 'b3').length / after.length;
    expect(share).toBeLessThan(0.15);
  });
});

describe('latency (peak-EWMA, two choices)', () => {
  it('gives identical backends shares within a few percent', () => {
    const backends = ids(3).map((s) => ({ id: s.id, serviceMs: () => 4 }));
    const r = simulate(healthyBalancer(ids(3), { mode: 'latency' }), backends, {
      ratePerMs: 0.4,
      durationMs: 60_000,
    });
    const s = shares(r.counts);
    for (const id of ['b1', 'b2', 'b3']) expect(Math.abs(s[id]! - 1 / 3)).toBeLessThan(0.04);
  });

  it('takes traffic from a backend that turns slow within seconds and gives it back within seconds of recovery', () => {
    const slow = (t: number) => t > 20_000 && t < 40_000;
    const backends = [
      { id: 'b1', serviceMs: () => 4 },
      { id: 'b2', serviceMs: () => 4 },
      { id: 'b3', serviceMs: (t: number) => (slow(t) ? 40 : 4) },
    ];
    const r = simulate(healthyBalancer(ids(3), { mode: 'latency' }), backends, {
      ratePerMs: 0.3,
      durationMs: 70_000,
    });
    const shareIn = (from: number, to: number) => {
      const slice = r.log.filter(([t]) => t >= from && t < to);
      return slice.filter(([, id]) => id === 'b3').length / slice.length;
    };
    expect(shareIn(10_000, 20_000)).toBeGreaterThan(0.25);
    expect(shareIn(23_000, 40_000)).toBeLessThan(0.12);
    expect(shareIn(50_000, 70_000)).toBeGreaterThan(0.2);
  });

  it('never starves a healthy backend over a minute, even after a burst of slow answers', () => {
    const b = healthyBalancer(ids(2), { mode: 'latency' });
    for (let i = 0; i < 5; i++) {
      b.begin(1, i);
      b.end(1, i, 2000, 'success');
    }
    const backends = [
      { id: 'b1', serviceMs: () => 2 },
      { id: 'b2', serviceMs: () => 2 },
    ];
    const r = simulate(b, backends, { ratePerMs: 0.05, durationMs: 60_000 });
    expect(r.counts.b2).toBeGreaterThan(0);
    const last = r.log.filter(([t]) => t > 30_000);
    expect(last.filter(([, id]) => id === 'b2').length / last.length).toBeGreaterThan(0.3);
  });

  it('starts a new backend from the pool mean plus a fading penalty, not from zero', () => {
    const b = healthyBalancer(ids(2), { mode: 'latency' });
    for (let i = 0; i < 50; i++) {
      const p = b.pick(i)!;
      b.begin(p.slot, i);
      b.end(p.slot, i, 10, 'success');
    }
    b.setBackends([...ids(2), spec('new')], 100);
    b.reportHealth('new', true, 100);
    const counts = countPicks(b, 300, 100);
    expect(counts.new).toBeLessThan(100);
  });
});

describe('sticky sessions', () => {
  it('cookie: keeps a client on its backend, moves and rewrites when that backend goes', () => {
    const b = healthyBalancer(
      ids(3).map((s) => ({ ...s, sticky: { kind: 'cookie' as const, cookie: 'sid' } })),
    );
    const first = b.pick(0)!;
    expect(first.setCookie).toBeDefined();
    for (let i = 0; i < 20; i++) {
      const again = b.pick(i, { cookie: first.setCookie });
      expect(again!.id).toBe(first.id);
      expect(again!.setCookie).toBeUndefined();
    }
    b.setDraining(first.id, true);
    const moved = b.pick(30, { cookie: first.setCookie })!;
    expect(moved.id).not.toBe(first.id);
    expect(moved.setCookie).toBeDefined();
    expect(moved.setCookie).not.toBe(first.setCookie);
  });

  it("header: rendezvous hashing moves only the leaving backend's clients", () => {
    const sticky = { kind: 'header' as const, header: 'x-user' };
    const specs = ids(4).map((s) => ({ ...s, sticky }));
    const b = healthyBalancer(specs);
    const keys = Array.from({ length: 400 }, (_, i) => `user-${i}`);
    const before = new Map(keys.map((k) => [k, b.pick(0, { header: k })!.id]));
    const owners = new Set(before.values());
    expect(owners.size).toBe(4);
    b.setDraining('b2', true);
    let moved = 0;
    for (const k of keys) {
      const now = b.pick(1, { header: k })!.id;
      if (before.get(k) === 'b2') expect(now).not.toBe('b2');
      else if (now !== before.get(k)) moved++;
    }
    expect(moved).toBe(0);
  });
});

describe('properties', () => {
  const backendArb = fc.record({
    healthy: fc.boolean(),
    draining: fc.boolean(),
    weight: fc.option(fc.double({ min: 0.01, max: 100, noNaN: true }), { nil: undefined }),
    cpuLimit: fc.option(fc.double({ min: 0.01, max: 64, noNaN: true }), { nil: undefined }),
    cpu: fc.option(fc.double({ min: -1, max: 5, noNaN: true }), { nil: null }),
    mem: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
    inFlight: fc.integer({ min: 0, max: 50 }),
    latency: fc.option(fc.double({ min: 0, max: 10_000, noNaN: true }), { nil: undefined }),
  });

  it('never picks an ineligible backend when an eligible one exists; undefined iff none is eligible', () => {
    fc.assert(
      fc.property(
        fc.array(backendArb, { minLength: 0, maxLength: 8 }),
        fc.constantFrom(...BALANCER_MODES),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer(),
        (backends, mode, now, seed) => {
          const b = new Balancer(options({ mode, slowStartMs: 30_000, random: mulberry32(seed) }));
          b.setBackends(
            backends.map((x, i) => spec(`b${i}`, { weight: x.weight, cpuLimit: x.cpuLimit })),
            0,
          );
          backends.forEach((x, i) => {
            if (x.healthy) b.reportHealth(`b${i}`, true, 0);
            if (x.draining) b.setDraining(`b${i}`, true);
            b.setMetrics(`b${i}`, x.cpu, x.mem, now);
            for (let k = 0; k < x.inFlight; k++) b.begin(i, 0);
            if (x.latency !== undefined) {
              b.begin(i, 0);
              b.end(i, 0, x.latency, 'success');
            }
          });
          const eligible = new Set(backends.flatMap((x, i) => (x.healthy && !x.draining ? [`b${i}`] : [])));
          for (let k = 0; k < 20; k++) {
            const p = b.pick(now + k);
            if (eligible.size === 0) expect(p).toBeUndefined();
            else expect(eligible.has(p!.id)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
