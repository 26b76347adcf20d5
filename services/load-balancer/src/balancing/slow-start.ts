// Slow start: a backend that joins or comes back gets a share that ramps linearly from
// SLOW_START_FLOOR to its full weight over the window (Envoy's slow start with
// aggression 1 and min_weight_percent 10), so a cold container is not flooded.
export const SLOW_START_FLOOR = 0.1;

export function slowStartFactor(now: number, since: number, windowMs: number): number {
  if (windowMs <= 0) return 1;
  const elapsed = now - since;
  if (elapsed >= windowMs) return 1;
  return Math.max(SLOW_START_FLOOR, elapsed / windowMs);
}
