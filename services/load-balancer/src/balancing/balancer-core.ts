// The contract between the pure balancing core (balancing/*) and the proxy. The proxy
// calls pick() once per attempt, begin()/end() around each upstream exchange, and feeds
// health, drain, metric and weight changes in. Every method takes `now` (ms) from the
// caller, so the core has no clock and no I/O; randomness is injected at construction.
import type { BackendState, BalancerMode, StickyPolicy } from '@headroom/shared';
import type { BackendSet, BackendSpec } from '../discovery/backend-set.js';

/** Request facts the sticky policy needs, extracted by the proxy (no header objects in the core). */
export interface Affinity {
  /** Value of the affinity cookie, when the policy is cookie-based and the client sent one. */
  cookie?: string | undefined;
  /** Value of the affinity header, when the policy is header-based. */
  header?: string | undefined;
}

export interface Pick {
  /** Opaque handle for begin/end; stays valid while the backend is in the set. */
  readonly slot: number;
  readonly id: string;
  readonly url: string;
  /** Set when the response must (re)write the affinity cookie to this value. */
  readonly setCookie: string | undefined;
}

export type Outcome = 'success' | 'http-5xx' | 'connect-error' | 'timeout' | 'aborted';

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
  /** Uniform [0,1); Math.random in production, seeded in tests. */
  random: () => number;
}

export interface BalancerCore {
  readonly mode: BalancerMode;
  setMode(mode: BalancerMode): void;
  /** Replaces the set; ids that persist keep every learned stat. Returns what changed. */
  setBackends(set: BackendSet, now: number): { added: string[]; removed: string[]; changed: string[] };
  /** The sticky policy in force (from the backends' labels). */
  readonly sticky: StickyPolicy;
  /** Chooses a backend; `exclude` is a slot handle already tried by this request. undefined: nothing eligible. */
  pick(now: number, affinity?: Affinity, exclude?: number): Pick | undefined;
  begin(slot: number, now: number): void;
  end(slot: number, now: number, latencyMs: number, outcome: Outcome): void;
  /** Active health check result. */
  reportHealth(id: string, ok: boolean, now: number, reason?: string): void;
  setDraining(id: string, draining: boolean): boolean;
  setMetrics(id: string, cpu: number | null, mem: number | null, at: number): void;
  setWeight(id: string, weight: number): boolean;
  inFlight(id: string): number;
  runtime(now: number): BackendRuntime[];
}
