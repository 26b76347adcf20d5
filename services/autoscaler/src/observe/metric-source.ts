// Where per-replica numbers come from: Prometheus (default queries or PROMQL_* overrides), or,
// without PROMETHEUS_URL on any runtime, the balancer's own view of its backends (the embedded
// default: in-flight, rate, CPU and memory it measures for any app). The balancer view is read
// from the tick's one GET /api/backends; no source here calls the balancer itself.
import type { BackendList, BackendView } from '@headroom/shared';
import type { PrometheusClient } from '../clients/prometheus-client.js';
import type { ScaleMetric } from '../policy/policy-types.js';
import { type QueryOverrides, queryFor } from './queries.js';
import { queuedDemand } from './queued-demand.js';
import type { SeriesResult } from './series.js';

export interface SourceContext {
  /** This tick's backends from GET /api/backends; undefined when the balancer did not answer (or none is set). */
  backends?: readonly BackendView[] | undefined;
  /** Why the balancer gave no view this tick. */
  balancerError?: string | undefined;
  /** The whole GET /api/backends answer (services' held requests and queue). */
  list?: BackendList | undefined;
}

export interface MetricSource {
  readonly name: string;
  read(metric: ScaleMetric, service: string, nowMs: number, ctx: SourceContext): Promise<SeriesResult>;
}

export class PrometheusSource implements MetricSource {
  readonly name = 'prometheus';
  constructor(
    private readonly client: PrometheusClient,
    private readonly overrides: QueryOverrides,
  ) {}

  read(metric: ScaleMetric, service: string, nowMs: number): Promise<SeriesResult> {
    return this.client.queryWithAge(queryFor(metric, service, this.overrides), nowMs);
  }
}

/** Pure: one scale metric of one backend as the balancer measures it; null when it has none. */
export function balancerValue(b: BackendView, metric: ScaleMetric): number | null {
  switch (metric) {
    case 'cpu':
      return b.cpu;
    case 'memory':
      return b.mem;
    case 'rps':
      return b.rps;
    case 'concurrency':
      return b.inFlight;
  }
}

/** CPU/memory/rps/in-flight per backend as the balancer measures them (GET /api/backends). */
export class BalancerSource implements MetricSource {
  readonly name = 'balancer';

  async read(metric: ScaleMetric, service: string, _now: number, ctx: SourceContext): Promise<SeriesResult> {
    if (!ctx.backends) {
      return { ok: false, why: 'unreachable', detail: ctx.balancerError ?? 'the balancer gave no view' };
    }
    const series = ctx.backends
      .filter((b) => b.service === service && b.state !== 'draining')
      .map((b) => ({
        labels: { backend: b.id, name: b.name },
        value: balancerValue(b, metric) ?? Number.NaN,
        // rate and in-flight are the proxy's own, current by construction
        ageMs: metric === 'cpu' || metric === 'memory' ? (b.metricsAgeMs ?? undefined) : undefined,
      }));
    // requests waiting (queued, held) are concurrency the backends could not take yet (issue #26)
    const queued = metric === 'concurrency' ? queuedDemand(ctx.list, service) : 0;
    return { ok: true, series, ...(queued > 0 ? { queued } : {}) };
  }
}
