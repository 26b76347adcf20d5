// Plain data the policy works on: what observe/ hands in, what the loop keeps between ticks.
import type { SCALE_METRICS } from '@headroom/shared';

export type ScaleMetric = (typeof SCALE_METRICS)[number];

/** Why a metric gave no usable value this tick. */
export type MissingWhy = 'unreachable' | 'error' | 'empty' | 'nan' | 'stale';

export interface MetricReading {
  metric: ScaleMetric;
  /** Per-replica target (utilization fraction, or requests/s). */
  target: number;
  /** One value per ready replica that reported; unready replicas' samples are left out by observe/. */
  values: readonly number[];
  /** Set when the source failed as a whole: the metric gives no recommendation. */
  missing?: MissingWhy | undefined;
}

export interface PolicySettings {
  min: number;
  max: number;
  tolerance: number;
  scaleUpWindowMs: number;
  scaleDownWindowMs: number;
  scaleUpMaxFactor: number;
  scaleDownMaxStep: number;
}

/** One raw (clamped) recommendation the stabilization windows look back over. */
export interface Recommendation {
  at: number;
  replicas: number;
}

/** What one metric says; matches the shared metricObservationSchema. */
export interface MetricRecommendation {
  metric: ScaleMetric;
  /** Mean over the replicas that reported; null when missing. */
  value: number | null;
  target: number;
  recommendation: number | null;
  samples: number;
  missing?: MissingWhy | undefined;
}
