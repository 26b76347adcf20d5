// The autoscaler's own Prometheus metrics (names from shared metric-names.ts).
import { AUTOSCALER_METRICS, METRIC_LABELS } from '@headroom/shared';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

// prom-client names three gauges *_total, which `promtool check metrics` rejects.
const REJECTED_DEFAULTS = new Set([
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
]);

/** Drops whole metric families (HELP, TYPE and samples) from an exposition text. */
export function withoutFamilies(text: string, names: ReadonlySet<string>): string {
  return text
    .split('\n')
    .filter((line) => {
      const m = /^(?:# (?:HELP|TYPE) )?([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
      return !(m && names.has(m[1]!));
    })
    .join('\n');
}

export class AutoscalerMetrics {
  readonly registry = new Registry();
  private readonly defaults = new Registry();
  readonly desired: Gauge<string>;
  readonly current: Gauge<string>;
  readonly ready: Gauge<string>;
  readonly metricValue: Gauge<string>;
  readonly metricTarget: Gauge<string>;
  readonly scaleEvents: Counter<string>;
  readonly errors: Counter<string>;
  readonly paused: Gauge<string>;
  readonly sleeping: Gauge<string>;
  readonly tickDuration: Histogram;

  /** `service`: the configured SERVICE; every own series carries the scaled service's name as `service`. */
  constructor(service: string) {
    const registers = [this.registry];
    const sv = METRIC_LABELS.service;
    this.defaults.setDefaultLabels({ [sv]: service });
    collectDefaultMetrics({ register: this.defaults });
    this.desired = new Gauge({
      name: AUTOSCALER_METRICS.desiredReplicas,
      help: 'Replicas the policy asks for.',
      labelNames: [sv],
      registers,
    });
    this.current = new Gauge({
      name: AUTOSCALER_METRICS.currentReplicas,
      help: 'Replicas of the service that exist.',
      labelNames: [sv],
      registers,
    });
    this.ready = new Gauge({
      name: AUTOSCALER_METRICS.readyReplicas,
      help: 'Replicas that pass their health check.',
      labelNames: [sv],
      registers,
    });
    this.metricValue = new Gauge({
      name: AUTOSCALER_METRICS.metricValue,
      help: 'Mean per-replica value of each scaling metric (NaN when missing).',
      labelNames: [sv, METRIC_LABELS.metric],
      registers,
    });
    this.metricTarget = new Gauge({
      name: AUTOSCALER_METRICS.metricTarget,
      help: 'Per-replica target of each scaling metric.',
      labelNames: [sv, METRIC_LABELS.metric],
      registers,
    });
    this.scaleEvents = new Counter({
      name: AUTOSCALER_METRICS.scaleEvents,
      help: 'Replicas added (up) or removed (down).',
      labelNames: [sv, METRIC_LABELS.direction],
      registers,
    });
    this.errors = new Counter({
      name: AUTOSCALER_METRICS.errors,
      help: 'Failures by kind: engine, metrics, scale.',
      labelNames: [sv, METRIC_LABELS.kind],
      registers,
    });
    this.sleeping = new Gauge({
      name: AUTOSCALER_METRICS.sleeping,
      help: 'Whether the service sleeps (scaled to zero, MIN_REPLICAS=0): 1 or 0.',
      labelNames: [sv],
      registers,
    });
    this.paused = new Gauge({
      name: AUTOSCALER_METRICS.paused,
      help: '1 while scaling is paused or held.',
      labelNames: [sv],
      registers,
    });
    this.tickDuration = new Histogram({
      name: AUTOSCALER_METRICS.tickDuration,
      help: 'Duration of one observe-decide-plan-act tick (every service).',
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    for (const d of ['up', 'down']) this.scaleEvents.inc({ [sv]: service, [METRIC_LABELS.direction]: d }, 0);
    for (const k of ['engine', 'metrics', 'scale'])
      this.errors.inc({ [sv]: service, [METRIC_LABELS.kind]: k }, 0);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Own metrics plus Node's process metrics, in a form `promtool check metrics` accepts. */
  async text(): Promise<string> {
    const [own, defaults] = await Promise.all([this.registry.metrics(), this.defaults.metrics()]);
    return `${own.trimEnd()}\n${withoutFamilies(defaults, REJECTED_DEFAULTS).trimEnd()}\n`;
  }
}
