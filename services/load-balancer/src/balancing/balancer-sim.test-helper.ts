// Test helpers: a seeded PRNG and a small discrete-event simulation of backends as
// single-server FIFO queues, so selection can be judged on what it does to latency.
import type { BackendSpec } from '../model/backend-spec.js';
import { Balancer } from './balancer.js';
import type { BalancerOptions } from './balancer-core.js';
import { CFS_PERIOD_MS } from './cpu-quota.js';
import { DEFAULT_QUEUE, pastResponseBudget, RETRY_AFTER_MIN_S, ServiceQueue } from './service-queue.js';

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
  /**
   * A CPU quota (`docker run --cpus`), as the kernel's CFS enforces it: `serviceMs` is then the
   * CPU work of a request, run at full speed while the period's budget (cpus × CFS_PERIOD_MS)
   * lasts and throttled to the next period when it is spent. So a backend with budget left
   * answers fast and one that spent it answers up to a period later: the burst a mean service
   * time hides. Without it, `serviceMs` is the wall time of a request.
   */
  cpus?: number;
}

export { CFS_PERIOD_MS };

/** CFS accounting of one backend: the period it is in and the budget it has used in it. */
interface Quota {
  period: number;
  used: number;
}

/** Pure: when `work` ms of CPU started at `start` finishes under `cpus` of quota; updates `q`. */
export function quotaFinish(q: Quota, cpus: number, start: number, work: number): number {
  const budget = cpus * CFS_PERIOD_MS;
  let t = start;
  let left = work;
  for (;;) {
    const k = Math.floor(t / CFS_PERIOD_MS);
    if (k !== q.period) {
      q.period = k;
      q.used = 0;
    }
    const run = Math.min(budget - q.used, (k + 1) * CFS_PERIOD_MS - t, left);
    if (run > 0) {
      q.used += run;
      left -= run;
      t += run;
    }
    if (left <= 1e-9) return t;
    if (q.used >= budget - 1e-9) t = (k + 1) * CFS_PERIOD_MS;
  }
}

export interface SimResult {
  /** Requests dispatched to each backend. */
  counts: Record<string, number>;
  /** Served requests' latencies from arrival (queue wait included), ms. */
  latencies: number[];
  /** [t, id] per dispatch, for time-sliced shares. */
  log: Array<[number, string]>;
  /** Requests that arrived. */
  offered: number;
  /** Served requests that completed before the end of the run + the drain after it. */
  served: number;
  /** Requests answered 503 by the queue, by reason. */
  shed: { full: number; 'predicted-wait': number; timeout: number };
  /** Longest the queue got. */
  maxQueue: number;
}

export interface SimOptions {
  ratePerMs: number;
  durationMs: number;
  seed?: number;
  metricsEveryMs?: number;
  /**
   * `poisson` (default): exponential gaps, as independent users arrive; `paced`: one request
   * every 1 / rate ms, as the benchmark's open-loop generator (bench/src/lib/load.ts `paced`)
   * sends them. Paced arrivals never bunch, so queues form only where a backend is slower than
   * its share: the benchmark's regime, which Poisson's bursts hide.
   */
  arrivals?: 'poisson' | 'paced';
  /** The service queue's deadline and bound (QUEUE_TIMEOUT_MS, QUEUE_MAX); default as in production. */
  queue?: { timeoutMs: number; max: number };
  /**
   * A closed loop instead of open arrivals (`ratePerMs` is then unused): `count` clients, each
   * sending its next request `thinkMs` after its answer, or RETRY_AFTER_MIN_S after a 503 (what
   * Retry-After asks). Arrivals then never outrun completions: the queue saturates, it does not
   * grow, and nothing should be shed while the answers come within the deadline.
   */
  clients?: { count: number; thinkMs?: number };
}

/**
 * Poisson arrivals at `ratePerMs`; each backend a single FIFO server (a request queues inside
 * it behind the ones it already holds). The balancer is driven as the proxy drives it: a
 * request goes to pick() at once when nothing waits, else (or when pick() says wait) into
 * the service queue (ServiceQueue, the proxy's own), with its deadline and bound, the
 * predicted-wait shed and the response budget (a waiting request whose wait plus its backend's
 * expected time passes the deadline is shed, at the tick or at the hand-off); every completion
 * hands the oldest waiting request to pick() again (or, with `clients`, a closed loop sends).
 * Optionally a CPU sample per backend every `metricsEveryMs` (utilization over the interval),
 * as a stats stream would give. Event-driven: completions, arrivals and deadlines in time order.
 */
