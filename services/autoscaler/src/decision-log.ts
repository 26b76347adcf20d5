// Bounded history of decisions with their inputs and reason: what GET /api/decisions shows.
// A tick that repeats the previous decision (same counts, action and reason: a steady hold,
// a dry run, a failure retried every tick) is not logged again, so the history holds changes
// rather than thousands of identical lines.
import type { Decision } from '@headroom/shared';

export class DecisionLog {
  private readonly items: Decision[] = [];
  private last: Decision | null = null;

  constructor(private readonly capacity = 500) {}

  /** Records a decision; returns whether it was new enough to be logged. */
  record(d: Decision): boolean {
    const prev = this.items[this.items.length - 1];
    this.last = d;
    const same =
      prev !== undefined &&
      prev.action === d.action &&
      prev.reason === d.reason &&
      prev.current === d.current &&
      prev.desired === d.desired &&
      prev.ready === d.ready;
    if (same) return false;
    this.items.push(d);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
    return true;
  }

  /** Newest first. */
  recent(limit = 100): Decision[] {
    return this.items.slice(-limit).reverse();
  }

  latest(): Decision | null {
    return this.last;
  }

  get size(): number {
    return this.items.length;
  }
}
