// Capacity estimate for resource-aware mode, after gRPC's client-side weighted round-robin
// (proposal A58, Envoy's CSWRR): capacity = completions per second / utilization, i.e. how
// many requests per second the backend would serve at 100 % of its CPU limit. It uses the
// CPU signal without double counting the balancer's own load: a backend busy with our
// traffic serves many requests per unit of CPU and keeps its weight; one whose CPU goes to
// something else (a noisy neighbour, a slower host, a smaller limit) serves few and loses it.
// The A58 safeguards apply: a blackout after metrics start, smoothing, expiry, and a clamp
// around the pool mean so one odd sample cannot starve or flood a backend.

/** Samples in the first 10 s of an unbroken metrics run are ignored (A58 blackout_period): warm-up CPU is not load. */
export const CAPACITY_BLACKOUT_MS = 10_000;
/** An estimate not refreshed for 3 min is dropped (A58 weight_expiration_period): the prior weight takes over. */
export const CAPACITY_EXPIRY_MS = 180_000;
/** Smoothing time constant: one sample moves the estimate ~28 % at 1 s intervals. */
export const CAPACITY_TAU_MS = 3_000;
/** Utilization floor: an idle backend's CPU reading is mostly noise, not a capacity signal. */
export const CAPACITY_MIN_UTILIZATION = 0.05;
/** Fewer completions than this in a sample interval carry no rate information. */
export const CAPACITY_MIN_COMPLETIONS = 3;
/** Learned weights stay within [1/4, 4] × the pool mean (the research digest's recommendation). */
export const CAPACITY_CLAMP = 4;

/** One sample: completions/s per unit of utilization, or null when the interval says nothing. */
export function capacitySample(completions: number, intervalMs: number, utilization: number): number | null {
  if (completions < CAPACITY_MIN_COMPLETIONS || intervalMs <= 0 || !Number.isFinite(utilization)) return null;
  return completions / (intervalMs / 1000) / Math.max(utilization, CAPACITY_MIN_UTILIZATION);
}

/** Exponential smoothing over time (irregular sample intervals weigh by elapsed time). */
export function smoothCapacity(previous: number | null, sample: number, elapsedMs: number): number {
  if (previous === null) return sample;
  const alpha = 1 - Math.exp(-Math.max(0, elapsedMs) / CAPACITY_TAU_MS);
  return previous + alpha * (sample - previous);
}

/** Normalised weight: capacity relative to the pool's mean, clamped, in units of the pool's mean prior weight. */
export function clampCapacity(capacity: number, meanCapacity: number, meanPrior: number): number {
  if (!(meanCapacity > 0)) return meanPrior;
  const ratio = Math.min(CAPACITY_CLAMP, Math.max(1 / CAPACITY_CLAMP, capacity / meanCapacity));
  return ratio * meanPrior;
}
