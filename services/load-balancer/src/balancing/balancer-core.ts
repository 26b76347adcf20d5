// The contract between the pure balancing core (balancing/*) and the proxy. The proxy
// calls pick() once per attempt, begin()/end() around each upstream exchange, and feeds
// health, drain, metric and weight changes in. Every method takes `now` (ms) from the
// caller, so the core has no clock and no I/O; randomness is injected at construction.
import type { BackendState, BalancerMode, StickyPolicy } from '@headroom/shared';
import type { BackendSet, BackendSpec } from '../model/backend-spec.js';
import type { LimitSettings } from './concurrency-limit.js';

/** Request facts the sticky policy needs, extracted by the proxy (no header objects in the core). */
export interface Affinity {
  /** Value of the affinity cookie, when the policy is cookie-based and the client sent one. */
  cookie?: string | undefined;
  /** Value of the affinity header, when the policy is header-based. */
  header?: string | undefined;
}

/** begin/end of the balancer that made a pick (each service has its own balancer). */
export interface SlotAccounting {
  begin(slot: number, now: number): number;
  end(slot: number, now: number, latencyMs: number, outcome: Outcome, ahead?: number): void;
}

export interface Pick {
  /** Opaque handle for begin/end on `owner`; stays valid while the backend is in the set. */
  readonly slot: number;
  /** The balancer whose slot this is: the request's accounting goes back to it. */
  readonly owner: SlotAccounting;
  readonly id: string;
  readonly url: string;
  /** Set when the response must (re)write the affinity cookie to this value. */
  readonly setCookie: string | undefined;
  /** lb.timeout.body of the backend's service: its response and body idle timeout (ms, 0: none). */
  readonly timeoutMs?: number | undefined;
}

export type Outcome = 'success' | 'http-5xx' | 'connect-error' | 'timeout' | 'aborted';

/**
 * What a backend's state changed to. The core makes the first six; the proxy's drain flow
 * reports `drained` and `removed` through the same listener shape.
 */
export type TransitionTo =
  | 'healthy'
  | 'unhealthy'
  | 'ejected'
  | 'draining'
  | 'undrained'
  | 'weight-changed'
  | 'drained'
  | 'removed'
  | 'slow-start'
  | 'full-weight';

/** Why, as a closed set (a metric label); `reason` says it for people. */
export type TransitionCode =
  | 'health-check-passed'
  | 'health-check-failed'
  | 'consecutive-failures'
  | 'drain-requested'
  | 'undrain-requested'
  | 'weight-set'
  | 'drain-complete'
  | 'drain-timeout'
  | 'left-discovery'
  | 'slow-start-began'
  | 'slow-start-ended';

export interface BackendTransition {
  id: string;
  name: string;
  /** State before: healthy / unhealthy / draining (ejected shows as unhealthy). */
  from: BackendState;
  to: TransitionTo;
  code: TransitionCode;
  reason: string;
  at: number;
}

/** Which signals resource-aware mode steers this backend by right now (shown in /api/backends). */
export type SteeringSignal = 'in-flight' | 'latency' | 'capacity' | 'headroom';

export interface BackendRuntime {
  spec: BackendSpec;
  state: BackendState;
  stateReason: string | null;
  inFlight: number;
  requests: number;
  errors: number;
  cpu: number | null;
  mem: number | null;
  score: number | null;
  metricsAgeMs: number | null;
  latencyMs: number | null;
  weight: number;
  effectiveWeight: number;
  /** Estimated per-request service time (latency ÷ requests it queued behind), ms; null before any answer. */
  serviceMs: number | null;
  /** Resource-aware cost multiplier from the headroom score (1 = no pressure); null when metrics are stale or missing. */
  pressure: number | null;
  /** What resource-aware mode uses for this backend now: without fresh metrics, in-flight and latency only. */
  signals: SteeringSignal[];
  /** Requests it may hold at once now: lb.maxconn, else the adaptive limit. */
  limit: number;
  limitSource: 'adaptive' | 'static';
}

export interface BalancerOptions {
  mode: BalancerMode;
  cpuWeight: number;
  memoryWeight: number;
  metricsStaleMs: number;
  slowStartMs: number;
  latencyDecayMs: number;
  ejectAfterFailures: number;
  ejectCooldownMs: number;
  healthRise: number;
  healthFall: number;
  /** LIMIT_MIN/LIMIT_MAX of the adaptive concurrency limit; default 2..128. */
  limits?: LimitSettings | undefined;
  /** Uniform [0,1); Math.random in production, seeded in tests. */
  random: () => number;
  /** Called synchronously for every state change the core makes (health, ejection, drain, weight). */
  onTransition?: ((t: BackendTransition) => void) | undefined;
}

export interface BalancerCore {
  readonly mode: BalancerMode;
  setMode(mode: BalancerMode): void;
  /** Replaces the set; ids that persist keep every learned stat. Returns what changed. */
  setBackends(set: BackendSet, now: number): { added: string[]; removed: string[]; changed: string[] };
  /** The sticky policy in force (from the backends' labels). */
  readonly sticky: StickyPolicy;
  /**
   * Chooses a backend; `tried` holds the slot handles this request already tried (a retry
   * never returns to one). A first attempt goes only to a backend under its concurrency
   * limit; `waiting` is how many requests wait in the service queue. undefined: nothing
   * eligible, or (hasEligible() still true) the request should wait in the queue.
   */
  pick(now: number, affinity?: Affinity, tried?: readonly number[], waiting?: number): Pick | undefined;
  /** Some backend is healthy and not draining (when pick() says no, the request may wait). */
  hasEligible(): boolean;
  /**
   * How long a request sent now to `slot` is expected to take there (ms): its service-time
   * estimate × (in flight + 1); 0 before its first answer (no evidence, no shedding on it).
   * The service queue's response budget reads it when it hands a waiting request to a pick.
   */
  expectedMs(slot: number, now: number): number;
  /**
   * The least time any eligible backend is expected to take for one request with nothing ahead
   * (ms): no request can be answered sooner. 0 when one has no answer yet, or none is eligible.
   */
  fastestMs(now: number): number;
  /** Counts a dispatch; returns how many requests were already in flight there (pass it back to end()). */
  begin(slot: number, now: number): number;
  /**
   * Counts a completion. `ahead` is what begin() returned: the latency divided by the requests
   * it queued behind estimates the backend's own service time.
   */
  end(slot: number, now: number, latencyMs: number, outcome: Outcome, ahead?: number): void;
  /** Reports the slow-start windows that ended by `now` (called on a timer: the core has no clock). */
  tick(now: number): void;
  /** Active health check result; `immediate`: a fail that takes the backend out without HEALTH_FALL. */
  reportHealth(id: string, ok: boolean, now: number, reason?: string, immediate?: boolean): void;
  setDraining(id: string, draining: boolean, now?: number, why?: string): boolean;
  setMetrics(id: string, cpu: number | null, mem: number | null, at: number): void;
  setWeight(id: string, weight: number, now?: number): boolean;
  inFlight(id: string): number;
  runtime(now: number): BackendRuntime[];
}
