import { describe, expect, it } from 'vitest';
import { seedHistory, stabilize } from './stabilization.js';

const h = (...pairs: [number, number][]) => pairs.map(([at, replicas]) => ({ at, replicas }));

describe('stabilize', () => {
  it('scale-up with no window acts at once', () => {
    const r = stabilize(h([0, 2], [5_000, 2]), 5, 2, 10_000, 0, 60_000);
    expect(r.replicas).toBe(5);
    expect(r.heldBy).toBeNull();
  });
  it('scale-up window takes the lowest recommendation in it', () => {
    const r = stabilize(h([5_000, 3], [8_000, 6]), 5, 2, 10_000, 10_000, 60_000);
    expect(r.replicas).toBe(3);
    expect(r.heldBy).toBe('up-window');
  });
  it('scale-down window takes the highest recommendation in it', () => {
    const r = stabilize(h([0, 5], [30_000, 4]), 2, 5, 50_000, 0, 60_000);
    expect(r.replicas).toBe(5);
    expect(r.heldBy).toBe('down-window');
  });
  it('scale-down happens once the high recommendations left the window', () => {
    const r = stabilize(h([0, 5], [30_000, 4]), 2, 5, 90_001, 0, 60_000);
    expect(r.replicas).toBe(2);
    expect(r.heldBy).toBeNull();
  });
  it('an entry exactly one window old has left it', () => {
    expect(stabilize(h([0, 5]), 2, 5, 60_000, 0, 60_000).replicas).toBe(2);
    expect(stabilize(h([1, 5]), 2, 5, 60_000, 0, 60_000).replicas).toBe(5);
  });
  it('partial scale-down: to the highest recommendation in the window', () => {
    const r = stabilize(h([20_000, 4], [30_000, 3]), 2, 5, 50_000, 0, 60_000);
    expect(r.replicas).toBe(4);
  });
  it('prunes what no window can see and appends the new recommendation', () => {
    const r = stabilize(h([0, 9], [50_000, 4]), 3, 4, 100_000, 0, 60_000);
    expect(r.history).toEqual(h([50_000, 4], [100_000, 3]));
  });
  it('ignores entries from the future (clock stepped back)', () => {
    const r = stabilize(h([200_000, 9]), 2, 4, 100_000, 0, 60_000);
    expect(r.replicas).toBe(2);
  });
  it('a seeded history blocks scale-down for one window after start', () => {
    const seed = seedHistory(4, 1_000);
    expect(stabilize(seed, 1, 4, 30_000, 0, 60_000).replicas).toBe(4);
    expect(stabilize(seed, 1, 4, 61_000, 0, 60_000).replicas).toBe(1);
  });
});
