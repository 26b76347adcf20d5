// (In-flight + 1) / weight, weighted least-connections as Envoy and HAProxy do it; ties
// broken at random so idle pools do not degenerate to "always the first".
import { effectiveWeight, type Slot } from '../slot.js';
import { canTake, type PickContext } from './picker.js';

export function pickLeastConnections(ctx: PickContext): Slot | undefined {
  let best: Slot | undefined;
  let bestCost = Number.POSITIVE_INFINITY;
  let ties = 0;
  for (const s of ctx.slots) {
    if (!canTake(ctx, s)) continue;
    const cost = (s.inFlight + 1) / effectiveWeight(s, ctx.now, ctx.settings.slowStartMs);
    if (cost < bestCost) {
      best = s;
      bestCost = cost;
      ties = 1;
    } else if (cost === bestCost) {
      ties++;
      if (ctx.random() * ties < 1) best = s;
    }
  }
  return best;
}
