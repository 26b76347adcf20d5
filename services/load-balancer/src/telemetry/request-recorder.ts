// One request's outcome, written in one place. The proxy reports what happened; this
// writes the pick's balancer (every attempt: in-flight, latency, passive health), the
// traffic stats behind /api/stats and the history (once per client request) and
// prom-client (once per client request, plus a retry counter per retried attempt), with
// one label scheme: `backend` is the id, `backend_name` the name, `service` its service, on
// every series; and the busy clock (requests in flight integrated over time, per backend).
// A retried attempt is counted as a retry, never as the 502 the client did not get.
import type { Pick as Choice, Outcome } from '../balancing/balancer-core.js';
import type { FailureKind } from '../proxy/retry-decision.js';
import type { TrafficStats } from '../stats/traffic-stats.js';
import { BusyClock } from './busy-clock.js';
import type { BackendLabelValues, LbMetrics } from './metrics.js';

type DurationChild = ReturnType<LbMetrics['duration']['labels']>;
type CounterChild = ReturnType<LbMetrics['requests']['labels']>;

const UNKNOWN: BackendLabelValues = { name: '', service: '' };

export class RequestRecorder {
  /**
   * Backend id → name and service, for the `backend_name` and `service` labels (the metrics'
   * own map, which the transitions read too); they stay until the series are forgotten.
   */
  private readonly names: Map<string, BackendLabelValues>;
  /**
   * The labelled series each request writes, looked up once per backend (and method and status)
   * and kept: prom-client hashes a label object on every observe()/inc() (sorting its keys,
   * building a string), which was about 4 % of the proxy's CPU under wrk (--cpu-prof).
   */
  private readonly durationOf = new Map<string, DurationChild>();
  private readonly requestsOf = new Map<string, Map<string, Map<number, CounterChild>>>();

  constructor(
    private readonly stats: TrafficStats,
    private readonly metrics: LbMetrics,
    /** Requests in flight over time per backend (headroom_lb_replica_busy_seconds_total). */
    readonly busy: BusyClock = new BusyClock(),
  ) {
    this.names = metrics.labelsOf;
  }

  /** Keeps the name and service of every backend in `set` (called with each new set). */
  learnNames(set: readonly { id: string; name: string; service: string }[]): void {
    for (const s of set) {
      const known = this.names.get(s.id);
      if (known !== undefined && known.name === s.name && known.service === s.service) continue;
      this.names.set(s.id, { name: s.name, service: s.service });
      // a renamed (or moved) backend's requests go to series with its new labels, as before the cache
      this.durationOf.delete(s.id);
      this.requestsOf.delete(s.id);
    }
  }

  nameOf(id: string): string {
    return this.names.get(id)?.name ?? id;
  }

  private labelsOf(id: string): BackendLabelValues {
    return this.names.get(id) ?? UNKNOWN;
  }

  /** Drops a removed backend's name once its series are gone. */
  forget(id: string): void {
    this.names.delete(id);
    this.durationOf.delete(id);
    this.requestsOf.delete(id);
    this.busy.forget(id);
  }

  /** An attempt is dispatched to `pick`; returns what the core needs back at its end. */
  attemptStarted(pick: Choice, now: number): number {
    this.busy.started(pick.id, now);
    // the pick's own balancer: each service has one
    return pick.owner.begin(pick.slot, now);
  }

  /** An attempt is over (answered, failed, timed out, or abandoned by the client). */
  attemptEnded(pick: Choice, ahead: number, now: number, latencyMs: number, outcome: Outcome): void {
    this.busy.ended(pick.id, now);
    pick.owner.end(pick.slot, now, latencyMs, outcome, ahead);
  }

  /** A failed attempt that goes to another backend: a retry, not a failed request. */
  retried(pick: Choice, kind: FailureKind): void {
    const backend = pick.id;
    const { name, service } = this.labelsOf(backend);
    this.metrics.retries.inc({ backend, backend_name: name || backend, service, reason: kind });
    this.metrics.upstreamErrors.inc({ backend, backend_name: name || backend, service, reason: kind });
    this.stats.totalRetries++;
  }

  /** An upstream failure the client sees (502/504, or a response cut mid-body). */
  upstreamFailed(pick: Choice, kind: FailureKind): void {
    const backend = pick.id;
    const { name, service } = this.labelsOf(backend);
    this.metrics.upstreamErrors.inc({ backend, backend_name: name || backend, service, reason: kind });
  }

  /** Upstream response headers of the final attempt, `ms` after the client's request arrived. */
  responseStarted(pick: Choice, ms: number): void {
    const backend = pick.id;
    let child = this.durationOf.get(backend);
    if (child === undefined) {
      const { name, service } = this.labelsOf(backend);
      child = this.metrics.duration.labels({ backend, backend_name: name || backend, service });
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
      const { name, service } = this.labelsOf(backend);
      child = this.metrics.requests.labels({
        backend,
        backend_name: name || backend,
        service,
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

  /** Answered 404 LB_ERR_NO_ROUTE: no route for its host and path, never forwarded. */
  noRoute(method: string): void {
    this.metrics.requests.inc({ backend: '', backend_name: '', service: '', method, status: '404' });
  }

  /** Answered without a backend (503 no healthy backend), for `service` when it is known. */
  unrouted(method: string, service = ''): void {
    this.stats.recordUnrouted();
    this.metrics.upstreamErrors.inc({ backend: '', backend_name: '', service, reason: 'no-backend' });
    this.metrics.requests.inc({ backend: '', backend_name: '', service, method, status: '503' });
  }
}