export function simulate(b: Balancer, backends: SimBackend[], opts: SimOptions): SimResult {
  const rnd = mulberry32(opts.seed ?? 7);
  const queueOpts = { ...(opts.queue ?? DEFAULT_QUEUE), cause: 'limit' as const };
  const freeAt = new Map(backends.map((x) => [x.id, 0]));
  const busy = new Map(backends.map((x) => [x.id, 0]));
  const byId = new Map(backends.map((x) => [x.id, x]));
  const quotas = new Map(backends.map((x) => [x.id, { period: -1, used: 0 }]));
  // completions in time order (small: at most the limits' sum)
  const pending: Array<{ at: number; slot: number; dispatched: number; arrived: number; ahead: number }> = [];
  const queue = new ServiceQueue<number>();
  const counts: Record<string, number> = Object.fromEntries(backends.map((x) => [x.id, 0]));
  const latencies: number[] = [];
  const log: Array<[number, string]> = [];
  const shed = { full: 0, 'predicted-wait': 0, timeout: 0 };
  let offered = 0;
  let maxQueue = 0;
  let nextMetrics = opts.metricsEveryMs ?? Number.POSITIVE_INFINITY;
  let lastT = 0;
  const gap =
    opts.arrivals === 'paced' ? () => 1 / opts.ratePerMs : () => -Math.log(1 - rnd()) / opts.ratePerMs;
  // closed loop: each client's next send, ascending (its first ones spread over the first 100 ms)
  const closed = opts.clients;
  const sends = closed ? Array.from({ length: closed.count }, (_, i) => (100 * i) / closed.count) : [];
  const sendAt = (at: number) => {
    if (!closed) return;
    let i = sends.length;
    while (i > 0 && sends[i - 1]! > at) i--;
    sends.splice(i, 0, at);
  };
  const answered = (t: number, ok: boolean) =>
    sendAt(t + (ok ? (closed?.thinkMs ?? 0) : RETRY_AFTER_MIN_S * 1000));
  let nextArrival = closed ? 0 : gap();
  const timeoutMs = queueOpts.timeoutMs;

  const dispatch = (t: number, arrived: number, pick: { slot: number; id: string }) => {
    const backend = byId.get(pick.id)!;
    const service = backend.serviceMs(t);
    const start = Math.max(t, freeAt.get(pick.id)!);
    const finish =
      backend.cpus === undefined
        ? start + service
        : quotaFinish(quotas.get(pick.id)!, backend.cpus, start, service);
    freeAt.set(pick.id, finish);
    busy.set(pick.id, busy.get(pick.id)! + service);
    const ahead = b.begin(pick.slot, t);
    const item = { at: finish, slot: pick.slot, dispatched: t, arrived, ahead };
    let i = pending.length;
    while (i > 0 && pending[i - 1]!.at > finish) i--;
    pending.splice(i, 0, item);
    counts[pick.id]!++;
    log.push([t, pick.id]);
  };
  const dispatchWaiting = (t: number) => {
    for (let head = queue.peek(); head !== undefined; head = queue.peek()) {
      const pick = b.pick(t, undefined, undefined, queue.size - 1);
      if (!pick) return;
      queue.shift();
      // the response budget, as Admission.dispatch applies it
      if (pastResponseBudget(t - head.at, b.expectedMs(pick.slot, t), timeoutMs)) {
        shed.timeout++;
        answered(t, false);
        continue;
      }
      dispatch(t, head.item, pick);
    }
  };

  for (;;) {
    // a closed loop's next send may have been added by the last answer
    if (closed) nextArrival = sends[0] ?? Number.POSITIVE_INFINITY;
    const arrivalOpen = nextArrival < opts.durationMs;
    const nextDone = pending[0]?.at ?? Number.POSITIVE_INFINITY;
    // as Admission's tick: the deadline, or the response budget for the fastest backend
    const fastest = b.fastestMs(lastT);
    const deadline = queue.nextDeadline(fastest) ?? Number.POSITIVE_INFINITY;
    const t = Math.min(arrivalOpen ? nextArrival : Number.POSITIVE_INFINITY, nextDone, deadline);
    if (t === Number.POSITIVE_INFINITY) break;
    lastT = t;
    while (t >= nextMetrics && nextMetrics < opts.durationMs) {
      const every = opts.metricsEveryMs!;
      for (const x of backends) {
        // relative to the CPU limit, as the engine's stats are read
        const cpu =
          (busy.get(x.id)! / every / (x.cpus ?? 1)) * (x.cpuShare ?? 1) + (x.extraCpu?.(nextMetrics) ?? 0);
        b.setMetrics(x.id, Math.min(1, cpu), 0.2, nextMetrics);
        busy.set(x.id, 0);
      }
      nextMetrics += every;
    }
    if (t === deadline && deadline < nextDone && !(arrivalOpen && nextArrival < deadline)) {
      for (const _ of queue.expire(t, fastest)) {
        shed.timeout++;
        answered(t, false);
      }
      continue;
    }
    if (t === nextDone) {
      const done = pending.shift()!;
      b.end(done.slot, done.at, done.at - done.dispatched, 'success', done.ahead);
      latencies.push(done.at - done.arrived);
      answered(t, true);
      queue.completed(t);
      dispatchWaiting(t);
      continue;
    }
    // an arrival
    offered++;
    if (closed) sends.shift();
    else nextArrival += gap();
    const pick = queue.size === 0 ? b.pick(t) : undefined;
    if (pick) {
      dispatch(t, t, pick);
      continue;
    }
    if (!b.hasEligible()) continue;
    const r = queue.admit(t, t, { ...queueOpts, serviceMs: b.fastestMs(t) });
    if (!r.ok) {
      shed[r.reason]++;
      answered(t, false);
    }
    if (queue.size > maxQueue) maxQueue = queue.size;
  }
  return { counts, latencies, log, offered, served: latencies.length, shed, maxQueue };
}

