import { describe, expect, it } from 'vitest';
import { BusyClock } from './busy-clock.js';

type Step = ['start' | 'end', string, number];

describe('BusyClock: requests in flight integrated over time (rate = average concurrency)', () => {
  it.each<[string, Step[], string, number, number | undefined]>([
    // [what, events, backend, read at (ms), request-seconds]
    [
      'one request of 2 s',
      [
        ['start', 'a', 0],
        ['end', 'a', 2000],
      ],
      'a',
      5000,
      2,
    ],
    [
      'two overlapping requests: 1 s alone, 1 s together, 1 s alone',
      [
        ['start', 'a', 0],
        ['start', 'a', 1000],
        ['end', 'a', 2000],
        ['end', 'a', 3000],
      ],
      'a',
      3000,
      4,
    ],
    ['an open request counts up to the read', [['start', 'a', 0]], 'a', 1500, 1.5],
    [
      'backends are apart',
      [
        ['start', 'a', 0],
        ['start', 'b', 0],
        ['end', 'b', 500],
      ],
      'b',
      2000,
      0.5,
    ],
    ['never a request: no series', [['start', 'a', 0]], 'b', 1000, undefined],
    // a wall clock stepping back adds nothing and never a negative area
    [
      'clock stepping back',
      [
        ['start', 'a', 1000],
        ['end', 'a', 500],
      ],
      'a',
      2000,
      0,
    ],
    // an end without its start (after a forget) does not go below zero in flight
    [
      'unmatched end',
      [
        ['end', 'a', 0],
        ['start', 'a', 1000],
        ['end', 'a', 2000],
      ],
      'a',
      3000,
      1,
    ],
  ])('%s', (_what, steps, id, at, expected) => {
    const c = new BusyClock();
    for (const [kind, backend, now] of steps)
      if (kind === 'start') c.started(backend, now);
      else c.ended(backend, now);
    const got = c.totalSeconds(id, at);
    if (expected === undefined) expect(got).toBeUndefined();
    else expect(got).toBeCloseTo(expected, 6);
  });

  it('4 back-to-back requests of 250 ms over 1 s: 1 in flight on average', () => {
    const c = new BusyClock();
    for (let i = 0; i < 4; i++) {
      c.started('a', i * 250);
      c.ended('a', i * 250 + 250);
    }
    // one request always in flight over the second: 1 request-second per second
    expect(c.totalSeconds('a', 1000)).toBeCloseTo(1, 6);
  });
});
