// The backends/ stage: what the admin API shows of a backend, built from the core's runtime
// record and the traffic stats. Pure.
import type { BackendView } from '@headroom/shared';
import type { BackendRuntime } from '../balancing/balancer-core.js';

export function backendView(r: BackendRuntime, rps: number): BackendView {
  return {
    id: r.spec.id,
    url: r.spec.url,
    name: r.spec.name,
    service: r.spec.service,
    source: r.spec.source,
    state: r.state,
    stateReason: r.stateReason,
    inFlight: r.inFlight,
    requests: r.requests,
    errors: r.errors,
    rps: rps,
    cpu: r.cpu,
    mem: r.mem,
    score: r.score,
    metricsAgeMs: r.metricsAgeMs,
    latencyMs: r.latencyMs,
    weight: r.weight,
    effectiveWeight: r.effectiveWeight,
    serviceMs: r.serviceMs,
    pressure: r.pressure,
    signals: r.signals,
    limit: r.limit,
    limitSource: r.limitSource,
    sticky: r.spec.sticky,
    node: r.spec.nodeName ?? r.spec.node,
  };
}

/** Every backend's view, in the core's order (GET /api/backends, the dashboard). */
export function backendViews(
  runtime: readonly BackendRuntime[],
  rpsOf: (id: string) => number,
): BackendView[] {
  return runtime.map((r) => backendView(r, rpsOf(r.spec.id)));
}
