// The overload claims of issue #26 in the balancer simulation (Poisson arrivals, the six
// benchmark scenarios' service times, the proxy's queue): limits and one queue per service
// bound what a client waits past capacity, and resource-aware keeps its lead below it.
// SIM_PRINT=1 prints the whole table (docs/benchmarks.md "Simulation").
import { BALANCER_MODES, type BalancerMode } from '@headroom/shared';
import { describe, expect, it } from 'vitest';
import {
  BENCH_CPU_MS,
  CFS_PERIOD_MS,
  HETEROGENEOUS_AS_BENCHED,
  healthyBalancer,
  longestStreak,
  quantile,
  quotaFinish,
  SIM_SCENARIOS,
  shares,
  simulate,
  spec,
} from './balancer-sim.test-helper.js';
import { DEFAULT_QUEUE } from './service-queue.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => spec(`b${i + 1}`));
const DURATION_MS = 60_000;

/** `maxConn`: a static limit on every backend (lb.maxconn), else the adaptive one. */
function run(scenario: string, mode: BalancerMode, load: number, maxConn?: number) {
  const sc = SIM_SCENARIOS[scenario]!;
  const specs = ids(sc.backends.length).map((s) => ({ ...s, maxConn }));
  const r = simulate(healthyBalancer(specs, { mode }), sc.backends, {
    ratePerMs: sc.capacityPerMs * load,
    durationMs: DURATION_MS,
    metricsEveryMs: 1000,
  });
  return {
    ...r,
    p99: quantile(r.latencies, 0.99),
    p50: quantile(r.latencies, 0.5),
    // served per ms of the run over the capacity at the start
    goodput: r.served / DURATION_MS / sc.capacityPerMs,
  };
}

/** The scenario's capacity (req/ms) at `t`: every backend busy, one request at a time each. */
function capacityAt(scenario: string, t: number): number {
  return SIM_SCENARIOS[scenario]!.backends.reduce((sum, b) => sum + 1 / b.serviceMs(t), 0);
}

/** Mean and least capacity over the run (noisy-neighbour and io-slow lose part of a backend at 20 s). */
function capacityOverRun(scenario: string): { mean: number; least: number } {
  const samples = Array.from({ length: DURATION_MS / 100 }, (_, i) => capacityAt(scenario, i * 100 + 50));
  return { mean: samples.reduce((a, b) => a + b, 0) / samples.length, least: Math.min(...samples) };
}

/**
 * A closed loop of `clients` (each sends its next request as soon as it has its answer): the
 * service saturated, not overloaded. Sized by the least capacity of the run so that every answer
 * comes within the deadline even after a backend slows: clients ÷ capacity ≤ 0.8 × the deadline.
 */
function closedLoopClients(scenario: string): number {
  return Math.min(900, Math.floor(0.8 * DEFAULT_QUEUE.timeoutMs * capacityOverRun(scenario).least));
}

function runClosed(scenario: string, mode: BalancerMode, clients: number) {
  const sc = SIM_SCENARIOS[scenario]!;
  const r = simulate(healthyBalancer(ids(sc.backends.length), { mode }), sc.backends, {
    ratePerMs: 0,
    durationMs: DURATION_MS,
    metricsEveryMs: 1000,
    clients: { count: clients },
  });
  return {
    ...r,
    p99: quantile(r.latencies, 0.99),
    p50: quantile(r.latencies, 0.5),
    goodput: r.served / DURATION_MS / sc.capacityPerMs,
  };
}

const shedOf = (r: { shed: { full: number; 'predicted-wait': number; timeout: number } }) =>
  r.shed.full + r.shed['predicted-wait'] + r.shed.timeout;

