// Latency mode's view of a slot: peak-EWMA of whole latencies (peak-ewma.ts), read with the
// pool reference it decays toward. Pure functions over slots.
import { readPeakEwma } from './peak-ewma.js';
import { isEligible, type Slot } from './slot.js';

/** A new backend's latency estimate: the pool mean plus this, fading over τ (never flood a cold one, never starve it). */
export const NEW_BACKEND_PENALTY_MS = 20;
/** How much faster an estimate without new samples fades toward the fastest backend's. */
export const IDLE_DECAY_SPEEDUP = 4;
/** Latency charged for a failed exchange when it was faster than this (a fast error is not a fast answer). */
export const FAILURE_LATENCY_MS = 1000;

export function meanLatency(slots: readonly Slot[]): number {
  let sum = 0;
  let n = 0;
  for (const s of slots) {
    if (s.ewma === null || !isEligible(s)) continue;
    sum += s.ewma;
    n++;
  }
  return n > 0 ? sum / n : 1;
}

/**
 * Lowest raw estimate among eligible backends. An estimate without new samples decays
 * toward it: a backend that was slow and then got no traffic is retried within a few τ
 * (one slow answer puts it straight back up, peak-EWMA), so nothing is starved forever.
 * Decaying toward the mean would not do: the mean includes the stale slow value itself.
 */
export function fastestLatency(slots: readonly Slot[]): number {
  let min = Number.POSITIVE_INFINITY;
  for (const s of slots) if (s.ewma !== null && isEligible(s) && s.ewma < min) min = s.ewma;
  return Number.isFinite(min) ? min : 1;
}

export function latencyEstimate(
  s: Slot,
  now: number,
  fastest: number,
  slots: readonly Slot[],
  tauMs: number,
): number {
  // a backend with no sample yet starts from the pool mean plus a penalty fading over τ
  if (s.ewma === null)
    return meanLatency(slots) + NEW_BACKEND_PENALTY_MS * Math.exp(-(now - s.joinedAt) / tauMs);
  // idle estimates fade 4× faster than samples decay: a backend that got no traffic
  // since a burst of slow answers (1000× the fastest) is retried within ~30 s at τ = 10 s
  return readPeakEwma(s.ewma, now - s.ewmaAt, fastest, tauMs / IDLE_DECAY_SPEEDUP);
}