export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

export function shares(counts: Record<string, number>): Record<string, number> {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / total]));
}

/**
 * The six benchmark scenarios' service times (bench/src/scenarios/balancing.ts and
 * signals.ts) in simulation: per backend a FIFO server. heterogeneous: 10 ms of CPU on
 * --cpus 0.5, 0.5, 0.125 (20, 20, 80 ms); noisy-neighbour: three 20 ms backends, a burner takes
 * one to 60 ms a third of the way in; unequal: 4, 4, 12 ms; io-slow: three 4 ms, one turns
 * 16 ms with no CPU; hot-cpu: three 4 ms, one reports 90 % CPU from something else.
 * `capacityPerMs` is the capacity at the start (as the benchmark measures it).
 */
export const SIM_SCENARIOS: Record<string, { backends: SimBackend[]; capacityPerMs: number }> = {
  heterogeneous: {
    backends: [
      { id: 'b1', serviceMs: () => 20 },
      { id: 'b2', serviceMs: () => 20 },
      { id: 'b3', serviceMs: () => 80 },
    ],
    capacityPerMs: 1 / 20 + 1 / 20 + 1 / 80,
  },
  'noisy-neighbour': {
    backends: [
      { id: 'b1', serviceMs: () => 20 },
      { id: 'b2', serviceMs: () => 20 },
      {
        id: 'b3',
        serviceMs: (t) => (t > 20_000 ? 60 : 20),
        extraCpu: (t) => (t > 20_000 ? 0.8 : 0),
      },
    ],
    capacityPerMs: 3 / 20,
  },
  unequal: {
    backends: [
      { id: 'b1', serviceMs: () => 4 },
      { id: 'b2', serviceMs: () => 4 },
      { id: 'b3', serviceMs: () => 12 },
    ],
    capacityPerMs: 1 / 4 + 1 / 4 + 1 / 12,
  },
  'io-slow': {
    backends: [
      { id: 'b1', serviceMs: () => 4 },
      { id: 'b2', serviceMs: () => 4 },
      { id: 'b3', serviceMs: (t) => (t > 20_000 ? 16 : 4), cpuShare: 0 },
    ],
    capacityPerMs: 3 / 4,
  },
  'hot-cpu': {
    backends: [
      { id: 'b1', serviceMs: () => 4 },
      { id: 'b2', serviceMs: () => 4 },
      { id: 'b3', serviceMs: () => 4, extraCpu: () => 0.9 },
    ],
    capacityPerMs: 3 / 4,
  },
};

/**
 * heterogeneous as the benchmark runs it, which SIM_SCENARIOS' fixed service times do not: CFS
 * quotas of 0.5, 0.5 and 0.125 cores (a backend answers at full speed while its budget lasts,
 * a period later when it is spent), the CPU limits known to the balancer (Docker discovery
 * reads them, so least-connections weighs by them), and paced arrivals (run it with `arrivals:
 * 'paced'`). The CPU per request is the benchmark's measured capacity, not /load's 10 ms: 89.25
 * req/s over 1.125 cores (bench/results/2026-12-07-06-54-heterogeneous.json) is 12.6 ms, the
 * backend's own HTTP and event-loop work included, which a 0.125-core budget (12.5 ms a period)
 * cannot fit in one period.
 */
/** CPU per request in the benchmark: 1.125 cores ÷ 89.25 req/s measured. */
export const BENCH_CPU_MS = 1125 / 89.25;
const W = BENCH_CPU_MS;

export const HETEROGENEOUS_AS_BENCHED = {
  backends: [
    { id: 'b1', serviceMs: () => W, cpus: 0.5 },
    { id: 'b2', serviceMs: () => W, cpus: 0.5 },
    { id: 'b3', serviceMs: () => W, cpus: 0.125 },
  ] satisfies SimBackend[],
  cpuLimits: [0.5, 0.5, 0.125],
  capacityPerMs: 1.125 / W,
};

/** The longest run of consecutive dispatches to one backend in `log` between `from` and `to` ms. */
export function longestStreak(log: ReadonlyArray<[number, string]>, from: number, to: number): number {
  let longest = 0;
  let run = 0;
  let last = '';
  for (const [t, id] of log) {
    if (t < from || t >= to) continue;
    run = id === last ? run + 1 : 1;
    last = id;
    if (run > longest) longest = run;
  }
  return longest;
}
