// Peak-EWMA latency (Finagle, Linkerd, Envoy's contrib balancer): a sample above the
// estimate replaces it at once (a backend that turns slow is noticed at its first slow
// answer); a lower one pulls it down with weight 1 − e^(−Δt/τ). At read time the
// estimate also decays toward a reference (the pool's mean) with the time since its last
// sample: a backend that had a few slow answers and then got no traffic drifts back to
// average and is tried again, instead of being starved forever (the failure users of
// Traefik's leasttime hit with identical containers).

// Each lower sample also carries at least MIN_SAMPLE_WEIGHT: with purely time-based
// weights, a burst of fast answers arriving within milliseconds would barely move an
// estimate that one very slow answer pushed up, and a recovered backend would need many τ
// to win traffic back. With the floor, ~20 fast answers bring a 100× outlier down.
export const MIN_SAMPLE_WEIGHT = 0.2;

export function updatePeakEwma(estimate: number | null, sample: number, dtMs: number, tauMs: number): number {
  if (estimate === null || sample > estimate) return sample;
  const w = Math.min(1 - MIN_SAMPLE_WEIGHT, Math.exp(-Math.max(0, dtMs) / tauMs));
  return estimate * w + sample * (1 - w);
}

export function readPeakEwma(estimate: number, ageMs: number, reference: number, tauMs: number): number {
  return reference + (estimate - reference) * Math.exp(-Math.max(0, ageMs) / tauMs);
}
