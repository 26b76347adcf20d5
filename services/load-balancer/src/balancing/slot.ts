// The per-backend record every mode reads: one store, so switching modes never resets what
// was learned. Plain data plus the weight arithmetic every picker shares; the modules that
// change it (health-state, capacity-learner, service-time, the pickers' own counters) each
// own their fields.
import type { BackendSpec } from '../model/backend-spec.js';
import type { Pick, SlotAccounting } from './balancer-core.js';
import { CAPACITY_EXPIRY_MS } from './capacity-estimate.js';
import { currentLimit, initialLimit, type LimitSettings, type LimitState } from './concurrency-limit.js';
import { slowStartFactor } from './slow-start.js';

export interface Slot {
  /** Stable handle for begin/end: survives set changes (array positions do not). */
  serial: number;
  id: string;
  spec: BackendSpec;
  /** Weight from the spec or the CPU-limit prior; `override` from the admin API wins. */
  baseWeight: number;
  /** The CPU-limit prior alone (the limit relative to the pool's mean, else 1): how fast, not how preferred. */
  cpuPrior: number;
  override: number | undefined;
  // health (health-state.ts)
  healthy: boolean;
  everHealthy: boolean;
  reason: string | null;
  passes: number;
  fails: number;
  ejectedUntil: number;
  consecutiveFailures: number;
  draining: boolean;
  /** Start of the current slow-start ramp. */
  since: number;
  /** End of the slow-start window in progress (its end is reported once); null: none. */
  rampUntil: number | null;
  joinedAt: number;
  // traffic
  inFlight: number;
  requests: number;
  errors: number;
  // resources (set by the resource source)
  cpu: number | null;
  mem: number | null;
  metricsAt: number | null;
  // latency mode's peak-EWMA of whole latencies (peak-ewma.ts)
  ewma: number | null;
  ewmaAt: number;
  // resource-aware's per-request service time (service-time.ts)
  svc: number | null;
  svcAt: number;
  // capacity learner (capacity-learner.ts)
  /** Start of the current unbroken run of fresh metrics (capacity blackout counts from here). */
  metricsSince: number;
  /** `requests` when the last metrics sample arrived: completions per sample interval. */
  requestsAtMetrics: number;
  /** Smoothed capacity estimate (completions/s per unit of utilization), null until learned. */
  capacity: number | null;
  capacityAt: number;
  /** Learned correction of the prior weight (capacity per unit of weight vs the pool's), null until learned. */
  capacityFactor: number | null;
  /** Smooth weighted round-robin accumulator. */
  current: number;
  // CPU quota bucket (cpu-quota.ts): budget left (CPU-ms) when last spent, and when
  quotaTokens: number;
  quotaAt: number | null;
  /**
   * CPU-ms per request the pool's backends with a learned capacity spend on average
   * (capacity-learner.ts): the quota model's estimate for a backend with a limit that has not
   * learned its own yet. One pool is one service, one image: its siblings are the best guess.
   */
  poolCpuMs: number | null;
  /** When it was last sent a request (balancer.ts begin): ties go to the one idle longest. */
  sentAt: number;
  // concurrency limit (concurrency-limit.ts): what it learns, and the whole limit in force
  limit: LimitState;
  /** Requests it may hold now (lb.maxconn, else the adaptive limit): a first attempt needs inFlight below it. */
  limitNow: number;
  token: string;
  plainPick: Pick;
}

/** Before the balancer indexes a new slot (tests build slots without one): accounts nothing. */
const UNOWNED: SlotAccounting = { begin: () => 0, end: () => {} };

export const DEFAULT_LIMITS: LimitSettings = { min: 2, max: 128 };

export function createSlot(
  spec: BackendSpec,
  serial: number,
  token: string,
  now: number,
  limits: LimitSettings = DEFAULT_LIMITS,
): Slot {
  const limit = initialLimit(limits);
  return {
    serial,
    id: spec.id,
    spec,
    baseWeight: 1,
    cpuPrior: 1,
    override: undefined,
    healthy: false,
    everHealthy: false,
    reason: 'waiting for the first health check',
    passes: 0,
    fails: 0,
    ejectedUntil: Number.NEGATIVE_INFINITY,
    consecutiveFailures: 0,
    draining: false,
    since: now,
    rampUntil: null,
    joinedAt: now,
    inFlight: 0,
    requests: 0,
    errors: 0,
    cpu: null,
    mem: null,
    metricsAt: null,
    ewma: null,
    ewmaAt: now,
    svc: null,
    svcAt: now,
    metricsSince: now,
    requestsAtMetrics: 0,
    capacity: null,
    capacityAt: now,
    capacityFactor: null,
    current: 0,
    quotaTokens: 0,
    quotaAt: null,
    poolCpuMs: null,
    sentAt: Number.NEGATIVE_INFINITY,
    limit,
    limitNow: currentLimit(limit, spec.maxConn),
    token,
    plainPick: { slot: serial, owner: UNOWNED, id: spec.id, url: spec.url, setCookie: undefined },
  };
}

export function isEligible(s: Slot): boolean {
  return s.healthy && !s.draining;
}

/** Eligible and not already tried by this request. `tried` is tiny (≤ RETRIES + 1). */
export function isCandidate(s: Slot, tried: readonly number[] | undefined): boolean {
  return s.healthy && !s.draining && (tried === undefined || !tried.includes(s.serial));
}

/** Room under its concurrency limit (limits apply to a request's first attempt only). */
export function hasRoom(s: Slot): boolean {
  return s.inFlight < s.limitNow;
}

/** The configured weight: admin override, else the weight label, else the CPU-limit prior. */
export function weightOf(s: Slot): number {
  return s.override ?? s.baseWeight;
}

/** The weight an operator stated (override or the weight label), else 1: the prior from CPU limits is not a statement. */
export function statedWeight(s: Slot): number {
  return s.override ?? (s.spec.weight !== undefined && s.spec.weight > 0 ? s.spec.weight : 1);
}

export function slowStartOf(s: Slot, now: number, defaultWindowMs: number): number {
  return slowStartFactor(now, s.since, s.spec.slowStartMs ?? defaultWindowMs);
}

/** Configured weight ramped by slow start: what round-robin, least-connections and latency divide by. */
export function effectiveWeight(s: Slot, now: number, defaultWindowMs: number): number {
  return weightOf(s) * slowStartOf(s, now, defaultWindowMs);
}

/** The learned capacity correction while it is fresh, else 1. */
export function liveCapacityFactor(s: Slot, now: number): number {
  return s.capacityFactor !== null && now - s.capacityAt <= CAPACITY_EXPIRY_MS ? s.capacityFactor : 1;
}

export function metricsFresh(s: Slot, now: number, staleMs: number): boolean {
  return s.metricsAt !== null && now - s.metricsAt <= staleMs;
}