describe('at 120 % of capacity (limits and the queue)', () => {
  // the scenarios whose capacity does not drop during the run (noisy-neighbour and io-slow
  // lose a third of a backend a third of the way in: their goodput is against less)
  it.each(['heterogeneous', 'unequal', 'hot-cpu'])(
    '%s: goodput ≥ 0.95 × capacity, served p99 within the queue deadline, the excess shed',
    (scenario) => {
      const r = run(scenario, 'resource-aware', 1.2);
      expect(r.goodput).toBeGreaterThanOrEqual(0.95);
      // the deadline is a response budget: the wait and the time inside a backend both within it
      expect(r.p99).toBeLessThanOrEqual(DEFAULT_QUEUE.timeoutMs);
      const shed = r.shed.full + r.shed['predicted-wait'] + r.shed.timeout;
      expect(shed).toBeGreaterThan(0.1 * r.offered);
      // every request is answered: served or shed, none left hanging
      expect(r.served + shed).toBe(r.offered);
    },
  );

  it('without limits the backends queue without bound and the served p99 runs away', () => {
    const unlimited = run('unequal', 'resource-aware', 1.2, 100_000);
    const limited = run('unequal', 'resource-aware', 1.2);
    // nothing is shed, so every request waits behind all the excess so far: after 60 s that
    // is ~1.8× the bounded p99, and it keeps growing with the run
    expect(unlimited.shed).toEqual({ full: 0, 'predicted-wait': 0, timeout: 0 });
    expect(unlimited.p99).toBeGreaterThan(1.5 * limited.p99);
    expect(limited.p99).toBeLessThanOrEqual(DEFAULT_QUEUE.timeoutMs);
  });

  // The response budget (service-queue.ts): a request is served only if its wait plus its
  // backend's expected time is within QUEUE_TIMEOUT_MS. With the deadline as a bound on the wait
  // alone, one that waited 1.99 s was then served: served p99 up to 2.19 s at 120 % here.
  it.each(Object.keys(SIM_SCENARIOS))(
    '%s, every mode: served p99 ≤ QUEUE_TIMEOUT_MS, goodput ≥ 0.95 × the capacity the run had',
    (scenario) => {
      const { mean } = capacityOverRun(scenario);
      for (const mode of BALANCER_MODES) {
        const r = run(scenario, mode, 1.2);
        expect(r.p99, `${scenario} ${mode}`).toBeLessThanOrEqual(DEFAULT_QUEUE.timeoutMs);
        const sc = SIM_SCENARIOS[scenario]!;
        expect(r.goodput * (sc.capacityPerMs / mean), `${scenario} ${mode}`).toBeGreaterThanOrEqual(0.95);
        expect(r.served + shedOf(r)).toBe(r.offered);
      }
    },
  );
});

// Saturated is not overloaded (the controlled delay reverted in 7bce654 confused them): a closed
// loop sends no faster than answers come back, so its queue stands still. While every answer comes
// within the deadline, the response budget sheds none of it, in every scenario and mode.
describe('a closed loop that saturates the service', () => {
  it.each(Object.keys(SIM_SCENARIOS))(
    '%s: 12 clients, and as many as answer in 0.8 × the deadline: nothing shed',
    (scenario) => {
      for (const clients of [12, closedLoopClients(scenario)])
        for (const mode of BALANCER_MODES) {
          const r = runClosed(scenario, mode, clients);
          const what = `${scenario} ${mode} ${clients} clients: ${JSON.stringify(r.shed)}`;
          expect(shedOf(r), what).toBe(0);
          // saturated: the backends serve what they can (the loop keeps them busy)
          expect(r.served, what).toBeGreaterThan(0.9 * DURATION_MS * capacityOverRun(scenario).mean);
        }
    },
  );
});

describe('below capacity, limits on', () => {
  it('heterogeneous at 80 %: the 0.125-core backend gets less than under least-connections and p99 is lower', () => {
    const ra = run('heterogeneous', 'resource-aware', 0.8);
    const lc = run('heterogeneous', 'least-connections', 0.8);
    expect(shares(ra.counts).b3!).toBeLessThan(shares(lc.counts).b3!);
    expect(ra.p99).toBeLessThan(0.7 * lc.p99);
  });

  // hot-cpu is not here: at 30 % three equal deterministic 4 ms servers are best served by
  // round-robin's strict interleave (two requests never meet), and resource-aware's CPU
  // pressure deliberately prefers the two cooler ones (docs/benchmarks.md, Simulation)
  it.each(['heterogeneous', 'unequal'])(
    '%s: resource-aware p99 ≤ 1.05× the best mode at 30 % and 80 %',
    (scenario) => {
      for (const load of [0.3, 0.8]) {
        const p99 = Object.fromEntries(BALANCER_MODES.map((m) => [m, run(scenario, m, load).p99]));
        const best = Math.min(...Object.values(p99));
        expect(p99['resource-aware'], `${scenario} at ${load}: ${JSON.stringify(p99)}`).toBeLessThanOrEqual(
          1.05 * best + 0.5,
        );
      }
    },
  );
});

