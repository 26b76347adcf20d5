// Learns each backend's capacity from its resource samples (capacity-estimate.ts has the
// arithmetic and the A58 safeguards) and re-expresses it as a bounded correction of the
// backend's prior weight, relative to the pool. Mutates slots only; no I/O, no clock.
import {
  CAPACITY_BLACKOUT_MS,
  CAPACITY_EXPIRY_MS,
  capacityFactor,
  capacitySample,
  smoothCapacity,
} from './capacity-estimate.js';
import type { Slot } from './slot.js';

/**
 * One resource sample for `s`. Returns true when a capacity estimate changed (the pool's
 * factors must then be normalized again).
 */
export function observeResources(
  s: Slot,
  cpu: number | null,
  mem: number | null,
  at: number,
  staleMs: number,
): boolean {
  const previous = s.metricsAt;
  let learned = false;
  if (previous === null || at - previous > staleMs) {
    s.metricsSince = at; // a new run of metrics: the blackout starts again
  } else if (cpu !== null && at > previous && at - s.metricsSince >= CAPACITY_BLACKOUT_MS) {
    const sample = capacitySample(s.requests - s.requestsAtMetrics, at - previous, cpu);
    if (sample !== null) {
      s.capacity = smoothCapacity(s.capacity, sample, at - s.capacityAt);
      s.capacityAt = at;
      learned = true;
    }
  }
  s.requestsAtMetrics = s.requests;
  s.cpu = cpu;
  s.mem = mem;
  s.metricsAt = at;
  return learned;
}

/** Every live estimate as a correction of its CPU-limit prior, relative to the pool's mean. */
export function normalizeCapacities(slots: readonly Slot[], now: number): void {
  let sum = 0;
  let n = 0;
  for (const s of slots) {
    if (s.capacity === null || now - s.capacityAt > CAPACITY_EXPIRY_MS) continue;
    sum += s.capacity / s.cpuPrior;
    n++;
  }
  let cpuSum = 0;
  let cpuN = 0;
  for (const s of slots) {
    const fresh = s.capacity !== null && now - s.capacityAt <= CAPACITY_EXPIRY_MS;
    s.capacityFactor = fresh ? capacityFactor(s.capacity! / s.cpuPrior, sum / n) : null;
    const limit = s.spec.cpuLimit;
    if (fresh && limit !== undefined && limit > 0 && s.capacity! > 0) {
      cpuSum += (1000 * limit) / s.capacity!;
      cpuN++;
    }
  }
  const poolCpuMs = cpuN > 0 ? cpuSum / cpuN : null;
  for (const s of slots) s.poolCpuMs = poolCpuMs;
}
