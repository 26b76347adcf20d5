import { describe, expect, it } from 'vitest';
import type { MetricReading } from './policy-types.js';
import { recommendForMetric } from './replica-ratio.js';

const cpu = (values: number[], target = 0.6, missing?: MetricReading['missing']): MetricReading => ({
  metric: 'cpu',
  target,
  values,
  missing,
});

describe('recommendForMetric', () => {
  it.each([
    // [values, current, expected recommendation, why]
    [[0.9, 0.9], 2, 3, 'ceil(2 × 0.9/0.6) = 3'],
    [[0.6, 0.6, 0.6, 0.6, 0.6], 5, 5, 'exactly at target: no float noise adds one'],
    [[0.65, 0.65], 2, 2, 'ratio 1.083 is inside the 0.1 band'],
    [[0.54, 0.54], 2, 2, 'ratio 0.9 is on the band edge: no change'],
    [[0.3, 0.3, 0.3, 0.3], 4, 2, 'ceil(4 × 0.5) = 2'],
    [[0, 0, 0], 3, 0, 'idle: the policy clamps to min later'],
    [[1.8], 1, 3, 'over the limit: ceil(1 × 3)'],
    [[2.4, 2.4], 2, 8, 'the step limit, not this function, bounds big jumps'],
  ])('%j on %i replicas → %i (%s)', (values, current, expected) => {
    expect(recommendForMetric(cpu(values), current, 0.1).recommendation).toBe(expected);
  });

  it('reports the mean and the sample count', () => {
    const r = recommendForMetric(cpu([0.2, 0.4]), 2, 0.1);
    expect(r.value).toBeCloseTo(0.3);
    expect(r.samples).toBe(2);
  });

  it.each([
    [cpu([], 0.6), 'empty'],
    [cpu([Number.NaN]), 'nan'],
    [cpu([Number.POSITIVE_INFINITY, Number.NaN]), 'nan'],
    [cpu([0.9], 0.6, 'unreachable'), 'unreachable'],
    [cpu([0.9], 0.6, 'stale'), 'stale'],
  ])('no usable value → no recommendation (%#)', (reading, why) => {
    const r = recommendForMetric(reading, 3, 0.1);
    expect(r.recommendation).toBeNull();
    expect(r.value).toBeNull();
    expect(r.missing).toBe(why);
  });

  it('drops a single NaN replica and treats it as silent', () => {
    // 1 reporting replica at 1.2 of 2: scale-up direction fills the silent one with 0 → ratio 1.0 → hold.
    expect(recommendForMetric(cpu([1.2, Number.NaN]), 2, 0.1).recommendation).toBe(2);
  });

  describe('replicas without a sample (starting or unready) are never idle capacity', () => {
    it('scale-up: silent replicas count as 0 use, so we do not add again for load they will take', () => {
      // 2 ready at 0.9 plus 1 starting: ratio (1.8 + 0) / (0.6 × 3) = 1.0 → hold at 3.
      expect(recommendForMetric(cpu([0.9, 0.9]), 3, 0.1).recommendation).toBe(3);
      // Much more load: (1.5 + 1.5) / 1.8 = 1.667 → ceil(3 × 1.667) = 5.
      expect(recommendForMetric(cpu([1.5, 1.5]), 3, 0.1).recommendation).toBe(5);
    });
    it('scale-down: silent replicas count as at target, so they never pull the count down', () => {
      // 1 ready at 0.1 plus 3 starting: (0.1 + 3 × 0.6) / (0.6 × 4) = 0.79 → ceil(4 × 0.79) = 4.
      expect(recommendForMetric(cpu([0.1]), 4, 0.1).recommendation).toBe(4);
      // 3 ready idle plus 1 starting: (0 + 0.6) / 2.4 = 0.25 → 1.
      expect(recommendForMetric(cpu([0, 0, 0]), 4, 0.1).recommendation).toBe(1);
    });
    it('the fill reversing the direction holds the count', () => {
      // 1 ready at 0.7 (ratio 1.17, up) of 3: filled (0.7)/(1.8) = 0.39 → reversed → hold.
      expect(recommendForMetric(cpu([0.7]), 3, 0.1).recommendation).toBe(3);
    });
  });

  it('scales from zero replicas only on load', () => {
    expect(recommendForMetric(cpu([1.2]), 0, 0.1).recommendation).toBe(2);
    expect(recommendForMetric(cpu([0]), 0, 0.1).recommendation).toBe(0);
  });
});
