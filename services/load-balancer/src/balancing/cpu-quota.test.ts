import { describe, expect, it } from 'vitest';
import { spec } from './balancer-sim.test-helper.js';
import { normalizeCapacities } from './capacity-learner.js';
import {
  CFS_PERIOD_MS,
  cpuPerRequestMs,
  QUOTA_BURST,
  quotaCapMs,
  quotaTokens,
  quotaWaitMs,
  spendQuota,
} from './cpu-quota.js';
import { createSlot, type Slot } from './slot.js';

/** A slot with a CPU limit and a learned capacity (completions/s at 100 % of the limit). */
function slot(cpuLimit: number | undefined, capacity: number | null): Slot {
  const s = createSlot(spec('b1', { cpuLimit }), 1, 't', 0);
  s.capacity = capacity;
  return s;
}

describe('CPU per request', () => {
  it.each([
    // [cpu limit, capacity, CPU-ms per request]
    [0.5, 40, 12.5], // 40 req/s at half a core: 12.5 ms each
    [0.125, 10, 12.5],
    [2, 1000, 2],
    [undefined, 40, null], // no quota: the bucket is off
    [0.5, null, null], // nothing learned yet
    [0, 40, null],
  ])('limit %s, capacity %s → %s', (limit, capacity, expected) => {
    expect(cpuPerRequestMs(slot(limit, capacity))).toBe(expected);
  });
});

describe('the quota bucket', () => {
  const budget = 0.5 * CFS_PERIOD_MS * QUOTA_BURST; // 25 ms of CPU at once for half a core

  it('an idle backend has the burst; each dispatch spends its CPU per request; the limit refills it', () => {
    const s = slot(0.5, 40); // 12.5 ms per request
    expect(quotaTokens(s, 0)).toBe(budget);
    expect(quotaWaitMs(s, 0)).toBe(0);
    spendQuota(s, 0);
    spendQuota(s, 0);
    expect(quotaTokens(s, 0)).toBe(0);
    // the third waits for 12.5 ms of CPU at 0.5 ms per ms
    expect(quotaWaitMs(s, 0)).toBe(25);
    // 10 ms later 5 ms are back
    expect(quotaTokens(s, 10)).toBe(5);
    expect(quotaWaitMs(s, 10)).toBe(15);
    // never above the burst, however long idle
    expect(quotaTokens(s, 10_000)).toBe(budget);
  });

  it('spent past the budget, the bucket stays empty: no debt (in-flight prices the queue)', () => {
    const s = slot(0.5, 40);
    for (let i = 0; i < 4; i++) spendQuota(s, 0);
    expect(quotaTokens(s, 0)).toBe(0);
    // at most a whole request's CPU at the limit's rate
    expect(quotaWaitMs(s, 0)).toBe(25);
  });

  it('without a CPU limit or a learned capacity nothing is spent and nothing waits', () => {
    for (const s of [slot(undefined, 40), slot(0.5, null)]) {
      spendQuota(s, 0);
      expect(s.quotaAt).toBeNull();
      expect(quotaWaitMs(s, 0)).toBe(0);
    }
  });
});

describe('a request that fits in a period but not in the burst', () => {
  it.each([
    // [cpu limit, CPU-ms per request, the most counted on at once]
    [0.125, 12, 12], // 12.5 ms a period: one 12 ms request runs unthrottled after a rest
    [0.125, 6, 6.25], // within the burst: the burst
    [0.125, 13, 6.25], // more than a period's budget: throttled whatever, the burst as before
    [0.5, 12, 25], // the 0.5-core backends keep half a period's budget
  ])('limit %s, %s ms each → %s ms', (limit, cpuMs, cap) => {
    const s = slot(limit, (1000 * limit) / cpuMs);
    expect(quotaCapMs(s, cpuPerRequestMs(s))).toBeCloseTo(cap, 9);
  });

  it('a rested 0.125-core backend takes one 12 ms request without a wait, then waits for its budget', () => {
    const s = slot(0.125, 1000 * (0.125 / 12));
    expect(quotaWaitMs(s, 0)).toBe(0);
    spendQuota(s, 0);
    // 12 ms of CPU at 0.125 ms per ms
    expect(quotaWaitMs(s, 0)).toBeCloseTo(96, 9);
    expect(quotaWaitMs(s, 96)).toBeCloseTo(0, 9);
  });
});

describe('a backend that has learned nothing yet', () => {
  it("is counted on for its pool's CPU per request (one service, one image), while its own is unknown", () => {
    const fast = [slot(0.5, 1000 * (0.5 / 12)), slot(0.5, 1000 * (0.5 / 14))];
    const rested = slot(0.125, null);
    const unlimited = slot(undefined, null);
    for (const s of [...fast, rested, unlimited]) s.capacityAt = 0;
    expect(cpuPerRequestMs(rested)).toBeNull();
    normalizeCapacities([...fast, rested, unlimited], 0);
    expect(cpuPerRequestMs(rested)).toBeCloseTo(13, 9);
    // its own, once learned, wins
    expect(cpuPerRequestMs(fast[1]!)).toBeCloseTo(14, 9);
    // no limit: still no quota
    expect(cpuPerRequestMs(unlimited)).toBeNull();
  });
});
