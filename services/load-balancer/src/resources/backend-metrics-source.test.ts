import { describe, expect, it } from 'vitest';
import { type BackendCounters, backendCpuUtilization } from './backend-metrics-source.js';

const at = (s: number, cpu?: number, loop?: number): BackendCounters => ({
  at: s * 1000,
  cpuSeconds: cpu,
  loopActiveSeconds: loop,
});

describe('backendCpuUtilization: max(CPU used / CPU limit, event-loop busy rate)', () => {
  it.each([
    // [what, prev, cur, limit, expected]
    // Saturated request work on an uncontained 2-core host: 1 core of 2 by CPU, but the
    // event loop is busy all the time. Before: 0.5 (0.125 on 8 cores), never the 0.6 target.
    ['saturated, no quota, 2 cores', at(0, 10, 5), at(1, 11, 5.99), 2, 0.99],
    ['saturated, no quota, 8 cores', at(0, 10, 5), at(2, 12, 6.98), 8, 0.99],
    // Under a 0.5-core quota the throttled event loop and the CPU both read full.
    ['saturated under a 0.5 quota', at(0, 10, 5), at(1, 10.5, 6), 0.5, 1],
    // A burner thread using the whole quota, event loop idle: out of headroom.
    ['burner fills a 0.5 quota', at(0, 10, 5), at(1, 10.5, 5.01), 0.5, 1],
    // A burner thread on one core of an unlimited 2-core host: the event loop still has a core.
    ['burner on 1 of 2 free cores', at(0, 10, 5), at(1, 11, 5.01), 2, 0.5],
    ['idle', at(0, 10, 5), at(1, 10.01, 5.01), 0.5, 0.02],
    // A backend without the event-loop counter (another image) still reads CPU / limit.
    ['no event-loop counter', at(0, 10), at(1, 10.25), 0.5, 0.5],
    ['no CPU limit: event loop only', at(0, 10, 5), at(1, 10.25, 5.3), undefined, 0.3],
    // The event-loop rate is a fraction of wall time: timing jitter never reads above 1.
    ['event loop clamped to 1', at(0, undefined, 5), at(1, undefined, 6.2), undefined, 1],
    // A restarted backend's counters go back: 0 for that one interval, never negative.
    ['counter reset', at(0, 10, 5), at(1, 0.1, 0.1), 1, 0],
  ])('%s', (_what, prev, cur, limit, expected) => {
    expect(backendCpuUtilization(prev, cur, limit)).toBeCloseTo(expected, 5);
  });

  it('is null for the first scrape, a clock that did not move, or nothing to rate', () => {
    expect(backendCpuUtilization(undefined, at(1, 1, 1), 1)).toBeNull();
    expect(backendCpuUtilization(at(1, 1, 1), at(1, 2, 2), 1)).toBeNull();
    expect(backendCpuUtilization(at(0, 1), at(1, 2), undefined)).toBeNull();
    expect(backendCpuUtilization(at(0), at(1), 1)).toBeNull();
  });
});
