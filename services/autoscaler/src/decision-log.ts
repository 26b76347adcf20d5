// Bounded history of decisions with their inputs and reason: what GET /api/decisions shows.
// A tick that repeats the previous decision (same counts, action and reason: a steady hold,
// a dry run, a failure retried every tick) is not logged again, so the history holds changes
// rather than thousands of identical lines.
import type { Decision } from '@headroom/shared';

export class DecisionLog {
  private readonly items: Decision[] = [];
  /** The latest decision per service (logged or not). */
  private readonly last = new Map<string, Decision>();

  constructor(private readonly capacity = 500) {}

  /** Records a decision; returns whether it was new enough to be logged. */
  record(d: Decision): boolean {
    const prev = this.last.get(d.service);
    this.last.set(d.service, d);
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

  /** Newest first; only `service`'s when given. */
  recent(limit = 100, service?: string): Decision[] {
    const items = service === undefined ? this.items : this.items.filter((d) => d.service === service);
    return items.slice(-limit).reverse();
  }

  /** The latest decision of `service`, or of any service when not given. */
  latest(service?: string): Decision | null {
    if (service !== undefined) return this.last.get(service) ?? null;
    let newest: Decision | null = null;
    for (const d of this.last.values()) if (!newest || d.at >= newest.at) newest = d;
    return newest;
  }

  get size(): number {
    return this.items.length;
  }
}