describe('the CFS quota model', () => {
  // budget 50 ms per 100 ms period (--cpus 0.5)
  it.each([
    // [used in the period so far, start, work, finish]
    [0, 0, 10, 10],
    [45, 20, 10, 105], // 5 ms run, throttled to the next period, 5 ms more
    [50, 20, 10, 110], // the budget is spent: waits for the next period
    [0, 95, 10, 105], // crosses into a new period with a fresh budget
    [0, 0, 120, 220], // 50 in each of the first two periods, the last 20 from 200 ms
  ])('used %d, start %d, work %d → finish %d', (used, start, work, finish) => {
    const q = { period: Math.floor(start / CFS_PERIOD_MS), used };
    expect(quotaFinish(q, 0.5, start, work)).toBeCloseTo(finish, 6);
  });
});

/**
 * CPU per request in the quiet benchmark of 2026-12-07 09:39: 1.125 cores ÷ 94.0 req/s measured
 * (docs/benchmarks.md). Under the 0.125-core backend's 12.5 ms a period, where 06:54's 12.6 ms
 * was over it: the knife edge that decides whether that backend answers unthrottled.
 */
const CPU_MS_0939 = 1125 / 94;

/** heterogeneous with CPU quotas and the benchmark's paced arrivals, one mode. */
function runAsBenched(
  mode: BalancerMode,
  load: number,
  arrivals: 'paced' | 'poisson' = 'paced',
  cpuMs = BENCH_CPU_MS,
) {
  const h = HETEROGENEOUS_AS_BENCHED;
  const specs = ids(3).map((s, i) => ({ ...s, cpuLimit: h.cpuLimits[i] }));
  const backends = h.backends.map((b) => ({ ...b, serviceMs: () => cpuMs }));
  const r = simulate(healthyBalancer(specs, { mode }), backends, {
    ratePerMs: (1.125 / cpuMs) * load,
    durationMs: DURATION_MS,
    metricsEveryMs: 1000,
    arrivals,
  });
  return { ...r, p99: quantile(r.latencies, 0.99), p90: quantile(r.latencies, 0.9) };
}

// What the benchmark's heterogeneous scenario does at 80 % that the fixed-service-time rows
// above do not: with a CPU quota a backend's speed is not a constant. Both 0.5-core backends
// answer in 12.6 ms while their 50 ms budget per 100 ms lasts. At paced arrivals they are idle
// at almost every pick, so resource-aware without a quota model sends each request to the one
// whose service-time estimate is lower, several in a row, until that one has spent its budget
// and its throttled answers come back slow; then the other takes the streak. It lost p99 to
// least-connections that way (measured, docs/benchmarks.md 06:54: 60.5 against 44.7 ms; here
// 59.4 against 57.0). The quota bucket (cpu-quota.ts) prices the budget a streak spends once the
// capacity learner knows the CPU per request (after its 10 s blackout).
describe('heterogeneous as the benchmark runs it (CFS quotas, paced arrivals)', () => {
  it('at 80 % resource-aware streaks into the quotas until it knows the CPU per request, then throttles half as often; its p99 matches least-connections', () => {
    const ra = runAsBenched('resource-aware', 0.8);
    const lc = runAsBenched('least-connections', 0.8);
    // neither sends the 0.125-core backend anything, as in the benchmark (0.4 % and 0 %)
    expect(shares(ra.counts).b3!).toBeLessThan(0.01);
    expect(shares(lc.counts).b3!).toBeLessThan(0.01);
    // 50 ms of budget is 4 requests: before the capacity is learned a streak passes it
    const perPeriod = (0.5 * CFS_PERIOD_MS) / BENCH_CPU_MS;
    expect(longestStreak(ra.log, 0, 10_000)).toBeGreaterThan(perPeriod + 2);
    // after it the streaks stop spending whole budgets: a tenth of its answers are throttled
    // (p90 29 ms), a fifth without the bucket (p90 57 ms: a period's wait); least-connections 18.5
    expect(ra.p90).toBeLessThan(40);
    expect(ra.p99).toBeLessThanOrEqual(lc.p99 + 0.5);
  });
});

