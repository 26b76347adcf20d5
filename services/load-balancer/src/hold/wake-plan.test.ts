import { describe, expect, it } from 'vitest';
import {
  NO_WAKE_CALLS,
  planWake,
  type WakeCalls,
  type WakeSettings,
  wakeResult,
  wakeSent,
} from './wake-plan.js';

const s: WakeSettings = { minIntervalMs: 250, backoffMs: 200, maxBackoffMs: 1_000 };
const c = (lastAt: number | null, lastHeld: number, failures = 0): WakeCalls => ({
  lastAt,
  lastHeld,
  failures,
});

// [calls so far, held now, now, decision]
const table: [string, WakeCalls, number, number, ReturnType<typeof planWake>][] = [
  ['first held request calls at once', NO_WAKE_CALLS, 1, 0, { call: true }],
  ['same held count: nothing to say', c(0, 3), 3, 10_000, { call: false, retryAt: null }],
  ['fewer held (released/left): nothing to say', c(0, 3), 1, 10_000, { call: false, retryAt: null }],
  ['held grew inside the interval: later', c(0, 1), 5, 100, { call: false, retryAt: 250 }],
  ['held grew, interval passed', c(0, 1), 5, 250, { call: true }],
  ['first failure: retry after backoff (>= interval)', c(0, 1, 1), 1, 100, { call: false, retryAt: 250 }],
  ['first failure, after backoff', c(0, 1, 1), 1, 250, { call: true }],
  ['third failure: 800 ms', c(0, 1, 3), 1, 799, { call: false, retryAt: 800 }],
  ['many failures: capped', c(0, 1, 20), 1, 999, { call: false, retryAt: 1_000 }],
  ['many failures, after the cap', c(0, 1, 20), 1, 1_000, { call: true }],
  [
    'failed, but every held request has timed out: no retry for nobody',
    c(0, 1, 2),
    0,
    10_000,
    { call: false, retryAt: null },
  ],
  ['failed, a new request waits: retry after backoff', c(0, 0, 2), 1, 10_000, { call: true }],
];

describe('planWake', () => {
  it.each(table)('%s', (_name, calls, held, now, want) =>
    expect(planWake(calls, held, now, s)).toEqual(want),
  );

  it('never more than one call per interval in a burst', () => {
    let calls = NO_WAKE_CALLS;
    let sent = 0;
    for (let now = 0; now < 1_000; now += 10) {
      const held = now / 10 + 1;
      if (planWake(calls, held, now, s).call) {
        calls = wakeResult(true, wakeSent(held, now, calls));
        sent++;
      }
    }
    expect(sent).toBe(4); // 0, 250, 500, 750
  });

  it('a success resets the backoff', () => {
    const failed = wakeResult(false, wakeResult(false, wakeSent(1, 0, NO_WAKE_CALLS)));
    expect(failed.failures).toBe(2);
    expect(wakeResult(true, wakeSent(1, 500, failed))).toEqual(c(500, 1, 0));
  });
});
