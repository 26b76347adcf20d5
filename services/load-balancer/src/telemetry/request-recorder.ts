// One request's outcome, written in one place. The proxy reports what happened; this
// writes the balancer core (every attempt: in-flight, latency, passive health), the
// traffic stats behind /api/stats and the history (once per client request) and
// prom-client (once per client request, plus a retry counter per retried attempt), with
// one label scheme: `backend` is the id, `backend_name` the name, on every series.
// A retried attempt is counted as a retry, never as the 502 the client did not get.
import type { BalancerCore, Pick as Choice, Outcome } from '../balancing/balancer-core.js';
import type { FailureKind } from '../proxy/retry-decision.js';
import type { TrafficStats } from '../stats/traffic-stats.js';
import type { LbMetrics } from './metrics.js';

type DurationChild = ReturnType<LbMetrics['duration']['labels']>;
type CounterChild = ReturnType<LbMetrics['requests']['labels']>;

export class RequestRecorder {
  /** Backend id → name, for the `backend_name` label; names stay until the series are forgotten. */
  private readonly names = new Map<string, string>();
  /**
   * The labelled series each request writes, looked up once per backend (and method and status)
   * and kept: prom-client hashes a label object on every observe()/inc() (sorting its keys,
   * building a string), which was about 4 % of the proxy's CPU under wrk (--cpu-prof).
   */
  private readonly durationOf = new Map<string, DurationChild>();
  private readonly requestsOf = new Map<string, Map<string, Map<number, CounterChild>>>();

  constructor(
    private readonly core: Pick<BalancerCore, 'begin' | 'end'>,
    private readonly stats: TrafficStats,
    private readonly metrics: LbMetrics,
  ) {}

  /** Keeps the name of every backend in `set` (called with each new set). */
  learnNames(set: readonly { id: string; name: string }[]): void {
    for (const s of set) {
      if (this.names.get(s.id) === s.name) continue;
      this.names.set(s.id, s.name);
      // a renamed backend's requests go to series with its new name, as before the cache
      this.durationOf.delete(s.id);
      this.requestsOf.delete(s.id);
    }
  }

  nameOf(id: string): string {
    return this.names.get(id) ?? id;
  }

  /** Drops a removed backend's name once its series are gone. */
  forget(id: string): void {
    this.names.delete(id);
    this.durationOf.delete(id);
    this.requestsOf.delete(id);
  }

  /** An attempt is dispatched to `pick`; returns what the core needs back at its end. */
  attemptStarted(pick: Choice, now: number): number {
    return this.core.begin(pick.slot, now);
  }

  /** An attempt is over (answered, failed, timed out, or abandoned by the client). */
  attemptEnded(pick: Choice, ahead: number, now: number, latencyMs: number, outcome: Outcome): void {
    this.core.end(pick.slot, now, latencyMs, outcome, ahead);
  }

  /** A failed attempt that goes to another backend: a retry, not a failed request. */
  retried(pick: Choice, kind: FailureKind): void {
    const backend = pick.id;
    const name = this.nameOf(backend);
    this.metrics.retries.inc({ backend, backend_name: name, reason: kind });
    this.metrics.upstreamErrors.inc({ backend, backend_name: name, reason: kind });
    this.stats.totalRetries++;
  }

  /** An upstream failure the client sees (502/504, or a response cut mid-body). */
  upstreamFailed(pick: Choice, kind: FailureKind): void {
    const backend = pick.id;
    this.metrics.upstreamErrors.inc({ backend, backend_name: this.nameOf(backend), reason: kind });
  }

  /** Upstream response headers of the final attempt, `ms` after the client's request arrived. */
  responseStarted(pick: Choice, ms: number): void {
    const backend = pick.id;
    let child = this.durationOf.get(backend);
    if (child === undefined) {
      child = this.metrics.duration.labels({ backend, backend_name: this.nameOf(backend) });
      this.durationOf.set(backend, child);
    }
    child.observe(ms / 1000);
  }

  private requestsSeries(backend: string, method: string, status: number): CounterChild {
    let byMethod = this.requestsOf.get(backend);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.requestsOf.set(backend, byMethod);
    }
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) {
      byStatus = new Map();
      byMethod.set(method, byStatus);
    }
    let child = byStatus.get(status);
    if (child === undefined) {
      child = this.metrics.requests.labels({
        backend,
        backend_name: this.nameOf(backend),
        method,
        status: String(status),
      });
      byStatus.set(status, child);
    }
    return child;
  }

  /**
   * The client's request is answered: once per request, whatever the number of attempts.
   * `failed` covers a response cut mid-body (its status was already sent).
   */
  requestDone(pick: Choice, method: string, status: number, ms: number, failed: boolean): void {
    const backend = pick.id;
    this.stats.record(backend, ms, failed || status >= 500);
    this.requestsSeries(backend, method, status).inc();
  }

  /** Answered without a backend (503 no healthy backend). */
  unrouted(method: string): void {
    this.stats.recordUnrouted();
    this.metrics.upstreamErrors.inc({ backend: '', backend_name: '', reason: 'no-backend' });
    this.metrics.requests.inc({ backend: '', backend_name: '', method, status: '503' });
  }
}
