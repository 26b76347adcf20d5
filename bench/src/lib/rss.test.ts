import { describe, expect, it } from 'vitest';
import { slope } from './rss.js';

describe('slope', () => {
  it('is the least-squares slope, 0 for flat or too few points', () => {
    expect(slope([])).toBe(0);
    expect(slope([[1, 5]])).toBe(0);
    expect(
      slope([
        [0, 3],
        [10, 3],
        [20, 3],
      ]),
    ).toBe(0);
    expect(
      slope([
        [0, 1],
        [1, 3],
        [2, 5],
      ]),
    ).toBeCloseTo(2, 10);
    // noise around a rising line keeps the trend
    expect(
      slope([
        [0, 10],
        [1, 10.5],
        [2, 10.8],
        [3, 11.6],
        [4, 12],
      ]),
    ).toBeCloseTo(0.5, 1);
  });
});
