// Default PromQL per scale metric: the recorded per-replica series of prometheus/rules,
// filtered by service. PROMQL_* overrides replace them verbatim.
import { METRIC_LABELS, RECORDED_SERIES } from '@headroom/shared';
import type { ScaleMetric } from '../policy/policy-types.js';

/** A PromQL string literal (double-quoted, escaped). */
export function promString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

export function defaultQuery(metric: ScaleMetric, service: string): string {
  const series =
    metric === 'cpu'
      ? RECORDED_SERIES.replicaCpuUtilization
      : metric === 'memory'
        ? RECORDED_SERIES.replicaMemoryUtilization
        : RECORDED_SERIES.replicaRequestRate;
  return `${series}{${METRIC_LABELS.service}=${promString(service)}}`;
}

export interface QueryOverrides {
  cpu?: string | undefined;
  memory?: string | undefined;
  rps?: string | undefined;
}

export function queryFor(metric: ScaleMetric, service: string, overrides: QueryOverrides): string {
  return overrides[metric] ?? defaultQuery(metric, service);
}
