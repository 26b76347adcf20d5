// The service's one bounded queue (issue #26), pure: requests wait here, in arrival order,
// when every backend is at its concurrency limit (concurrency-limit.ts, cause `limit`), and
// while the service sleeps or wakes (scale to zero, cause `hold`: the same queue, each entry
// with its own deadline, HOLD_TIMEOUT_MS or QUEUE_TIMEOUT_MS). One order for both causes: a
// held request and one that waited on the limits leave in the order they came. The proxy's
// Admission (proxy/admission.ts) owns the timers and the sockets; this only keeps the order,
// the deadlines, the counts by cause and the drain rate, with the caller's clock.
//
// Shedding at admission (research §4.5): past the size bound, or when the predicted wait
// (position × the mean time between completions while requests were waiting) already
// exceeds the entry's deadline: the client gets its 503 now, not after waiting the deadline
// out. The drain rate is learned only while requests wait: between two completions with
// the queue empty the backends were not the bottleneck, so the interval says nothing about
// how fast a queue drains (a rate that decayed over an idle minute would shed the next burst).
//
// QUEUE_TIMEOUT_MS is a response budget, not only a wait bound: a request is served only if it
// can be answered within it of its arrival. Its wait so far (or, at admission, its predicted
// wait) plus the time the backend is expected to take (the balancer's service-time estimate,
// service-time.ts) past the deadline: shed now, with the same 503, instead of sent to a backend
// and answered late. A wait bound alone let a request that waited 1.99 s be served at 2.2 s
// (simulator at 120 %: served p99 up to 2.19 s; the heterogeneous benchmark 2.20 s). Only the
// time the backend would add is new: a closed loop of clients whose answers come within the
// deadline keeps every one of them (overload-sim.test.ts › closed loop), unlike the fixed
// 100 ms budget that was reverted (7bce654). A held request keeps HOLD_TIMEOUT_MS alone: a wake
// is what it waits for, and nothing here predicts it.

/**
 * Why a request waits: `limit`, every backend is at its concurrency limit; `hold`, the service
 * sleeps or wakes (or has no backend yet while hold-and-wake is on) and a wake was asked for.
 */
export const WAIT_CAUSES = ['limit', 'hold'] as const;
export type WaitCause = (typeof WAIT_CAUSES)[number];

export interface QueueEntry<T> {
  readonly item: T;
  readonly cause: WaitCause;
  readonly at: number;
  readonly deadline: number;
  /** Removed (dispatched, expired, or its client left): skipped by the queue. */
  done: boolean;
}

/** Why admit() turned a request away. */
export type AdmitShed = 'full' | 'predicted-wait';

/**
 * Every way a request leaves the queue without a backend (the `reason` label of
 * headroom_lb_queue_shed_total and the x-headroom-shed header): turned away at admission,
 * its deadline passed (`timeout` for QUEUE_TIMEOUT_MS, `hold-timeout` for HOLD_TIMEOUT_MS),
 * its client left, the balancer stopped, or a browser was shown the waiting page instead.
 */
export type ShedReason = AdmitShed | 'timeout' | 'hold-timeout' | 'client-gone' | 'shutdown' | 'waiting-page';

/** The shed reason of an entry whose deadline passed: each cause has its own deadline. */
export function expiryReason(cause: WaitCause): ShedReason {
  return cause === 'hold' ? 'hold-timeout' : 'timeout';
}

export type Admitted<T> =
  | { readonly ok: true; readonly entry: QueueEntry<T> }
  | { readonly ok: false; readonly reason: AdmitShed; readonly predictedWaitMs: number | null };

export interface AdmitOptions {
  /** Deadline from now (QUEUE_TIMEOUT_MS, or HOLD_TIMEOUT_MS for a held request). */
  timeoutMs: number;
  /** Bound on the whole depth, both causes (QUEUE_MAX, or HOLD_MAX_REQUESTS for a held request). */
  max: number;
  /** Why it waits; `limit` when not said. */
  cause?: WaitCause;
  /**
   * The least time a backend is expected to take once it has the request (ms; the balancer's
   * fastestMs): the response budget sets it aside from the deadline. 0 or absent: unknown.
   */
  serviceMs?: number;
}

/**
 * The most of QUEUE_TIMEOUT_MS a backend's expected time may take from a request's wait. An
 * endpoint slower than the deadline cannot be answered within it at all; shedding every request
 * that must wait for it, at once, would turn a short queue into errors. Such a request may still
 * wait half the deadline (its answer is then late by its own service time, no more).
 */
export const MAX_SERVICE_SHARE = 0.5;

/** What the response budget sets aside for the backend: its expected time, at most MAX_SERVICE_SHARE of the deadline. */
export function serviceAllowanceMs(expectedMs: number, timeoutMs: number): number {
  return Math.min(Math.max(0, expectedMs), MAX_SERVICE_SHARE * timeoutMs);
}

