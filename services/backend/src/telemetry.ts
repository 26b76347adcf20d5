// The backend's Prometheus registry: default process metrics plus its own, named in shared.
import { performance } from 'node:perf_hooks';
import { BACKEND_METRICS, collectProcessMetrics, METRIC_LABELS } from '@headroom/shared';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface BackendTelemetry {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  loadDuration: Histogram;
  burnerActive: Gauge;
  burnerThreads: Gauge;
  burnerDuty: Gauge;
  memoryHeld: Gauge;
}

export function createTelemetry(
  limits: { cpuCores: number; memoryBytes: number },
  instance: string,
): BackendTelemetry {
  const registry = new Registry();
  registry.setDefaultLabels({ [METRIC_LABELS.instance]: instance });
  collectProcessMetrics(registry);
  const cpuLimit = new Gauge({
    name: BACKEND_METRICS.cpuLimit,
    help: "CPU cores this process's threads together may use (its own cgroup's quota, else host cores).",
    registers: [registry],
  });
  cpuLimit.set(limits.cpuCores);
  const memoryLimit = new Gauge({
    name: BACKEND_METRICS.memoryLimit,
    help: 'Memory this process may use in bytes (cgroup limit, else host memory).',
    registers: [registry],
  });
  memoryLimit.set(limits.memoryBytes);
  // A counter, not a gauge of "utilization since the last scrape": the balancer and
  // Prometheus both scrape, and each takes its own rate over its own window.
  let reported = 0;
  new Counter({
    name: BACKEND_METRICS.eventLoopActive,
    help: 'Seconds the event loop (the thread request work runs on) was busy; rate() is its utilization 0..1.',
    registers: [registry],
    collect() {
      const active = performance.eventLoopUtilization().active / 1000;
      if (active > reported) {
        this.inc(active - reported);
        reported = active;
      }
    },
  });
  return {
    registry,
    requests: new Counter({
      name: BACKEND_METRICS.requests,
      help: 'HTTP requests served, by route, method and status.',
      labelNames: [METRIC_LABELS.route, METRIC_LABELS.method, METRIC_LABELS.status] as const,
      registers: [registry],
    }),
    loadDuration: new Histogram({
      name: BACKEND_METRICS.loadDuration,
      help: 'Wall time of /load requests in seconds.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    burnerActive: new Gauge({
      name: BACKEND_METRICS.burnerActive,
      help: '1 while the background CPU burner runs.',
      registers: [registry],
    }),
    burnerThreads: new Gauge({
      name: BACKEND_METRICS.burnerThreads,
      help: 'Burner threads running.',
      registers: [registry],
    }),
    burnerDuty: new Gauge({
      name: BACKEND_METRICS.burnerDuty,
      help: 'Fraction of each slice a burner thread is busy.',
      registers: [registry],
    }),
    memoryHeld: new Gauge({
      name: BACKEND_METRICS.memoryHeld,
      help: 'Memory held by POST /memory in bytes.',
      registers: [registry],
    }),
  };
}
