// Latency: power of two choices. Two distinct candidates drawn with probability in
// proportion to effective weight; the lower peak-EWMA latency × (in-flight + 1) / weight
// wins. In-flight changes at every dispatch, so the choice reacts between latency samples
// and never herds onto the backend that looked fastest last.
import { fastestLatency, latencyEstimate } from '../latency-estimate.js';
import { effectiveWeight, type Slot } from '../slot.js';
import { canTake, type PickContext, TIE_BAND } from './picker.js';

function drawWeighted(ctx: PickContext, skip: number, total: number): Slot | undefined {
  let r = ctx.random() * total;
  let last: Slot | undefined;
  for (const s of ctx.slots) {
    if (s.serial === skip || !canTake(ctx, s)) continue;
    last = s;
    r -= effectiveWeight(s, ctx.now, ctx.settings.slowStartMs);
    if (r < 0) return s;
  }
  return last;
}

export function latencyCost(ctx: PickContext, s: Slot, fastest: number): number {
  const { now, settings } = ctx;
  return (
    (latencyEstimate(s, now, fastest, ctx.slots, settings.latencyDecayMs) * (s.inFlight + 1)) /
    effectiveWeight(s, now, settings.slowStartMs)
  );
}

export function pickTwoChoices(ctx: PickContext): Slot | undefined {
  const { now, settings } = ctx;
  let totalWeight = 0;
  let count = 0;
  for (const s of ctx.slots) {
    if (!canTake(ctx, s)) continue;
    totalWeight += effectiveWeight(s, now, settings.slowStartMs);
    count++;
  }
  if (count === 0) return undefined;
  const a = drawWeighted(ctx, -1, totalWeight);
  if (count === 1 || !a) return a;
  const b = drawWeighted(ctx, a.serial, totalWeight - effectiveWeight(a, now, settings.slowStartMs));
  if (!b) return a;
  const fastest = fastestLatency(ctx.slots);
  const ca = latencyCost(ctx, a, fastest);
  const cb = latencyCost(ctx, b, fastest);
  // costs within a few percent are a tie: measurement noise must not decide, and a
  // recovered backend whose estimate is converging must get its share back
  if (ca < cb * (1 - TIE_BAND)) return a;
  if (cb < ca * (1 - TIE_BAND)) return b;
  return ctx.random() < 0.5 ? a : b;
}
