// The balancer's Prometheus registry. Per-backend gauges are read from the core at scrape
// time (collect), so the hot path only increments two counters and a histogram. Every
// per-backend series carries the same three labels: `backend` (the id, stable, what joins),
// `backend_name` (the container or task name, for people) and `service` (its lb.service), so
// panels can join them and filter by service.
// The replica signals (headroom_lb_replica_*: concurrency, container CPU and memory) need
// nothing from the app; they carry `service` and `replica` (the name, as the Prometheus
// scrape configs label the backends' own series) beside `backend`, so recording rules join
// them with an app's own series when it has any.
import { BALANCER_MODES, collectProcessMetrics, LB_METRICS, METRIC_LABELS } from '@headroom/shared';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BalancerCore } from '../balancing/balancer-core.js';
import type { ReplicaUsage } from '../resources/replica-usage.js';
import type { BusyClock } from './busy-clock.js';

type BackendLabels = 'backend' | 'backend_name' | 'service';

/** What the per-backend series are labelled with, by backend id (kept until the series are forgotten). */
export interface BackendLabelValues {
  name: string;
  service: string;
}

export interface LbMetrics {
  registry: Registry;
  requests: Counter<BackendLabels | 'method' | 'status'>;
  duration: Histogram<BackendLabels>;
  retries: Counter<BackendLabels | 'reason'>;
  upstreamErrors: Counter<BackendLabels | 'reason'>;
  /** Backend state changes: `to` the new state, `reason` a closed set of codes. */
  transitions: Counter<BackendLabels | 'to' | 'reason'>;
  /** Backend id → its name and service, written from each new backend set (RequestRecorder.learnNames). */
  readonly labelsOf: Map<string, BackendLabelValues>;
  /**
   * Drops a removed backend's request and latency series: with replicas coming and going
   * (the autoscaler, redeploys) they would otherwise pile up for the life of the process,
   * in memory and in Prometheus' cardinality.
   */
  forgetBackend(id: string): Promise<void>;
}

/** How long a removed backend's transition series stay, so scrapers see its last transitions. */
const TRANSITIONS_KEPT_MS = 120_000;

export interface MetricSources {
  /** Container CPU and memory as the engine reports them (resource sources write it). */
  usage?: ReplicaUsage | undefined;
  /** Requests in flight, integrated over time per backend (the request recorder writes it). */
  busy?: BusyClock | undefined;
}

