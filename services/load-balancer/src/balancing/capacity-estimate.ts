// Capacity estimate for resource-aware mode, after gRPC's client-side weighted round-robin
// (proposal A58, Envoy's CSWRR): capacity = completions per second / utilization, i.e. how
// many requests per second the backend would serve at 100 % of its CPU limit. It uses the
// CPU signal without double counting the balancer's own load: a backend busy with our
// traffic serves many requests per unit of CPU and keeps its weight; one whose CPU goes to
// something else (a noisy neighbour, a slower host, a smaller limit) serves few and loses it.
// The A58 safeguards apply: a blackout after metrics start, smoothing, expiry, and a clamp.
// The clamp is around the backend's prior weight (its CPU limit relative to the others), not
// around the pool mean: the configured limit is a reliable statement of capacity, and the
// estimate can only correct it by 2× either way. Wider, it spirals: CPU taken by a noisy
// neighbour reads as u = 1 whatever traffic the backend gets, so qps / u follows the traffic
// sent and the weight falls to the floor (the noisy-neighbour benchmark showed it), while the
// backend still has capacity the others need.

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
/** Learned weights stay within [1/2, 2] × the prior weight. */
export const CAPACITY_CLAMP = 2;

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

/**
 * Correction factor for one backend's prior weight: its capacity per unit of prior weight,
 * relative to the pool's mean of the same, clamped to [1/CLAMP, CLAMP].
 */
export function capacityFactor(capacityPerPrior: number, meanCapacityPerPrior: number): number {
  if (!(meanCapacityPerPrior > 0) || !Number.isFinite(capacityPerPrior)) return 1;
  return Math.min(CAPACITY_CLAMP, Math.max(1 / CAPACITY_CLAMP, capacityPerPrior / meanCapacityPerPrior));
}
