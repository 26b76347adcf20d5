// Where per-replica numbers come from: Prometheus (default queries or PROMQL_* overrides),
// or, for the local runtime without Prometheus, the balancer's own view of its backends.
import type { ScaleMetric } from '../policy/policy-types.js';
import type { BalancerClient } from './balancer-client.js';
import type { PrometheusClient } from './prometheus-client.js';
import { type QueryOverrides, queryFor } from './queries.js';
import type { SeriesResult } from './series.js';

export interface MetricSource {
  readonly name: string;
  read(metric: ScaleMetric, nowMs: number): Promise<SeriesResult>;
}

export class PrometheusSource implements MetricSource {
  readonly name = 'prometheus';
  constructor(
    private readonly client: PrometheusClient,
    private readonly service: string,
    private readonly overrides: QueryOverrides,
  ) {}

  read(metric: ScaleMetric, nowMs: number): Promise<SeriesResult> {
    return this.client.queryWithAge(queryFor(metric, this.service, this.overrides), nowMs);
  }
}

/** CPU/memory/rps per backend as the balancer measures them (GET /api/backends). */
export class BalancerSource implements MetricSource {
  readonly name = 'balancer';
  constructor(
    private readonly balancer: BalancerClient,
    private readonly service: string,
  ) {}

  async read(metric: ScaleMetric): Promise<SeriesResult> {
    let backends: Awaited<ReturnType<BalancerClient['backends']>>;
    try {
      backends = await this.balancer.backends();
    } catch (err) {
      return { ok: false, why: 'unreachable', detail: (err as Error).message };
    }
    const series = backends
      .filter((b) => b.service === this.service && b.state !== 'draining')
      .map((b) => {
        const v =
          metric === 'cpu'
            ? b.cpu
            : metric === 'memory'
              ? b.mem
              : metric === 'concurrency'
                ? b.inFlight
                : b.rps;
        return {
          labels: { backend: b.id, name: b.name },
          value: v ?? Number.NaN,
          ageMs: metric === 'rps' || metric === 'concurrency' ? undefined : (b.metricsAgeMs ?? undefined),
        };
      });
    return { ok: true, series };
  }
}