// With 12.0 ms of CPU per request (the 09:39 run) one request fits in the 0.125-core
// backend's period. Weighted round-robin's paced requests reach each backend evenly spaced,
// every one inside its budget: p99 12.0 ms, as in the benchmark, where it had the lowest median.
// Resource-aware drew at random between idle backends, and a run of requests to one spent its
// budget (p99 56.7 ms, the 0.125-core backend unused). Ties now go to the backend idle longest,
// and a backend whose quota is modelled is priced at full speed with its budget's wait.
describe('heterogeneous as benchmarked at 09:39 (12.0 ms of CPU: one request fits the small quota)', () => {
  it('at 80 % resource-aware matches weighted round-robin (p99 ≤ 1.05×) and uses the 0.125-core backend', () => {
    const ra = runAsBenched('resource-aware', 0.8, 'paced', CPU_MS_0939);
    const rr = runAsBenched('round-robin', 0.8, 'paced', CPU_MS_0939);
    const lc = runAsBenched('least-connections', 0.8, 'paced', CPU_MS_0939);
    expect(rr.p99).toBeLessThan(13);
    expect(ra.p99).toBeLessThanOrEqual(1.05 * rr.p99);
    // least-connections leaves the small backend out and runs the others into their quotas
    expect(lc.p99).toBeGreaterThan(3 * rr.p99);
    expect(shares(ra.counts).b3!).toBeGreaterThan(0.02);
  });
});

// The table in docs/benchmarks.md ("Overload in simulation") is a report, not a check: it is
// registered only when asked for (SIM_PRINT=1), never reported as a skipped test.
if (process.env.SIM_PRINT === '1')
  it('prints the table', { timeout: 300_000 }, () => {
    const lines = [
      '| scenario | load | mode | p50 ms | p99 ms | goodput | shed | slowest share |',
      '|---|---|---|---|---|---|---|---|',
    ];
    for (const scenario of Object.keys(SIM_SCENARIOS))
      for (const load of [0.3, 0.8, 1.2])
        for (const mode of BALANCER_MODES) {
          const r = run(scenario, mode, load);
          const shed = r.shed.full + r.shed['predicted-wait'] + r.shed.timeout;
          lines.push(
            `| ${scenario} | ${load * 100} % | ${mode} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.goodput.toFixed(2)} | ${((shed / r.offered) * 100).toFixed(1)} % | ${(shares(r.counts).b3! * 100).toFixed(1)} % |`,
          );
        }
    for (const scenario of Object.keys(SIM_SCENARIOS))
      for (const clients of [12, closedLoopClients(scenario)])
        for (const mode of BALANCER_MODES) {
          const r = runClosed(scenario, mode, clients);
          lines.push(
            `| ${scenario}, closed loop | ${clients} clients | ${mode} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.goodput.toFixed(2)} | ${((shedOf(r) / r.offered) * 100).toFixed(1)} % | ${(shares(r.counts).b3! * 100).toFixed(1)} % |`,
          );
        }
    for (const cpuMs of [BENCH_CPU_MS, CPU_MS_0939])
      for (const arrivals of ['paced', 'poisson'] as const)
        for (const load of [0.3, 0.8])
          for (const mode of BALANCER_MODES) {
            const r = runAsBenched(mode, load, arrivals, cpuMs);
            lines.push(
              `| heterogeneous, CFS quotas, ${cpuMs.toFixed(1)} ms, ${arrivals} | ${load * 100} % | ${mode} | ${quantile(r.latencies, 0.5).toFixed(1)} | ${r.p99.toFixed(1)} | — | — | ${(shares(r.counts).b3! * 100).toFixed(1)} % |`,
            );
          }
    process.stdout.write(`${lines.join('\n')}\n`);
  });
