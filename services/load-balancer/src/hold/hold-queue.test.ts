import { describe, expect, it } from 'vitest';
import { HoldQueue, retryAfterSeconds, wantsWaitingPage } from './hold-queue.js';

describe('HoldQueue', () => {
  it('holds up to the bound, then says full', () => {
    const q = new HoldQueue<string>(2, 1_000);
    expect(q.admit('a', 0).ok).toBe(true);
    expect(q.admit('b', 0).ok).toBe(true);
    expect(q.admit('c', 0)).toEqual({ ok: false, reason: 'full' });
    expect(q.size).toBe(2);
  });

  it('releases in arrival order', () => {
    const q = new HoldQueue<string>(10, 1_000);
    for (const [i, x] of ['a', 'b', 'c'].entries()) q.admit(x, i);
    expect(q.drain().map((h) => h.item)).toEqual(['a', 'b', 'c']);
    expect(q.size).toBe(0);
    expect(q.nextDeadline()).toBeNull();
  });

  // [arrivals at, now, expired items, left]
  const expiry: [number[], number, number[], number[]][] = [
    [[0, 10, 20], 999, [], [0, 10, 20]],
    [[0, 10, 20], 1_000, [0], [10, 20]], // a deadline equal to now has passed
    [[0, 10, 20], 1_015, [0, 10], [20]],
    [[0, 10, 20], 5_000, [0, 10, 20], []],
    [[], 5_000, [], []],
  ];
  it.each(expiry)('arrivals %o, at %d: expires %o, keeps %o', (arrivals, now, expired, left) => {
    const q = new HoldQueue<number>(10, 1_000);
    for (const t of arrivals) q.admit(t, t);
    expect(q.expire(now).map((h) => h.item)).toEqual(expired);
    expect(q.drain().map((h) => h.item)).toEqual(left);
  });

  it('a client that left is removed, once', () => {
    const q = new HoldQueue<string>(10, 1_000);
    q.admit('a', 0);
    const b = q.admit('b', 1);
    q.admit('c', 2);
    if (!b.ok) throw new Error('not admitted');
    expect(q.remove(b.held)).toBe(true);
    expect(q.remove(b.held)).toBe(false);
    expect(q.drain().map((h) => h.item)).toEqual(['a', 'c']);
  });

  it('removing frees room for the next', () => {
    const q = new HoldQueue<string>(1, 1_000);
    const a = q.admit('a', 0);
    if (!a.ok) throw new Error('not admitted');
    q.remove(a.held);
    expect(q.admit('b', 0).ok).toBe(true);
  });

  it('nextDeadline is the oldest entry plus the timeout', () => {
    const q = new HoldQueue<string>(10, 1_000);
    q.admit('a', 5);
    q.admit('b', 7);
    expect(q.nextDeadline()).toBe(1_005);
  });
});

describe('retryAfterSeconds', () => {
  it.each([
    [0, 1],
    [500, 1],
    [1_000, 1],
    [1_001, 2],
    [30_000, 30],
  ])('%d ms -> %d s', (ms, s) => expect(retryAfterSeconds(ms)).toBe(s));
});

describe('wantsWaitingPage', () => {
  it.each([
    ['text/html,application/xhtml+xml', true, true],
    ['text/html', false, false],
    ['application/json', true, false],
    ['*/*', true, false],
    [undefined, true, false],
  ] as [string | undefined, boolean, boolean][])('Accept %s, page %s -> %s', (accept, on, want) =>
    expect(wantsWaitingPage(accept, on)).toBe(want),
  );
});
