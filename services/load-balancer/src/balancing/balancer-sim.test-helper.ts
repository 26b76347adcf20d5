// Test helpers: a seeded PRNG and a small discrete-event simulation of backends as
// single-server FIFO queues, so selection can be judged on what it does to latency.
import type { BackendSpec } from '../model/backend-spec.js';
import { Balancer } from './balancer.js';
import type { BalancerOptions } from './balancer-core.js';

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function spec(id: string, extra: Partial<BackendSpec> = {}): BackendSpec {
  return {
    id,
    url: `http://${id}:3000`,
    name: id,
    service: 'svc',
    source: 'static',
    healthPath: '/health',
    sticky: { kind: 'none' },
    ...extra,
  };
}

export function options(extra: Partial<BalancerOptions> = {}): BalancerOptions {
  return {
    mode: 'round-robin',
    cpuWeight: 0.8,
    memoryWeight: 0.2,
    metricsStaleMs: 5000,
    slowStartMs: 0,
    latencyDecayMs: 10_000,
    ejectAfterFailures: 3,
    ejectCooldownMs: 10_000,
    healthRise: 1,
    healthFall: 2,
    random: mulberry32(42),
    ...extra,
  };
}

/** A balancer with the given backends, all healthy at t=0. */
export function healthyBalancer(specs: BackendSpec[], extra: Partial<BalancerOptions> = {}): Balancer {
  const opts = options(extra);
  const b = new Balancer(opts);
  b.setBackends(specs, 0);
  for (let i = 0; i < opts.healthRise; i++) for (const s of specs) b.reportHealth(s.id, true, 0);
  return b;
}

export interface SimBackend {
  id: string;
  /** Service time per request in ms (may change over time). */
  serviceMs: (t: number) => number;
  /** CPU reported on top of the request work (a burner, a neighbour), 0..1; default none. */
  extraCpu?: (t: number) => number;
  /** Fraction of the service time that shows as CPU (1 = CPU-bound, 0 = waiting on I/O); default 1. */
  cpuShare?: number;
}

export interface SimResult {
  counts: Record<string, number>;
  latencies: number[];
  /** [t, id] per request, for time-sliced shares. */
  log: Array<[number, string]>;
}

/**
 * Poisson arrivals at `ratePerMs`, FIFO single server per backend. The balancer sees
 * begin/end at the real times and, optionally, a CPU sample per backend every
 * `metricsEveryMs` (utilization over the last interval), as a stats stream would give.
 */
export function simulate(
  b: Balancer,
  backends: SimBackend[],
  opts: { ratePerMs: number; durationMs: number; seed?: number; metricsEveryMs?: number },
): SimResult {
  const rnd = mulberry32(opts.seed ?? 7);
  const freeAt = new Map(backends.map((x) => [x.id, 0]));
  const busy = new Map(backends.map((x) => [x.id, 0]));
  const byId = new Map(backends.map((x) => [x.id, x]));
  const pending: Array<{ at: number; slot: number; id: string; started: number; ahead: number }> = [];
  const counts: Record<string, number> = Object.fromEntries(backends.map((x) => [x.id, 0]));
  const latencies: number[] = [];
  const log: Array<[number, string]> = [];
  let t = 0;
  let nextMetrics = opts.metricsEveryMs ?? Number.POSITIVE_INFINITY;
  while (t < opts.durationMs) {
    t += -Math.log(1 - rnd()) / opts.ratePerMs;
    // complete everything due before this arrival, in time order
    pending.sort((x, y) => x.at - y.at);
    while (pending.length > 0 && pending[0]!.at <= t) {
      const done = pending.shift()!;
      b.end(done.slot, done.at, done.at - done.started, 'success', done.ahead);
    }
    while (t >= nextMetrics) {
      const every = opts.metricsEveryMs!;
      for (const x of backends) {
        const cpu = (busy.get(x.id)! / every) * (x.cpuShare ?? 1) + (x.extraCpu?.(nextMetrics) ?? 0);
        b.setMetrics(x.id, Math.min(1, cpu), 0.2, nextMetrics);
        busy.set(x.id, 0);
      }
      nextMetrics += every;
    }
    const pick = b.pick(t);
    if (!pick) continue;
    const backend = byId.get(pick.id)!;
    const service = backend.serviceMs(t);
    const start = Math.max(t, freeAt.get(pick.id)!);
    const finish = start + service;
    freeAt.set(pick.id, finish);
    busy.set(pick.id, busy.get(pick.id)! + service);
    const ahead = b.begin(pick.slot, t);
    pending.push({ at: finish, slot: pick.slot, id: pick.id, started: t, ahead });
    counts[pick.id]!++;
    latencies.push(finish - t);
    log.push([t, pick.id]);
  }
  return { counts, latencies, log };
}

export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

export function shares(counts: Record<string, number>): Record<string, number> {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / total]));
}