/**
 * Whether a request waiting at the limits is past its response budget: it has waited `waitedMs`
 * and the backend it would get is expected to take `expectedMs`, so its answer would come at or
 * after `timeoutMs` from its arrival. At expectedMs 0 (unknown) this is the plain deadline.
 */
export function pastResponseBudget(waitedMs: number, expectedMs: number, timeoutMs: number): boolean {
  return waitedMs + serviceAllowanceMs(expectedMs, timeoutMs) >= timeoutMs;
}

/**
 * QUEUE_TIMEOUT_MS and QUEUE_MAX defaults (packages/shared/src/config/load-balancer.ts says the
 * same): served p99 under overload stays within about 2 s with nothing configured, and 1000
 * waiting requests is far more than a 2 s deadline lets a small service drain.
 */
export const DEFAULT_QUEUE = { timeoutMs: 2000, max: 1000 } as const;

/** Completions observed while requests waited before the predicted wait is trusted. */
export const MIN_DRAIN_SAMPLES = 5;
/** Weight of one inter-completion interval in the mean (about the last 20 count). */
export const DRAIN_WEIGHT = 0.05;
/** Retry-After bounds in seconds (research §4.5: 1–30 s). */
export const RETRY_AFTER_MIN_S = 1;
export const RETRY_AFTER_MAX_S = 30;

export class ServiceQueue<T> {
  private entries: Array<QueueEntry<T>> = [];
  private head = 0;
  private live = 0;
  private held = 0;
  /** Mean ms between completions while requests waited; null until learned. */
  private intervalMs: number | null = null;
  private samples = 0;
  private lastCompletion: number | null = null;
  /** When the queue last went from empty to non-empty. */
  private busySince = 0;

  /** Every waiting entry, both causes: the service's one depth. */
  get size(): number {
    return this.live;
  }

  /** Waiting entries of one cause. */
  count(cause: WaitCause): number {
    return cause === 'hold' ? this.held : this.live - this.held;
  }

  /** The mean time between completions while requests waited (ms), or null before MIN_DRAIN_SAMPLES. */
  get drainIntervalMs(): number | null {
    return this.samples >= MIN_DRAIN_SAMPLES ? this.intervalMs : null;
  }

  /** How long the request at `position` (1 = next out) is predicted to wait, or null when unknown. */
  predictedWaitMs(position: number): number | null {
    const i = this.drainIntervalMs;
    return i === null ? null : position * i;
  }

  admit(item: T, now: number, opts: AdmitOptions): Admitted<T> {
    const cause = opts.cause ?? 'limit';
    if (this.live >= opts.max)
      return { ok: false, reason: 'full', predictedWaitMs: this.predictedWaitMs(this.live + 1) };
    // Never for a held request: while its service sleeps or wakes nothing completes, so the
    // drain rate says nothing about when the first replica will take it (its rate is zero, or
    // a stale one learned before the sleep). Only HOLD_TIMEOUT_MS bounds its wait; a wake that
    // takes 10 s is what the hold is for, and shedding on a guess would defeat it.
    // Nor for a request behind held ones: they are the wake's backlog, draining on replicas
    // that just started (cold, their limits still growing), so the first intervals predict a
    // far slower drain than the one that follows; its QUEUE_TIMEOUT_MS deadline bounds it.
    // Its answer is due within the deadline: the predicted wait plus the fastest backend's time.
    const predicted = cause === 'limit' && this.held === 0 ? this.predictedWaitMs(this.live + 1) : null;
    if (
      predicted !== null &&
      predicted + serviceAllowanceMs(opts.serviceMs ?? 0, opts.timeoutMs) > opts.timeoutMs
    )
      return { ok: false, reason: 'predicted-wait', predictedWaitMs: predicted };
    if (this.live === 0) this.busySince = now;
    const entry: QueueEntry<T> = { item, cause, at: now, deadline: now + opts.timeoutMs, done: false };
    this.entries.push(entry);
    this.live++;
    if (cause === 'hold') this.held++;
    return { ok: true, entry };
  }

  /** The oldest waiting entry, without removing it. */
  peek(): QueueEntry<T> | undefined {
    this.skipDone();
    return this.entries[this.head];
  }

  /**
   * The entry to hand to a backend next, without removing it: the oldest, unless it is held
   * and its service still holds (`holding`: sleeping or waking, no first health pass yet; a
   * replica still up while the autoscaler's announced sleep stops it must not take it). Then
   * none: nothing behind it passes it, so arrival order holds across both causes.
   */
  next(holding: boolean): QueueEntry<T> | undefined {
    const e = this.peek();
    return e !== undefined && e.cause === 'hold' && holding ? undefined : e;
  }

  /** Removes and returns the oldest waiting entry. */
  shift(): QueueEntry<T> | undefined {
    const e = this.peek();
    if (e === undefined) return undefined;
    this.take(e);
    this.skipDone();
    return e;
  }

