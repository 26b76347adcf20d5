// The overload claims of issue #26 in the balancer simulation (Poisson arrivals, the six
// benchmark scenarios' service times, the proxy's queue): limits and one queue per service
// bound what a client waits past capacity, and resource-aware keeps its lead below it.
// SIM_PRINT=1 prints the whole table (docs/benchmarks.md "Simulation").
import { BALANCER_MODES, type BalancerMode } from '@headroom/shared';
import { describe, expect, it } from 'vitest';
import {
  healthyBalancer,
  quantile,
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

describe('at 120 % of capacity (limits and the queue)', () => {
  // the scenarios whose capacity does not drop during the run (noisy-neighbour and io-slow
  // lose a third of a backend a third of the way in: their goodput is against less)
  it.each(['heterogeneous', 'unequal', 'hot-cpu'])(
    '%s: goodput ≥ 0.95 × capacity, served p99 within the queue deadline plus the time inside a backend, the excess shed',
    (scenario) => {
      const r = run(scenario, 'resource-aware', 1.2);
      expect(r.goodput).toBeGreaterThanOrEqual(0.95);
      const slowest = Math.max(...SIM_SCENARIOS[scenario]!.backends.map((b) => b.serviceMs(0)));
      // the deadline bounds the wait in the queue; a dispatched request then waits behind the
      // few its backend holds (its limit, ~2–3 for these one-at-a-time backends)
      expect(r.p99).toBeLessThanOrEqual(DEFAULT_QUEUE.timeoutMs + 3 * slowest);
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
    expect(limited.p99).toBeLessThan(DEFAULT_QUEUE.timeoutMs + 3 * 12);
  });
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
    process.stdout.write(`${lines.join('\n')}\n`);
  });
