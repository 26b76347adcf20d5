// Smooth weighted round-robin (nginx): interleaves, no bursts even for weights 5,1,1.
import { effectiveWeight, type Slot } from '../slot.js';
import { canTake, type PickContext } from './picker.js';

export function pickRoundRobin(ctx: PickContext): Slot | undefined {
  let total = 0;
  let best: Slot | undefined;
  for (const s of ctx.slots) {
    if (!canTake(ctx, s)) continue;
    const w = effectiveWeight(s, ctx.now, ctx.settings.slowStartMs);
    s.current += w;
    total += w;
    if (!best || s.current > best.current) best = s;
  }
  if (best) best.current -= total;
  return best;
}
