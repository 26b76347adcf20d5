import { describe, expect, it } from 'vitest';
import { CONGESTED_AFTER_MS, CONGESTED_BUDGET_MS, MIN_DRAIN_SAMPLES, ServiceQueue } from './service-queue.js';

const opts = { timeoutMs: 1000, max: 3, predict: true };

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
    for (const [t, timeoutMs] of admitted) q.admit(t, t, { timeoutMs, max: 10, predict: false });
    expect(q.expire(now).map((e) => e.item)).toEqual(expired);
    expect(q.drainAll().map((e) => e.item)).toEqual(left);
  });

  it('learns the drain rate only while requests wait, then sheds on the predicted wait at once', () => {
    const q = new ServiceQueue<number>();
    // completions 1 s apart with nothing waiting say nothing about how fast a queue drains
    for (let t = 0; t < 10_000; t += 1000) q.completed(t);
    expect(q.drainIntervalMs).toBeNull();
    // 10 wait; completions every 50 ms while they do
    const big = { timeoutMs: 1000, max: 100, predict: true };
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
    // the hold path (the service wakes; nothing drains yet) waits regardless
    expect(q.admit(99, 10_400, { ...big, predict: false }).ok).toBe(true);
    expect(q.retryAfterSeconds(5000)).toBe(2);
  });

  it.each([
    // [what, ms between completions, ms since the queue last was empty, the budget a newcomer gets]
    ['a burst: the whole deadline', 10, CONGESTED_AFTER_MS - 1, 2000],
    ['sustained overload: the controlled-delay budget', 10, CONGESTED_AFTER_MS, CONGESTED_BUDGET_MS],
    ['sustained, slow drain: never fewer than two in line', 80, 5000, 160],
    ['sustained, drain slower than the deadline allows: the deadline', 1500, 5000, 2000],
  ])('wait budget, %s', (_what, interval, busyFor, budget) => {
    const q = new ServiceQueue<number>();
    const big = { timeoutMs: 2000, max: 1000, predict: true };
    q.admit(0, 0, big); // the queue turns busy at 0
    for (let i = 0; i <= MIN_DRAIN_SAMPLES; i++) q.completed(interval * i);
    expect(q.waitBudgetMs(busyFor, 2000)).toBe(budget);
  });

  it('under sustained overload a newcomer predicted past the budget is shed at once', () => {
    const q = new ServiceQueue<number>();
    const big = { timeoutMs: 2000, max: 1000, predict: true };
    q.admit(0, 0, big);
    for (let i = 0; i <= MIN_DRAIN_SAMPLES; i++) q.completed(10 * i); // 10 ms between completions
    // within the first CONGESTED_AFTER_MS, 100 in line (1 s) are admitted
    for (let i = 1; i < 100; i++) expect(q.admit(i, 100, big).ok).toBe(true);
    while (q.size > 9) q.shift();
    // later, the 11th in line (110 ms) is past the budget; the 10th (100 ms) is not
    expect(q.admit(10, CONGESTED_AFTER_MS, big).ok).toBe(true);
    const shed = q.admit(11, CONGESTED_AFTER_MS, big);
    expect(!shed.ok && shed.reason).toBe('predicted-wait');
    // an empty queue starts over: a burst gets the whole deadline again
    q.drainAll();
    expect(q.waitBudgetMs(CONGESTED_AFTER_MS + 1, 2000)).toBe(2000);
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
      q.admit(i, i, { timeoutMs: 10, max: 10, predict: false });
      if (i % 2 === 1) {
        q.shift();
        q.shift();
      }
    }
    expect(q.size).toBe(0);
    expect((q as unknown as { entries: unknown[] }).entries.length).toBeLessThan(2100);
  });
});
