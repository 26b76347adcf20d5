// Default PromQL per scale metric: the recorded per-replica series of prometheus/rules,
// filtered by service. They are built on what the balancer measures for any app (engine
// stats, requests served, requests in flight), so an app that exports nothing still scales.
// PROMQL_* overrides replace them verbatim: the way to scale on an app's own metrics.
import { METRIC_LABELS, RECORDED_SERIES } from '@headroom/shared';
import type { ScaleMetric } from '../policy/policy-types.js';

/** A PromQL string literal (double-quoted, escaped). */
export function promString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** The recorded series each metric reads by default. */
export const DEFAULT_SERIES: Readonly<Record<ScaleMetric, string>> = {
  cpu: RECORDED_SERIES.replicaCpuUtilization,
  memory: RECORDED_SERIES.replicaMemoryUtilization,
  rps: RECORDED_SERIES.replicaRequestRate,
  concurrency: RECORDED_SERIES.replicaConcurrency,
};

export function defaultQuery(metric: ScaleMetric, service: string): string {
  return `${DEFAULT_SERIES[metric]}{${METRIC_LABELS.service}=${promString(service)}}`;
}

export type QueryOverrides = Partial<Record<ScaleMetric, string | undefined>>;

export function queryFor(metric: ScaleMetric, service: string, overrides: QueryOverrides): string {
  return overrides[metric] ?? defaultQuery(metric, service);
}
