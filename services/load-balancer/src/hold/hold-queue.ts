// Scale to zero (issue #19): the bounded hold queue, pure (the caller owns the clock and the
// timers). Entries are whatever the proxy needs to resume a request later (its paused
// request/response pair); the queue never touches them. One deadline for every entry
// (HOLD_TIMEOUT_MS), so arrival order is deadline order and expiry only looks at the head.

export interface Held<T> {
  readonly item: T;
  readonly heldAt: number;
  readonly deadline: number;
}

export type AdmitResult<T> =
  | { readonly ok: true; readonly held: Held<T> }
  | { readonly ok: false; readonly reason: 'full' };

export class HoldQueue<T> {
  private entries: Held<T>[] = [];

  constructor(
    private readonly maxRequests: number,
    private readonly timeoutMs: number,
  ) {}

  get size(): number {
    return this.entries.length;
  }

  /** Holds one more request, or says the queue is full (HOLD_MAX_REQUESTS). */
  admit(item: T, now: number): AdmitResult<T> {
    if (this.entries.length >= this.maxRequests) return { ok: false, reason: 'full' };
    const held = { item, heldAt: now, deadline: now + this.timeoutMs };
    this.entries.push(held);
    return { ok: true, held };
  }

  /** The client left while held: forget it. False when it was not held (already released or expired). */
  remove(held: Held<T>): boolean {
    const i = this.entries.indexOf(held);
    if (i < 0) return false;
    this.entries.splice(i, 1);
    return true;
  }

  /** Removes and returns the entries whose deadline has passed (deadline <= now), oldest first. */
  expire(now: number): Held<T>[] {
    let n = 0;
    while (n < this.entries.length && (this.entries[n] as Held<T>).deadline <= now) n++;
    return n === 0 ? [] : this.entries.splice(0, n);
  }

  /** Removes and returns every entry in arrival order (a replica is ready: release them all). */
  drain(): Held<T>[] {
    const all = this.entries;
    this.entries = [];
    return all;
  }

  /** When the next deadline falls, for the single timer the caller keeps; null when empty. */
  nextDeadline(): number | null {
    return this.entries[0]?.deadline ?? null;
  }
}

/** Seconds for Retry-After on a 503 from the hold path: the hold timeout, rounded up, at least 1. */
export function retryAfterSeconds(timeoutMs: number): number {
  return Math.max(1, Math.ceil(timeoutMs / 1000));
}

/**
 * Browsers get the opt-in waiting page (HOLD_HTML_PAGE) instead of being held; everything
 * else (APIs, curl, fetch with no Accept) blocks until released or timed out.
 */
export function wantsWaitingPage(accept: string | undefined, pageEnabled: boolean): boolean {
  return pageEnabled && accept?.includes('text/html') === true;
}
