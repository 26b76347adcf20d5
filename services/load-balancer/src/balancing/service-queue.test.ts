import { describe, expect, it } from 'vitest';
import {
  type AdmitShed,
  expiryReason,
  MIN_DRAIN_SAMPLES,
  pastResponseBudget,
  ServiceQueue,
  type ShedReason,
  serviceAllowanceMs,
  type WaitCause,
} from './service-queue.js';
import { expectedLatencyMs } from './service-time.js';

const opts = { timeoutMs: 1000, max: 3 };

describe('ServiceQueue', () => {
  it('keeps arrival order and says full past its bound', () => {
    const q = new ServiceQueue<string>();
    for (const x of ['a', 'b', 'c']) expect(q.admit(x, 0, opts).ok).toBe(true);
    expect(q.admit('d', 0, opts)).toEqual({ ok: false, reason: 'full', predictedWaitMs: null });
    expect([q.shift()?.item, q.shift()?.item, q.shift()?.item, q.shift()]).toEqual([
      'a',
      'b',
      'c',
      undefined,
    ]);
    expect(q.size).toBe(0);
  });

  it('a client that left is skipped, once', () => {
    const q = new ServiceQueue<string>();
    q.admit('a', 0, opts);
    const b = q.admit('b', 0, opts);
    q.admit('c', 0, opts);
    if (!b.ok) throw new Error('b not admitted');
    expect(q.remove(b.entry)).toBe(true);
    expect(q.remove(b.entry)).toBe(false);
    expect(q.drainAll().map((e) => e.item)).toEqual(['a', 'c']);
  });

  // [admitted at (with their timeouts), now, expired, left]
  const expiry: Array<[Array<[number, number]>, number, number[], number[]]> = [
    [
      [
        [0, 1000],
        [10, 1000],
        [20, 1000],
      ],
      999,
      [],
      [0, 10, 20],
    ],
    [
      [
        [0, 1000],
        [10, 1000],
        [20, 1000],
      ],
      1000,
      [0],
      [10, 20],
    ],
    // the hold's long deadline and the queue's short one in one queue: each its own
    [
      [
        [0, 30_000],
        [10, 1000],
        [20, 1000],
      ],
      1020,
      [10, 20],
      [0],
    ],
    [[], 5000, [], []],
  ];
  it.each(expiry)('admitted %j, at %d: expires %j, keeps %j', (admitted, now, expired, left) => {
    const q = new ServiceQueue<number>();
    for (const [t, timeoutMs] of admitted) q.admit(t, t, { timeoutMs, max: 10 });
    expect(q.expire(now).map((e) => e.item)).toEqual(expired);
    expect(q.drainAll().map((e) => e.item)).toEqual(left);
  });

  it('learns the drain rate only while requests wait, then sheds on the predicted wait at once', () => {
    const q = new ServiceQueue<number>();
    // completions 1 s apart with nothing waiting say nothing about how fast a queue drains
    for (let t = 0; t < 10_000; t += 1000) q.completed(t);
    expect(q.drainIntervalMs).toBeNull();
    // 10 wait; completions every 50 ms while they do
    const big = { timeoutMs: 1000, max: 100, cause: 'limit' as const };
    for (let i = 0; i < 10; i++) q.admit(i, 10_000, big);
    for (let i = 1; i <= MIN_DRAIN_SAMPLES + 1; i++) {
      q.completed(10_000 + 50 * i);
      q.shift();
      q.admit(100 + i, 10_000 + 50 * i, big);
    }
    expect(q.drainIntervalMs).toBeCloseTo(50);
    // position 11 → ~550 ms: admitted; fill to position 20 (1000 ms); position 21 → shed now
    expect(q.predictedWaitMs(q.size + 1)).toBeCloseTo(550);
    for (let i = 0; i < 10; i++) expect(q.admit(i, 10_400, big).ok).toBe(true);
    const shed = q.admit(99, 10_400, big);
    expect(shed.ok).toBe(false);
    expect(!shed.ok && shed.reason).toBe('predicted-wait');
    // a held request (the service wakes; nothing drains yet) waits regardless
    expect(q.admit(99, 10_400, { ...big, cause: 'hold' }).ok).toBe(true);
    expect(q.retryAfterSeconds(5000)).toBe(2);
  });

  it('Retry-After falls back to the deadline without a drain rate, within 1–30 s', () => {
    const q = new ServiceQueue<number>();
    expect(q.retryAfterSeconds(2500)).toBe(3);
    expect(q.retryAfterSeconds(100)).toBe(1);
    expect(q.retryAfterSeconds(600_000)).toBe(30);
  });

  it('does not grow without bound when entries churn (compaction)', () => {
    const q = new ServiceQueue<number>();
    for (let i = 0; i < 50_000; i++) {
      q.admit(i, i, { timeoutMs: 10, max: 10 });
      if (i % 2 === 1) {
        q.shift();
        q.shift();
      }
    }
    expect(q.size).toBe(0);
    expect((q as unknown as { entries: unknown[] }).entries.length).toBeLessThan(2100);
  });
});

