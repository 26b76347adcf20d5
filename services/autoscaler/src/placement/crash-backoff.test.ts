import { describe, expect, it } from 'vitest';
import { nextCreateAt, recentDeaths } from './crash-backoff.js';

describe('crash-loop backoff', () => {
  it.each([
    [[], 100_000, 100_000, 'no deaths: create now'],
    [[90_000, 95_000], 100_000, 100_000, 'two deaths are free'],
    [[80_000, 90_000, 95_000], 100_000, 105_000, 'third death: 10 s after it'],
    [[70_000, 80_000, 90_000, 95_000], 100_000, 115_000, 'fourth: 20 s'],
    [Array.from({ length: 12 }, (_, i) => 1_000_000 + i), 1_000_020, 1_000_011 + 300_000, 'capped at 5 min'],
    [[1, 2, 3], 400_000, 400_000, 'deaths older than 5 min are forgotten'],
  ])('%j at %i → %i (%s)', (deaths, now, expected) => {
    expect(nextCreateAt(deaths, now)).toBe(expected);
  });
  it('keeps only deaths inside the window', () => {
    expect(recentDeaths([1, 200_000, 350_000], 400_000)).toEqual([200_000, 350_000]);
  });
});
