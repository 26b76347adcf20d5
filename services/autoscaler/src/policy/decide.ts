// The whole policy as one pure function: readings + counts + history + now in, the desired
// count with its reason and the next history out. No I/O, no clock.
import { combineRecommendations } from './combine-metrics.js';
import type { MetricReading, MetricRecommendation, PolicySettings, Recommendation } from './policy-types.js';
import { type ReasonCode, reasonMessage } from './reasons.js';
import { recommendForMetric, withinTolerance } from './replica-ratio.js';
import { stabilize } from './stabilization.js';
import { clamp, limitStep } from './step-limits.js';

export type ScaleAction = 'scale-up' | 'scale-down' | 'none';

export interface DecideInput {
  now: number;
  /** Replicas of the service that exist and are not being removed (ready or starting). */
  current: number;
  ready: number;
  readings: readonly MetricReading[];
  settings: PolicySettings;
  history: readonly Recommendation[];
}

export interface DecideResult {
  desired: number;
  action: ScaleAction;
  reason: ReasonCode;
  /** One line for people: the reason plus the numbers behind it. */
  message: string;
  metrics: MetricRecommendation[];
  history: Recommendation[];
}

export function decide(input: DecideInput): DecideResult {
  const { now, current, settings: s } = input;
  const metrics = input.readings.map((r) => recommendForMetric(r, current, s.tolerance));
  const combined = combineRecommendations(metrics, current);
  const inRange = clamp(current, s.min, s.max);

  if (combined.kind === 'hold') {
    // Never scale on no data, but min/max still hold. The held count is remembered as a
    // recommendation so a scale-down after the outage still needs a full window of low ones.
    const history = stabilize(
      input.history,
      inRange,
      current,
      now,
      s.scaleUpWindowMs,
      s.scaleDownWindowMs,
    ).history;
    const reason: ReasonCode =
      inRange > current ? 'TooFewReplicas' : inRange < current ? 'TooManyReplicas' : combined.reason;
    return finish(current, inRange, reason, metrics, history);
  }

  const raw = combined.replicas;
  const recommended = clamp(raw, s.min, s.max);
  const st = stabilize(input.history, recommended, current, now, s.scaleUpWindowMs, s.scaleDownWindowMs);
  const limited = limitStep(current, st.replicas, s.scaleUpMaxFactor, s.scaleDownMaxStep);
  const desired = clamp(limited, s.min, s.max);

  let reason: ReasonCode;
  if (desired > current) {
    if (current < s.min && desired === s.min && limited < s.min) reason = 'TooFewReplicas';
    else if (limited < st.replicas) reason = 'ScaleUpLimit';
    else if (st.heldBy === 'up-window') reason = 'ScaleUpStabilized';
    else if (recommended < raw && desired === s.max) reason = 'DesiredAboveMax';
    else reason = 'ScaleUp';
  } else if (desired < current) {
    if (current > s.max && desired === s.max) reason = 'TooManyReplicas';
    else if (limited > st.replicas) reason = 'ScaleDownLimit';
    else if (st.heldBy === 'down-window') reason = 'ScaleDownStabilized';
    else if (recommended > raw && desired === s.min) reason = 'DesiredBelowMin';
    else reason = 'ScaleDown';
  } else if (st.heldBy === 'up-window') reason = 'ScaleUpStabilized';
  else if (st.heldBy === 'down-window') reason = 'ScaleDownStabilized';
  else if (raw > current && desired === s.max) reason = 'DesiredAboveMax';
  else if (raw < current && desired === s.min) reason = 'DesiredBelowMin';
  else
    reason = metrics.every((m) => m.value === null || withinTolerance(m.value / m.target, s.tolerance))
      ? 'WithinTolerance'
      : 'NoChangeNeeded';
  return finish(current, desired, reason, metrics, st.history);
}

function finish(
  current: number,
  desired: number,
  reason: ReasonCode,
  metrics: MetricRecommendation[],
  history: Recommendation[],
): DecideResult {
  const action: ScaleAction = desired > current ? 'scale-up' : desired < current ? 'scale-down' : 'none';
  return { desired, action, reason, message: describe(reason, current, desired, metrics), metrics, history };
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(3).replace(/0+$/, '');
}

/** e.g. "observed use is above target: adding replicas (cpu 0.92/0.6 → 4; 2 → 4)". */
export function describe(
  reason: ReasonCode,
  current: number,
  desired: number,
  metrics: MetricRecommendation[],
): string {
  const parts = metrics.map((m) =>
    m.value === null
      ? `${m.metric} missing${m.missing ? ` (${m.missing})` : ''}`
      : `${m.metric} ${fmt(m.value)}/${fmt(m.target)} → ${m.recommendation ?? '?'}`,
  );
  parts.push(`${current} → ${desired}`);
  return `${reasonMessage(reason)} (${parts.join('; ')})`;
}