// One queue for both causes (issue #26): a held request (the service sleeps or wakes, cause
// `hold`, HOLD_TIMEOUT_MS and HOLD_MAX_REQUESTS) and one waiting at the limits (cause `limit`,
// QUEUE_TIMEOUT_MS and QUEUE_MAX) share one order and one depth, each with its own deadline.
describe('ServiceQueue: held and limit-queued requests in one queue', () => {
  const QUEUE = { timeoutMs: 2000, max: 4 };
  const HOLD = { timeoutMs: 30_000, max: 6 };
  type Step =
    /** admitted at `at` for `cause`: the result (true, or the shed reason) */
    | { admit: string; cause: WaitCause; at: number; want: true | AdmitShed }
    /** every entry whose deadline passed at `at`, with the reason it is shed for */
    | { expire: number; want: Array<[string, ShedReason]> }
    /** hand-offs while the service holds (or not) until next() says none (or `count` are out): their order */
    | { handOff: 'holding' | 'awake'; want: string[]; count?: number }
    /** a completion at `at` (learns the drain rate while something waits) */
    | { completed: number }
    /** the service holds (sleeps or wakes) with requests held at `at`: what follows is a wake, not a drain */
    | { stalled: number }
    | { depth: number; held: number };
  const a = (admit: string, cause: WaitCause, at: number, want: true | AdmitShed = true): Step => ({
    admit,
    cause,
    at,
    want,
  });
  const table: Array<[string, Step[]]> = [
    [
      'each cause its own deadline: QUEUE_TIMEOUT_MS for the limit-queued, HOLD_TIMEOUT_MS for the held',
      [
        a('held', 'hold', 0),
        a('queued', 'limit', 0),
        { expire: 1999, want: [] },
        { expire: 2000, want: [['queued', 'timeout']] },
        { expire: 29_999, want: [] },
        { expire: 30_000, want: [['held', 'hold-timeout']] },
        { depth: 0, held: 0 },
      ],
    ],
    [
      'held requests wait while the service holds, then leave in arrival order; one waiting at the limits before them goes first',
      [
        a('q1', 'limit', 0),
        a('h1', 'hold', 10),
        a('h2', 'hold', 20),
        { depth: 3, held: 2 },
        { handOff: 'holding', want: ['q1'] },
        { handOff: 'holding', want: [] },
        { handOff: 'awake', want: ['h1', 'h2'] },
        { depth: 0, held: 0 },
      ],
    ],
    [
      'one order across both causes: a request queued at the limits behind held ones waits its turn',
      [
        a('h1', 'hold', 0),
        a('q1', 'limit', 5),
        a('h2', 'hold', 10),
        a('q2', 'limit', 15),
        { handOff: 'holding', want: [] },
        { handOff: 'awake', want: ['h1', 'q1', 'h2', 'q2'] },
      ],
    ],
    [
      'one depth: the held request counts the limit-queued ones against HOLD_MAX_REQUESTS, and the other way round',
      [
        a('q1', 'limit', 0),
        a('q2', 'limit', 0),
        a('q3', 'limit', 0),
        a('h1', 'hold', 0),
        a('q4', 'limit', 0, 'full'),
        a('h2', 'hold', 0),
        a('h3', 'hold', 0),
        a('h4', 'hold', 0, 'full'),
        { depth: 6, held: 3 },
      ],
    ],
    [
      'predicted wait: sheds a limit-queued request at once, never a held one (its service wakes: nothing drains)',
      [
        ...Array.from({ length: 3 }, (_, i) => a(`q${i}`, 'limit', 0)),
        // completions every 1000 ms while requests wait: 3 waiting → position 4 waits ~4000 ms
        ...Array.from({ length: 6 }, (_, i) => ({ completed: 1000 * (i + 1) })),
        a('late', 'limit', 6000, 'predicted-wait'),
        a('held', 'hold', 6000),
        { depth: 4, held: 1 },
      ],
    ],
    [
      "behind held requests (the wake's backlog) no predicted-wait shed; once they are gone, the rate applies again",
      [
        // 1 s between completions while two wait: the 3rd in line would wait ~3 s
        ...Array.from({ length: 2 }, (_, i) => a(`q${i}`, 'limit', 0)),
        ...Array.from({ length: 6 }, (_, i) => ({ completed: 1000 * (i + 1) })),
        a('h1', 'hold', 6000),
        a('behind-held', 'limit', 6000),
        { handOff: 'awake', want: ['q0', 'q1', 'h1', 'behind-held'] },
        ...Array.from({ length: 2 }, (_, i) => a(`r${i}`, 'limit', 7000)),
        a('late', 'limit', 7000, 'predicted-wait'),
      ],
    ],
    [
      'the wake is not a drain interval: once awake, requests behind the held ones are judged on the real drain rate',
      [
        a('h1', 'hold', 0),
        a('h2', 'hold', 0),
        a('h3', 'hold', 0),
        // a slow drain learned before the sleep (1 s between completions)
        a('q0', 'limit', 0),
        ...Array.from({ length: 6 }, (_, i) => ({ completed: 1000 * i })),
        // the last answer of the replica the sleep stopped, then a 3 s wake
        { stalled: 3000 },
        { handOff: 'awake', want: ['h1', 'h2', 'h3', 'q0'] },
        ...Array.from({ length: 3 }, (_, i) => a(`r${i}`, 'limit', 8000)),
        ...Array.from({ length: 6 }, (_, i) => ({ completed: 8000 + 50 * i })),
        // 4th in line at 50 ms between completions (the woken replica's own): ~200 ms, admitted;
        // the 3 s wake, or the 1 s learned before the sleep, would shed it
        a('after-wake', 'limit', 8250),
      ],
    ],
  ];
  it.each(table)('%s', (_name, steps) => {
    const q = new ServiceQueue<string>();
    for (const s of steps) {
      if ('admit' in s) {
        const r = q.admit(s.admit, s.at, { ...(s.cause === 'hold' ? HOLD : QUEUE), cause: s.cause });
        expect(r.ok ? true : r.reason, s.admit).toBe(s.want);
      } else if ('expire' in s) {
        expect(q.expire(s.expire).map((e) => [e.item, expiryReason(e.cause)])).toEqual(s.want);
      } else if ('handOff' in s) {
        const out: string[] = [];
        const n = s.count ?? Number.POSITIVE_INFINITY;
        for (
          let e = q.next(s.handOff === 'holding');
          e !== undefined && out.length < n;
          e = q.next(s.handOff === 'holding')
        ) {
          expect(q.shift()).toBe(e);
          out.push(e.item);
        }
        expect(out).toEqual(s.want);
      } else if ('completed' in s) {
        q.completed(s.completed);
      } else if ('stalled' in s) {
        q.stalled(s.stalled);
      } else {
        expect([q.size, q.count('hold'), q.count('limit')]).toEqual([s.depth, s.held, s.depth - s.held]);
      }
    }
  });
});

