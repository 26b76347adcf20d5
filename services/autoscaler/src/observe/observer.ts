// The observe step: one observation per tick. One GET /api/backends (the balancer's view:
// readiness, the per-service sleep state, in-flight, and the embedded metric source), one
// pass over the runtime (every scaled service's replicas, hosts' capacity, templates), then
// readiness and metric readings per service. Nothing here reaps, decides or acts.
import type { BackendList, ServiceView } from '@headroom/shared';
import type { BalancerClient } from '../clients/balancer-client.js';
import { EngineUnavailableError } from '../model/replica.js';
import type { ReplicaTemplate } from '../model/replica-template.js';
import type { HostState, ReplicaRequest } from '../placement/host-state.js';
import type { MetricReading, ScaleMetric } from '../policy/policy-types.js';
import type { MetricSource, SourceContext } from './metric-source.js';
import { toReading } from './readings.js';
import { type Census, probeHealth, takeCensus } from './replica-census.js';
import type { LabelSource, RuntimeObserver } from './runtime-observer.js';

export interface ServiceObservation {
  service: string;
  census: Census;
  /** One reading per metric the service is scaled on (env defaults or its labels). */
  readings: MetricReading[];
  /** Why metrics were missing, one entry per metric that failed. */
  metricFailures: string[];
  labelSources: LabelSource[];
  /** The balancer's view of this service (scale to zero); undefined when it has none. */
  balancer?: ServiceView | undefined;
  /** Sum of the service's backends' in-flight requests in the balancer view. */
  inFlight: number;
  template?: ReplicaTemplate | undefined;
  request?: ReplicaRequest | undefined;
}

export type Observation =
  | {
      kind: 'observed';
      at: number;
      services: ServiceObservation[];
      hosts?: HostState[] | undefined;
      unreachable: { id: string; error: string }[];
    }
  | { kind: 'engine-unavailable'; at: number; error: string };

export interface ObserverOptions {
  runtime: RuntimeObserver;
  balancer?: BalancerClient | undefined;
  source?: MetricSource | undefined;
  /** The metrics and targets of a service, from its labels (or the env defaults). */
  targetsOf: (
    service: string,
    labelSources: readonly LabelSource[],
  ) => readonly { metric: ScaleMetric; target: number }[];
  maxAgeMs: number;
  probe?: (url: string) => Promise<boolean>;
}

/**
 * Pure: the balancer's view of one service: its own entry in `services`, else the single
 * `service` (an older balancer's, or the default one's while the balancer has not seen ours yet:
 * before its first replica registers, its requests are held by the unnamed catch-all).
 */
export function serviceView(list: BackendList | undefined, service: string): ServiceView | undefined {
  if (!list) return undefined;
  const own = list.services?.find((s) => s.name === service);
  if (own) return own;
  const one = list.service;
  if (!one) return undefined;
  // A one-service balancer: its view is ours when it names our service, or when every backend it
  // has is ours (or it has none and no name of its own). Never another service's: a service must
  // not sleep on someone else's traffic.
  if (one.name === service) return one;
  const ours =
    list.backends.length > 0 ? list.backends.every((b) => b.service === service) : one.name === 'default';
  return ours ? one : undefined;
}

export class Observer {
  constructor(private readonly o: ObserverOptions) {}

  async observe(now: number): Promise<Observation> {
    let list: BackendList | undefined;
    let balancerError: string | undefined;
    if (this.o.balancer) {
      try {
        list = await this.o.balancer.overview();
      } catch (err) {
        balancerError = (err as Error).message;
      }
    }
    let runtime: Awaited<ReturnType<RuntimeObserver['observe']>>;
    try {
      runtime = await this.o.runtime.observe({ backends: list?.backends });
    } catch (err) {
      if (!(err instanceof EngineUnavailableError)) throw err;
      return { kind: 'engine-unavailable', at: now, error: err.message };
    }
    const states = list ? new Map(list.backends.map((b) => [b.id, b.state] as const)) : undefined;
    const ctx: SourceContext = { backends: list?.backends, balancerError, list };
    const services = await Promise.all(
      runtime.services.map(async (s): Promise<ServiceObservation> => {
        const census = await takeCensus(s.records, states, this.o.probe ?? probeHealth);
        const failures: string[] = [];
        const readings = await Promise.all(
          this.o.targetsOf(s.service, s.labelSources).map(async (t) => {
            if (!this.o.source) {
              failures.push(`${t.metric}: no metric source (set PROMETHEUS_URL or LB_ADMIN_URL)`);
              return { metric: t.metric, target: t.target, values: [], missing: 'unreachable' as const };
            }
            const result = await this.o.source.read(t.metric, s.service, now, ctx);
            if (!result.ok) failures.push(`${t.metric}: ${result.detail}`);
            return toReading(t.metric, t.target, result, census.replicas, this.o.maxAgeMs);
          }),
        );
        return {
          service: s.service,
          census,
          readings,
          metricFailures: failures,
          labelSources: s.labelSources,
          balancer: serviceView(list, s.service),
          inFlight: (list?.backends ?? [])
            .filter((b) => b.service === s.service)
            .reduce((sum, b) => sum + b.inFlight, 0),
          template: s.template,
          request: s.request,
        };
      }),
    );
    return { kind: 'observed', at: now, services, hosts: runtime.hosts, unreachable: runtime.unreachable };
  }
}
