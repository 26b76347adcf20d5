// Stabilization windows over the recommendation history (HPA behavior): a scale-up acts on
// the lowest recommendation in its window, a scale-down on the highest in its window, so a
// scale-down needs every recommendation of the last SCALE_DOWN_WINDOW_MS to be low.
import type { Recommendation } from './policy-types.js';

export interface Stabilized {
  replicas: number;
  /** The window changed the outcome: which one held it back. */
  heldBy: 'up-window' | 'down-window' | null;
  history: Recommendation[];
}

/**
 * History to start with: the count found at start-up, as if recommended now. A restarted
 * autoscaler therefore never scales down before one full window has passed.
 */
export function seedHistory(current: number, now: number): Recommendation[] {
  return [{ at: now, replicas: current }];
}

export function stabilize(
  history: readonly Recommendation[],
  recommendation: number,
  current: number,
  now: number,
  upWindowMs: number,
  downWindowMs: number,
): Stabilized {
  const keepAfter = now - Math.max(upWindowMs, downWindowMs);
  const next: Recommendation[] = [];
  let upBound = recommendation;
  let downBound = recommendation;
  for (const h of history) {
    if (h.at <= keepAfter || h.at > now) continue;
    next.push(h);
    if (h.at > now - upWindowMs && h.replicas < upBound) upBound = h.replicas;
    if (h.at > now - downWindowMs && h.replicas > downBound) downBound = h.replicas;
  }
  next.push({ at: now, replicas: recommendation });

  let replicas = current;
  if (current < upBound) replicas = upBound;
  else if (current > downBound) replicas = downBound;

  let heldBy: Stabilized['heldBy'] = null;
  if (recommendation > current && replicas < recommendation) heldBy = 'up-window';
  else if (recommendation < current && replicas > recommendation) heldBy = 'down-window';
  return { replicas, heldBy, history: next };
}