// QUEUE_TIMEOUT_MS as a response budget: a request waiting at the limits is served only if its
// wait plus the time its backend is expected to take is within the deadline.
describe('the response budget', () => {
  // [what, waited ms, backend expected ms, deadline ms, shed now]
  it.each([
    ['unknown backend time (no answer yet): the plain deadline', 1999, 0, 2000, false],
    ['unknown backend time, at the deadline', 2000, 0, 2000, true],
    ['a 20 ms backend after 1.9 s: answered at 1.92 s', 1900, 20, 2000, false],
    ['an 80 ms backend after 1.95 s: it would answer at 2.03 s', 1950, 80, 2000, true],
    ['exactly at the budget: the answer would be due at the deadline', 1920, 80, 2000, true],
    [
      'a backend slower than the deadline: half of it is set aside, the request may wait 1 s',
      999,
      5000,
      2000,
      false,
    ],
    ['a backend slower than the deadline, after 1 s', 1000, 5000, 2000, true],
    ['just arrived at a 1.2 s backend: within', 0, 1200, 2000, false],
  ] as Array<[string, number, number, number, boolean]>)('%s', (_what, waited, expected, timeout, shed) => {
    expect(pastResponseBudget(waited, expected, timeout)).toBe(shed);
  });

  it.each([
    // [backend expected ms, deadline, set aside]
    [0, 2000, 0],
    [-5, 2000, 0],
    [80, 2000, 80],
    [1000, 2000, 1000],
    [1500, 2000, 1000],
  ])('a backend expected to take %d ms against %d ms: %d ms set aside', (expected, timeout, aside) => {
    expect(serviceAllowanceMs(expected, timeout)).toBe(aside);
  });

  it.each([
    // [service time, requests in flight there, expected ms]: the one in service counted whole
    [20, 0, 20],
    [20, 1, 40],
    [80, 2, 240],
  ])('service time %d ms with %d in flight: expected %d ms', (svc, ahead, ms) => {
    expect(expectedLatencyMs(svc, ahead)).toBe(ms);
  });

  it('expires a request at the limits once not even the fastest backend could answer it in time; a held one keeps its deadline', () => {
    const q = new ServiceQueue<string>();
    q.admit('queued', 0, { timeoutMs: 2000, max: 10, cause: 'limit' });
    q.admit('held', 0, { timeoutMs: 2000, max: 10, cause: 'hold' });
    // the fastest backend takes 300 ms: the queued one is due by 1700
    expect(q.nextDeadline(300)).toBe(1700);
    expect(q.expire(1699, 300)).toEqual([]);
    expect(q.expire(1700, 300).map((e) => [e.item, expiryReason(e.cause)])).toEqual([['queued', 'timeout']]);
    // the held request: HOLD_TIMEOUT_MS alone, whatever a backend takes
    expect(q.nextDeadline(300)).toBe(2000);
    expect(q.expire(1999, 300)).toEqual([]);
    expect(q.expire(2000, 300).map((e) => e.item)).toEqual(['held']);
  });

  it('at admission: the predicted wait plus the fastest backend time against the deadline', () => {
    const q = new ServiceQueue<number>();
    const big = { timeoutMs: 1000, max: 100, cause: 'limit' as const };
    // 50 ms between completions while requests wait
    for (let i = 0; i < 10; i++) q.admit(i, 0, big);
    for (let i = 1; i <= MIN_DRAIN_SAMPLES + 1; i++) {
      q.completed(50 * i);
      q.shift();
      q.admit(100 + i, 50 * i, big);
    }
    for (let i = 0; i < 7; i++) q.admit(200 + i, 400, big);
    // 17 waiting: position 18 → 900 ms predicted; with a 50 ms backend 950 (in), with 150 ms 1050 (out)
    expect(q.predictedWaitMs(q.size + 1)).toBeCloseTo(900);
    const slow = q.admit(1, 400, { ...big, serviceMs: 150 });
    expect(!slow.ok && slow.reason).toBe('predicted-wait');
    expect(q.admit(2, 400, { ...big, serviceMs: 50 }).ok).toBe(true);
    // a held request: never on a prediction, whatever a backend takes
    expect(q.admit(3, 400, { ...big, cause: 'hold', serviceMs: 900 }).ok).toBe(true);
  });
});
