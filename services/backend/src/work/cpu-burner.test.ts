import { describe, expect, it } from 'vitest';
import { nextBurnerState } from './cpu-burner.js';

const off = { on: false, cores: 2, duty: 1, maxCores: 2 };

describe('nextBurnerState', () => {
  it('flips when no explicit state is given', () => {
    expect(nextBurnerState(off, {}).on).toBe(true);
    expect(nextBurnerState({ ...off, on: true }, {}).on).toBe(false);
  });
  it('sets explicit state, cores and duty', () => {
    expect(nextBurnerState(off, { on: true, cores: 1, duty: 0.5 })).toEqual({
      on: true,
      cores: 1,
      duty: 0.5,
      maxCores: 2,
    });
    expect(nextBurnerState({ ...off, on: true }, { on: true }).on).toBe(true);
  });
  it('caps cores at the maximum', () => {
    expect(nextBurnerState(off, { on: true, cores: 64 }).cores).toBe(2);
  });
});