  /** The client left (or it was answered elsewhere): forget it. False when it was no longer waiting. */
  remove(e: QueueEntry<T>): boolean {
    if (e.done) return false;
    this.take(e);
    this.skipDone();
    return true;
  }

  /**
   * Removes and returns every entry whose deadline has passed (deadline ≤ now), oldest first,
   * and every one waiting at the limits past its response budget: `serviceMs` is the least time
   * a backend would take (the balancer's fastestMs; 0: unknown), so not even the fastest could
   * answer it within QUEUE_TIMEOUT_MS of its arrival. A held entry: its deadline only.
   */
  expire(now: number, serviceMs = 0): Array<QueueEntry<T>> {
    const out: Array<QueueEntry<T>> = [];
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (!e.done && now >= this.dueBy(e, serviceMs)) {
        this.take(e);
        out.push(e);
      }
    }
    this.skipDone();
    return out;
  }

  /** Removes and returns every waiting entry in arrival order (shutdown). */
  drainAll(): Array<QueueEntry<T>> {
    const out: Array<QueueEntry<T>> = [];
    for (let e = this.shift(); e !== undefined; e = this.shift()) out.push(e);
    return out;
  }

  /** Removes and returns every waiting entry of one cause, in arrival order; the others keep their places. */
  drainCause(cause: WaitCause): Array<QueueEntry<T>> {
    const out: Array<QueueEntry<T>> = [];
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (!e.done && e.cause === cause) {
        this.take(e);
        out.push(e);
      }
    }
    this.skipDone();
    return out;
  }

  /** The earliest time expire(·, serviceMs) takes a waiting entry, or null when none waits. */
  nextDeadline(serviceMs = 0): number | null {
    let min: number | null = null;
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (e.done) continue;
      const due = this.dueBy(e, serviceMs);
      if (min === null || due < min) min = due;
    }
    return min;
  }

  /** When an entry leaves without a backend: its deadline, less the backend's time for one at the limits. */
  private dueBy(e: QueueEntry<T>, serviceMs: number): number {
    return e.cause === 'hold' ? e.deadline : e.deadline - serviceAllowanceMs(serviceMs, e.deadline - e.at);
  }

  /**
   * The service cannot take anything now (it sleeps or wakes while requests are held): the
   * time until its next completion is a wake, not a drain interval. Without this, the seconds
   * a wake takes would be learned as the time between completions, and every request arriving
   * behind the held ones once it is awake would be shed on a predicted wait of minutes.
   */
  stalled(now: number): void {
    this.lastCompletion = null;
    // and the rate learned before it describes replicas the sleep stopped: forget it, so the
    // woken ones are judged on MIN_DRAIN_SAMPLES of their own
    this.intervalMs = null;
    this.samples = 0;
    // the drain-rate samples of the woken replicas start at the wake, not at the first held request
    if (this.live > 0) this.busySince = now;
  }

  /**
   * A request finished at a backend of this service. While requests wait, the interval since
   * the previous completion is a drain-rate sample.
   */
  completed(now: number): void {
    const last = this.lastCompletion;
    this.lastCompletion = now;
    if (this.live === 0 || last === null || last < this.busySince) return;
    const dt = Math.max(0, now - last);
    this.intervalMs = this.intervalMs === null ? dt : this.intervalMs + DRAIN_WEIGHT * (dt - this.intervalMs);
    this.samples++;
  }

  /**
   * Seconds for Retry-After: the time to drain what waits now, else the deadline, within
   * [RETRY_AFTER_MIN_S, RETRY_AFTER_MAX_S].
   */
  retryAfterSeconds(fallbackMs: number): number {
    const wait = this.predictedWaitMs(this.live + 1) ?? fallbackMs;
    return Math.min(RETRY_AFTER_MAX_S, Math.max(RETRY_AFTER_MIN_S, Math.ceil(wait / 1000)));
  }

  /** Marks only: the caller compacts (expire iterates over the array while taking). */
  private take(e: QueueEntry<T>): void {
    e.done = true;
    this.live--;
    if (e.cause === 'hold') this.held--;
  }

  private skipDone(): void {
    while (this.head < this.entries.length && this.entries[this.head]!.done) this.head++;
    // compact once the dead prefix is large: amortised O(1), no per-shift array copy
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    } else if (this.head === this.entries.length && this.head > 0) {
      this.entries.length = 0;
      this.head = 0;
    }
  }
}

/**
 * Seconds for Retry-After when a held request's HOLD_TIMEOUT_MS passed (or on the waiting
 * page): the hold timeout, rounded up, at least 1 (a wake takes about that long at most).
 */
export function holdRetryAfterSeconds(timeoutMs: number): number {
  return Math.max(1, Math.ceil(timeoutMs / 1000));
}
