// Several metrics → one recommendation: the largest wins (HPA, KEDA, AWS), and missing
// data never lets the rest scale down.
import type { MetricRecommendation } from './policy-types.js';
import type { ReasonCode } from './reasons.js';

export type Combined = { kind: 'recommend'; replicas: number } | { kind: 'hold'; reason: ReasonCode };

export function combineRecommendations(recs: readonly MetricRecommendation[], current: number): Combined {
  if (recs.length === 0) return { kind: 'hold', reason: 'NoMetricsConfigured' };
  let best: number | undefined;
  let anyMissing = false;
  for (const r of recs) {
    if (r.recommendation === null) anyMissing = true;
    else if (best === undefined || r.recommendation > best) best = r.recommendation;
  }
  if (best === undefined) return { kind: 'hold', reason: 'HoldMissingData' };
  // A scale-up on the metrics we have is safe; a scale-down could be the missing metric's fault.
  if (anyMissing && best < current) return { kind: 'hold', reason: 'HoldPartialData' };
  return { kind: 'recommend', replicas: best };
}
