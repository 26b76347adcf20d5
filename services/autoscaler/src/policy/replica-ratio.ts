// One metric → one replica recommendation: HPA's desired = ceil(current × observed/target)
// with a tolerance band, and its rule for replicas that gave no sample.
import type { MetricReading, MetricRecommendation } from './policy-types.js';

// Guards ceil() against float noise: 0.6 × 5 / 0.6 must be 5, not 6.
const EPSILON = 1e-9;

export function withinTolerance(ratio: number, tolerance: number): boolean {
  return Math.abs(ratio - 1) <= tolerance + EPSILON;
}

export function ceilSafe(x: number): number {
  // max(0, …) also turns ceil(-ε) = -0 into 0.
  return Math.max(0, Math.ceil(x - EPSILON));
}

/**
 * Replicas this metric alone asks for, given `current` replicas (ready or not).
 *
 * Replicas without a sample (starting, unready, or not scraped yet) are filled in the
 * direction-damping way Kubernetes' HPA does it: when the reporting replicas ask for more,
 * the silent ones count as 0 usage (they are capacity that will take load as soon as it is
 * ready, so we do not add again for it); when the reporting ones ask for fewer, the silent
 * ones count as exactly at target (they are never idle capacity to scale down on). If the
 * fill moves the ratio into the tolerance band or reverses the direction, the count stays.
 */
export function recommendForMetric(
  reading: MetricReading,
  current: number,
  tolerance: number,
): MetricRecommendation {
  const base = { metric: reading.metric, target: reading.target };
  const values = reading.values.filter((v) => Number.isFinite(v) && v >= 0);
  if (reading.missing !== undefined || values.length === 0 || !(reading.target > 0)) {
    const missing = reading.missing ?? (reading.values.length > 0 ? 'nan' : 'empty');
    return { ...base, value: null, recommendation: null, samples: 0, missing };
  }
  let sum = 0;
  for (const v of values) sum += v;
  const n = values.length;
  const mean = sum / n;
  const firstRatio = mean / reading.target;
  const result = { ...base, value: mean, samples: n };

  if (current <= 0) {
    // Samples without replicas (e.g. a series outliving its container): scale from zero on load only.
    return { ...result, recommendation: sum > 0 ? ceilSafe(sum / reading.target) : 0 };
  }
  const silent = current - n;
  if (silent <= 0) {
    if (withinTolerance(firstRatio, tolerance)) return { ...result, recommendation: current };
    return { ...result, recommendation: ceilSafe(current * firstRatio) };
  }
  const up = firstRatio > 1;
  const filledSum = up ? sum : sum + silent * reading.target;
  const ratio = filledSum / (reading.target * current);
  const reversed = up ? ratio < 1 : ratio > 1;
  if (withinTolerance(ratio, tolerance) || reversed) return { ...result, recommendation: current };
  return { ...result, recommendation: ceilSafe(current * ratio) };
}
