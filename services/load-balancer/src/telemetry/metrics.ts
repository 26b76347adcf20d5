// The balancer's Prometheus registry. Per-backend gauges are read from the core at scrape
// time (collect), so the hot path only increments two counters and a histogram.
import { BALANCER_MODES, collectProcessMetrics, LB_METRICS, METRIC_LABELS } from '@headroom/shared';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BalancerCore } from '../balancing/balancer-core.js';

export interface LbMetrics {
  registry: Registry;
  requests: Counter<'backend' | 'method' | 'status'>;
  duration: Histogram<'backend'>;
  retries: Counter;
  upstreamErrors: Counter<'reason'>;
  /**
   * Drops a removed backend's request and latency series: with replicas coming and going
   * (the autoscaler, redeploys) they would otherwise pile up for the life of the process,
   * in memory and in Prometheus' cardinality.
   */
  forgetBackend(id: string): Promise<void>;
}

export function createMetrics(core: BalancerCore, now: () => number): LbMetrics {
  const registry = new Registry();
  collectProcessMetrics(registry);
  const b = METRIC_LABELS.backend;
  const perBackend = (
    name: string,
    help: string,
    read: (r: ReturnType<BalancerCore['runtime']>[number]) => number | null,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: [b],
      registers: [registry],
      collect() {
        this.reset();
        for (const r of core.runtime(now())) {
          const v = read(r);
          if (v !== null && Number.isFinite(v)) this.set({ [b]: r.spec.name }, v);
        }
      },
    });
  perBackend(LB_METRICS.inFlight, 'Requests in flight per backend.', (r) => r.inFlight);
  perBackend(
    LB_METRICS.backendHealthy,
    '1 when the backend takes new requests (healthy, not draining).',
    (r) => (r.state === 'healthy' ? 1 : 0),
  );
  perBackend(
    LB_METRICS.backendScore,
    'Headroom score 0..1 (higher is better) from fresh CPU/memory.',
    (r) => r.score,
  );
  perBackend(
    LB_METRICS.backendCpu,
    'CPU use as a fraction of the backend limit, as last seen.',
    (r) => r.cpu,
  );
  perBackend(
    LB_METRICS.backendMemory,
    'Memory use as a fraction of the backend limit, as last seen.',
    (r) => r.mem,
  );
  perBackend(LB_METRICS.backendWeight, 'Configured or derived weight.', (r) => r.weight);
  perBackend(
    LB_METRICS.backendEffectiveWeight,
    'Weight after slow start (0 when not eligible).',
    (r) => r.effectiveWeight,
  );
  new Gauge({
    name: LB_METRICS.backends,
    help: 'Backends known, by state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const counts = { healthy: 0, unhealthy: 0, draining: 0 };
      for (const r of core.runtime(now())) counts[r.state]++;
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: LB_METRICS.mode,
    help: 'Current balancing mode (1 for the active one).',
    labelNames: [METRIC_LABELS.mode],
    registers: [registry],
    collect() {
      for (const m of BALANCER_MODES) this.set({ [METRIC_LABELS.mode]: m }, m === core.mode ? 1 : 0);
    },
  });
  const requests = new Counter({
    name: LB_METRICS.requests,
    help: 'Proxied requests by backend, method and status.',
    labelNames: [b, METRIC_LABELS.method, METRIC_LABELS.status] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: LB_METRICS.requestDuration,
    help: 'Time from request to upstream response headers, seconds.',
    labelNames: [b] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    registry,
    requests,
    duration,
    async forgetBackend(id) {
      duration.remove({ [b]: id });
      // prom-client removes a series by its full label set: find this backend's ones
      for (const v of (await requests.get()).values)
        if (v.labels[b] === id) requests.remove(v.labels as Record<'backend' | 'method' | 'status', string>);
    },
    retries: new Counter({
      name: LB_METRICS.retries,
      help: 'Requests retried on another backend.',
      registers: [registry],
    }),
    upstreamErrors: new Counter({
      name: LB_METRICS.upstreamErrors,
      help: 'Upstream failures by reason.',
      labelNames: [METRIC_LABELS.reason] as const,
      registers: [registry],
    }),
  };
}
