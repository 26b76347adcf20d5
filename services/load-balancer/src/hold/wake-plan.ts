// Scale to zero (issue #19): when to POST {AUTOSCALER_URL}/api/wake, pure. One call on the
// first held request; another when the held count grew (the held count is a scaling signal:
// a burst asks for more than one replica), at most one per minIntervalMs; after a failed
// call, retried with exponential backoff while the service is still waking.

export interface WakeCalls {
  /** When the last call was sent (ms); null: none in this wake. */
  readonly lastAt: number | null;
  /** The held count that call carried. */
  readonly lastHeld: number;
  /** Consecutive failed calls (0 after a success). */
  readonly failures: number;
}

export interface WakeSettings {
  /** Minimum gap between two calls (e.g. 250 ms: at most 4/s). */
  readonly minIntervalMs: number;
  /** First retry delay after a failure; doubles per failure up to maxBackoffMs. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

export const NO_WAKE_CALLS: WakeCalls = { lastAt: null, lastHeld: 0, failures: 0 };

export const DEFAULT_WAKE_SETTINGS: WakeSettings = {
  minIntervalMs: 250,
  backoffMs: 200,
  maxBackoffMs: 5_000,
};

export type WakeDecision =
  | { readonly call: true }
  | { readonly call: false; readonly retryAt: number | null };

/**
 * Whether to call now (waking is the caller's precondition). When not, retryAt is when to
 * ask again (a pending growth or a failure to retry); null: nothing pending.
 */
export function planWake(calls: WakeCalls, held: number, now: number, s: WakeSettings): WakeDecision {
  if (calls.lastAt === null) return { call: true };
  const wait =
    calls.failures > 0 ? Math.min(s.maxBackoffMs, s.backoffMs * 2 ** (calls.failures - 1)) : s.minIntervalMs;
  // a failed call is retried only while somebody waits: once every held request has timed out,
  // the autoscaler is not woken for nobody (the next request asks again)
  const pending = (calls.failures > 0 && held > 0) || held > calls.lastHeld;
  if (!pending) return { call: false, retryAt: null };
  const at = calls.lastAt + Math.max(wait, s.minIntervalMs);
  return now >= at ? { call: true } : { call: false, retryAt: at };
}

export function wakeSent(held: number, now: number, calls: WakeCalls): WakeCalls {
  return { lastAt: now, lastHeld: held, failures: calls.failures };
}

export function wakeResult(ok: boolean, calls: WakeCalls): WakeCalls {
  return { ...calls, failures: ok ? 0 : calls.failures + 1 };
}
