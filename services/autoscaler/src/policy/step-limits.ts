// Rate limits per step: scale up fast but at most ×factor (at least +1), scale down by at
// most a few replicas at a time (each one is drained first).

export function limitStep(
  current: number,
  desired: number,
  upMaxFactor: number,
  downMaxStep: number,
): number {
  if (desired > current) {
    const cap = Math.max(current + 1, Math.ceil(current * upMaxFactor - 1e-9));
    return Math.min(desired, cap);
  }
  if (desired < current) return Math.max(desired, current - downMaxStep);
  return desired;
}

export function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}
