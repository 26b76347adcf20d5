import { describe, expect, it } from 'vitest';
import { against, classifyRejects, compare, goodput, spreadOf } from './overload.js';

const s = (...runs: number[]) => spreadOf(runs);

describe('spreadOf', () => {
  it('is the median with min and max of the runs, NaN runs left out', () => {
    expect(s(30, 10, 20, 50, 40)).toEqual({ median: 30, min: 10, max: 50, runs: [30, 10, 20, 50, 40] });
    expect(s(5, Number.NaN, 7)).toMatchObject({ median: 7, min: 5, max: 7 });
    expect(s(Number.NaN).median).toBeNaN();
  });
});

describe('compare: a target counts only where the runs say so beyond their spread', () => {
  it.each([
    // a ≤ 1.05 × b
    { a: [10, 11, 12], b: [20, 21, 22], factor: 1.05, want: 'met' }, // apart, a lower
    { a: [30, 31, 32], b: [20, 21, 22], factor: 1.05, want: 'missed' }, // apart, a higher
    { a: [20, 25, 30], b: [21, 22, 23], factor: 1.05, want: 'within noise' }, // overlap
    { a: [21, 22, 23], b: [20, 25, 30], factor: 1.05, want: 'within noise' },
    { a: [40, 42, 44], b: [38.5, 40, 41], factor: 1.05, want: 'within noise' }, // 42 vs 40.4–43.1
    { a: [41.5, 42, 42.5], b: [39.5, 40, 40.5], factor: 1.05, want: 'within noise' }, // 41.5–42.5 vs 41.5–42.5
    { a: [40, 40.5, 41], b: [39.5, 40, 40.5], factor: 1.05, want: 'met' }, // ≤ 41.475 all through
    { a: [44, 45, 46], b: [39.5, 40, 40.5], factor: 1.05, want: 'missed' }, // > 42.525 all through
    // one outlier widens a spread, but ranges that do not meet still decide
    { a: [0.36, 0.69, 0.73], b: [0.95, 0.99, 1.01], factor: 1, want: 'met' },
    { a: [5], b: [6], factor: 1, want: 'met' }, // one run: no spread, the figures decide
  ])('$a vs $b → $want', ({ a, b, factor, want }) => {
    expect(compare(s(...a), s(...b), { factor })).toBe(want);
  });

  it('atLeast: beat a goodput', () => {
    expect(compare(s(1.0, 1.01, 1.02), s(0.8, 0.81, 0.82), { direction: 'atLeast' })).toBe('met');
    expect(compare(s(0.36, 0.69, 0.73), s(0.95, 0.99, 1.01), { direction: 'atLeast' })).toBe('missed');
    expect(compare(s(0.9, 1.0, 1.1), s(0.95, 0.96, 0.97), { direction: 'atLeast' })).toBe('within noise');
  });

  it('n/a without a figure', () => {
    expect(compare(s(Number.NaN), s(1))).toBe('n/a');
  });
});

describe('against a fixed limit: decided where every run is on one side', () => {
  it.each([
    { runs: [0.97, 0.98, 0.99], limit: 0.95, dir: 'atLeast', want: 'met' },
    { runs: [0.9, 0.96, 0.99], limit: 0.95, dir: 'atLeast', want: 'within noise' },
    { runs: [0.36, 0.69, 0.73], limit: 0.95, dir: 'atLeast', want: 'missed' },
    { runs: [1800, 1900, 2050], limit: 2000, dir: 'atMost', want: 'within noise' },
    { runs: [2100, 2150, 2200], limit: 2000, dir: 'atMost', want: 'missed' },
    { runs: [1.2, 1.5, 2.1], limit: 5, dir: 'atMost', want: 'met' },
  ] as const)('$runs vs $limit ($dir) → $want', ({ runs, limit, dir, want }) => {
    expect(against(s(...runs), limit, dir)).toBe(want);
  });
});

describe('goodput', () => {
  it('counts 2xx answered within the window, per second, over the capacity', () => {
    // 10 s window, capacity 100 req/s: 950 answers in the window → 0.95
    const inWindow = Array.from({ length: 950 }, (_, i) => (i * 10_000) / 950);
    expect(goodput(inWindow, 10_000, 100)).toBeCloseTo(0.95, 10);
  });
  it('leaves out answers that drained the queue after the window', () => {
    const inWindow = Array.from({ length: 600 }, (_, i) => i * 10);
    const drained = Array.from({ length: 200 }, (_, i) => 6000 + i * 10);
    expect(goodput([...inWindow, ...drained], 6000, 100)).toBeCloseTo(601 / 6 / 100, 10);
  });
  it('leaves out answers before the window (a fill phase), and before fromMs', () => {
    expect(goodput([-500, -1, 0, 10, 20], 1000, 10)).toBeCloseTo(0.3, 10);
    // 2 s window from 1 s on: 30 answers in [1000, 2000] over 1 s at capacity 40 → 0.75
    const late = Array.from({ length: 30 }, (_, i) => 1000 + i * 30);
    expect(goodput([5, 10, 500, ...late], 2000, 40, 1000)).toBeCloseTo(0.75, 10);
  });
});

describe('classifyRejects', () => {
  it("sorts by Headroom's cause; without one (HAProxy, NGINX) by time against half the deadline", () => {
    const r = classifyRejects(
      [
        { status: 503, cause: 'predicted-wait', ms: 1.5 },
        { status: 503, cause: 'full', ms: 2.5 },
        { status: 503, cause: 'timeout', ms: 2012 },
        { status: 503, cause: undefined, ms: 2003 }, // HAProxy's timeout queue
        { status: 502, cause: undefined, ms: 0.8 }, // NGINX at max_conns
        { status: 502, cause: undefined, ms: 999 }, // under half the deadline: at once
      ],
      2000,
    );
    expect(r.count).toBe(6);
    expect(r.atOnce).toEqual([1.5, 2.5, 0.8, 999]);
    expect(r.lateAfterDeadline).toEqual([12, 3]);
    expect(r.byKind).toEqual({
      '503 predicted-wait': 1,
      '503 full': 1,
      '503 timeout': 1,
      '503': 1,
      '502': 2,
    });
  });
});