export function createMetrics(
  core: Pick<BalancerCore, 'runtime' | 'mode'>,
  now: () => number,
  sources: MetricSources = {},
): LbMetrics {
  const registry = new Registry();
  collectProcessMetrics(registry);
  const b = METRIC_LABELS.backend;
  const bn = METRIC_LABELS.backendName;
  const sv = METRIC_LABELS.service;
  const rp = METRIC_LABELS.replica;
  const labelsOf = new Map<string, BackendLabelValues>();
  const perBackend = (
    name: string,
    help: string,
    read: (r: ReturnType<BalancerCore['runtime']>[number]) => number | null,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: [b, bn, sv],
      registers: [registry],
      collect() {
        this.reset();
        for (const r of core.runtime(now())) {
          const v = read(r);
          if (v !== null && Number.isFinite(v))
            this.set({ [b]: r.spec.id, [bn]: r.spec.name, [sv]: r.spec.service }, v);
        }
      },
    });
  // The replica signals. Counters are set from absolute values at scrape time (reset, then inc
  // by the total): Prometheus' rate() then averages over its window, where a gauge of a 1 s
  // reading would be a point sample.
  const replicaLabels = [sv, rp, b] as const;
  type Runtime = ReturnType<BalancerCore['runtime']>[number];
  const perReplica = (
    kind: 'counter' | 'gauge',
    name: string,
    help: string,
    read: (r: Runtime, at: number) => number | undefined,
  ) => {
    const collect = function (
      this: Counter<(typeof replicaLabels)[number]> | Gauge<(typeof replicaLabels)[number]>,
    ) {
      this.reset();
      const at = now();
      const live = core.runtime(at);
      for (const r of live) {
        const v = read(r, at);
        if (v === undefined || !Number.isFinite(v)) continue;
        const labels = { [sv]: r.spec.service, [rp]: r.spec.name, [b]: r.spec.id };
        if (this instanceof Counter) this.inc(labels, v);
        else this.set(labels, v);
      }
    };
    if (kind === 'counter')
      new Counter({ name, help, labelNames: replicaLabels, registers: [registry], collect });
    else new Gauge({ name, help, labelNames: replicaLabels, registers: [registry], collect });
  };
  const { usage, busy } = sources;
  if (busy)
    perReplica(
      'counter',
      LB_METRICS.replicaBusySeconds,
      'Requests in flight integrated over time, seconds (from dispatch to the last byte); rate() is the average concurrency.',
      // 0 before a replica's first request: an idle replica reads 0 in flight, not missing
      (r, at) => busy.totalSeconds(r.spec.id, at) ?? 0,
    );
  if (usage) {
    perReplica(
      'counter',
      LB_METRICS.replicaCpuSeconds,
      "The container's CPU time from the engine's stats, seconds.",
      (r) => usage.get(r.spec.id)?.cpuSeconds,
    );
    perReplica(
      'gauge',
      LB_METRICS.replicaCpuLimit,
      "Cores the container may use: its CPU limit, else the host's online cores.",
      (r) => usage.get(r.spec.id)?.cpuLimitCores,
    );
    perReplica(
      'gauge',
      LB_METRICS.replicaMemory,
      "The container's working set (usage less reclaimable page cache), bytes.",
      (r) => usage.get(r.spec.id)?.memoryBytes,
    );
    perReplica(
      'gauge',
      LB_METRICS.replicaMemoryLimit,
      "Memory the container may use: its limit, else the host's memory, bytes.",
      (r) => usage.get(r.spec.id)?.memoryLimitBytes,
    );
  }
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
    labelNames: [b, bn, sv, METRIC_LABELS.method, METRIC_LABELS.status] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: LB_METRICS.requestDuration,
    help: 'Time from request to upstream response headers, seconds.',
    labelNames: [b, bn, sv] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const retries = new Counter({
    name: LB_METRICS.retries,
    help: 'Failed attempts retried on another backend, by the backend that failed and why.',
    labelNames: [b, bn, sv, METRIC_LABELS.reason] as const,
    registers: [registry],
  });
  const upstreamErrors = new Counter({
    name: LB_METRICS.upstreamErrors,
    help: 'Upstream failures by backend and reason (retried ones included; reason no-backend has no backend).',
    labelNames: [b, bn, sv, METRIC_LABELS.reason] as const,
    registers: [registry],
  });
  const transitions = new Counter({
    name: LB_METRICS.backendTransitions,
    help: 'Backend state changes by new state and reason code.',
    labelNames: [b, bn, sv, METRIC_LABELS.to, METRIC_LABELS.reason] as const,
    registers: [registry],
  });
  const perBackendCounters = [requests, retries, upstreamErrors] as const;
  const removeSeriesOf = async (metric: Counter<string> | Histogram<string>, id: string) => {
    // prom-client removes a series by its full label set (without `le`): find this backend's ones
    const seen = new Set<string>();
    for (const v of (await metric.get()).values) {
      if (v.labels[b] !== id) continue;
      const { le: _le, ...labels } = v.labels as Record<string, string | number>;
      const key = JSON.stringify(labels);
      if (seen.has(key)) continue;
      seen.add(key);
      metric.remove(labels);
    }
  };
  return {
    registry,
    requests,
    duration,
    retries,
    upstreamErrors,
    transitions,
    labelsOf,
    async forgetBackend(id) {
      await removeSeriesOf(duration, id);
      for (const counter of perBackendCounters) await removeSeriesOf(counter, id);
      // the `removed` transition itself is counted just before: keep it long enough for a few scrapes
      setTimeout(() => void removeSeriesOf(transitions, id), TRANSITIONS_KEPT_MS).unref();
    },
  };
}
