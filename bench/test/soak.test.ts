// A 40-second soak through the same runner as `pnpm soak`: backends are registered,
// drained and SIGKILLed under open-loop load, modes rotate, and no request may fail.
import { describe, expect, it } from 'vitest';
import { soak } from '../src/scenarios/soak.js';

describe('soak runner (short)', () => {
  it('backends come and go under load (drained and killed) without a failed request', async () => {
    const r = await soak(40, 60, 5);
    const { rss, ...summary } = r;
    const why = JSON.stringify(summary);
    expect(r.added, why).toBeGreaterThanOrEqual(4);
    expect(r.killed, why).toBeGreaterThanOrEqual(1);
    expect(r.removedGracefully, why).toBeGreaterThanOrEqual(1);
    expect(r.modeSwitches, why).toBeGreaterThanOrEqual(1);
    expect(r.sent, why).toBeGreaterThan(2000);
    expect(r.failures, why).toEqual({});
    expect(r.failed, why).toBe(0);
    expect(rss.length, why).toBeGreaterThanOrEqual(8);
  });
});
