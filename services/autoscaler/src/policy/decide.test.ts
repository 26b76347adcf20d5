import { describe, expect, it } from 'vitest';
import { type DecideInput, decide } from './decide.js';
import type { MetricReading, PolicySettings, Recommendation } from './policy-types.js';
import { REASON_CODES, REASONS } from './reasons.js';
import { seedHistory } from './stabilization.js';

const settings: PolicySettings = {
  min: 1,
  max: 10,
  tolerance: 0.1,
  scaleUpWindowMs: 0,
  scaleDownWindowMs: 60_000,
  scaleUpMaxFactor: 2,
  scaleDownMaxStep: 1,
};

const cpu = (v: number, n: number): MetricReading => ({
  metric: 'cpu',
  target: 0.6,
  values: Array(n).fill(v),
});
const mem = (v: number, n: number): MetricReading => ({
  metric: 'memory',
  target: 0.8,
  values: Array(n).fill(v),
});
const missing = (
  metric: MetricReading['metric'],
  why: MetricReading['missing'] = 'unreachable',
): MetricReading => ({
  metric,
  target: 0.6,
  values: [],
  missing: why,
});

function run(partial: Partial<DecideInput> & { readings: MetricReading[]; current: number }) {
  const input: DecideInput = {
    now: 100_000,
    ready: partial.current,
    settings,
    history: [] as Recommendation[],
    ...partial,
  };
  return decide(input);
}

describe('decide', () => {
  it.each([
    // name, current, readings, settings overrides, expected desired, reason
    ['scale up on high cpu', 2, [cpu(0.9, 2)], {}, 3, 'ScaleUp'],
    ['within tolerance', 3, [cpu(0.63, 3)], {}, 3, 'WithinTolerance'],
    ['scale-up step limited to ×2', 2, [cpu(3, 2)], {}, 4, 'ScaleUpLimit'],
    ['at least +1 even with factor 1', 1, [cpu(1.2, 1)], { scaleUpMaxFactor: 1 }, 2, 'ScaleUp'],
    ['capped at max', 8, [cpu(1.2, 8)], {}, 10, 'DesiredAboveMax'],
    ['at max and still hot', 10, [cpu(1.2, 10)], {}, 10, 'DesiredAboveMax'],
    ['raised to min without data', 0, [missing('cpu')], { min: 2 }, 2, 'TooFewReplicas'],
    ['raised to min with data', 1, [cpu(0.1, 1)], { min: 3 }, 3, 'TooFewReplicas'],
    ['lowered to max', 12, [cpu(0.6, 12)], {}, 10, 'TooManyReplicas'],
    ['held at min when idle', 1, [cpu(0, 1)], {}, 1, 'DesiredBelowMin'],
    ['one replica at low use: ceil keeps it', 1, [cpu(0.1, 1)], { min: 0 }, 1, 'NoChangeNeeded'],
    ['max over metrics: memory wins', 2, [cpu(0.3, 2), mem(1.6, 2)], {}, 4, 'ScaleUp'],
    ['all missing: hold', 4, [missing('cpu'), missing('memory')], {}, 4, 'HoldMissingData'],
    ['stale: hold', 4, [missing('cpu', 'stale')], {}, 4, 'HoldMissingData'],
    ['partial data asking down: hold', 4, [cpu(0.1, 4), missing('memory')], {}, 4, 'HoldPartialData'],
    ['partial data asking up: scale up', 2, [cpu(0.9, 2), missing('memory')], {}, 3, 'ScaleUp'],
    ['no metrics configured: hold', 3, [], {}, 3, 'NoMetricsConfigured'],
  ] as const)('%s', (_name, current, readings, over, desired, reason) => {
    const r = run({ current, readings: [...readings], settings: { ...settings, ...over } });
    expect(r.desired).toBe(desired);
    expect(r.reason).toBe(reason);
    expect(r.action).toBe(desired > current ? 'scale-up' : desired < current ? 'scale-down' : 'none');
    expect(r.message.startsWith(REASONS[reason])).toBe(true);
  });

  it('scale-down waits for the window, then steps down one at a time', () => {
    let history = seedHistory(4, 0);
    let current = 4;
    const log: [number, number, string][] = [];
    for (let now = 5_000; now <= 90_000; now += 5_000) {
      const r = decide({ now, current, ready: current, readings: [cpu(0.1, current)], settings, history });
      history = r.history;
      if (r.desired !== current) log.push([now, r.desired, r.reason]);
      current = r.desired;
    }
    // The seed (4 at t=0) leaves the window after 60 s; then one replica per tick.
    expect(log).toEqual([
      [60_000, 3, 'ScaleDownLimit'],
      [65_000, 2, 'ScaleDownLimit'],
      [70_000, 1, 'ScaleDown'],
    ]);
  });

  it('reports ScaleDownStabilized while the window holds a higher recommendation', () => {
    const r = run({ current: 4, readings: [cpu(0.1, 4)], history: [{ at: 80_000, replicas: 4 }] });
    expect(r).toMatchObject({ desired: 4, reason: 'ScaleDownStabilized', action: 'none' });
  });

  it('records a hold in the history so a scale-down after an outage still waits a window', () => {
    const held = run({ now: 10_000, current: 3, readings: [missing('cpu')], history: [] });
    expect(held.history).toEqual([{ at: 10_000, replicas: 3 }]);
    const after = run({ now: 20_000, current: 3, readings: [cpu(0, 3)], history: held.history });
    expect(after.desired).toBe(3);
  });

  it('the message names each metric and the counts', () => {
    const r = run({ current: 2, readings: [cpu(0.9, 2), missing('memory', 'nan')] });
    expect(r.message).toContain('cpu 0.9/0.6 → 3');
    expect(r.message).toContain('memory missing (nan)');
    expect(r.message).toContain('2 → 3');
    expect(r.metrics).toMatchObject([
      { metric: 'cpu', value: 0.9, target: 0.6, recommendation: 3, samples: 2 },
      { metric: 'memory', value: null, recommendation: null, samples: 0 },
    ]);
  });

  it('every reason code has a one-line message', () => {
    for (const code of REASON_CODES) {
      expect(REASONS[code]).toMatch(/^[^\n]{10,140}$/);
    }
  });
});
