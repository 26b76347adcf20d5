// Invariants of the policy for any input (fast-check): bounds, no scaling on missing data,
// no flapping inside the tolerance band, scale-down only after the window.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide } from './decide.js';
import type { MetricReading, PolicySettings } from './policy-types.js';
import { seedHistory } from './stabilization.js';

const settingsArb = fc
  .record({
    min: fc.integer({ min: 0, max: 5 }),
    span: fc.integer({ min: 0, max: 10 }),
    tolerance: fc.double({ min: 0, max: 0.5, noNaN: true }),
    scaleUpWindowMs: fc.integer({ min: 0, max: 30_000 }),
    scaleDownWindowMs: fc.integer({ min: 0, max: 120_000 }),
    scaleUpMaxFactor: fc.double({ min: 1, max: 4, noNaN: true }),
    scaleDownMaxStep: fc.integer({ min: 1, max: 5 }),
  })
  .map(({ span, ...s }): PolicySettings => ({ ...s, max: Math.max(1, s.min + span) }));

const valueArb = fc.oneof(
  fc.double({ min: 0, max: 5, noNaN: true }),
  fc.constant(Number.NaN),
  fc.constant(Number.POSITIVE_INFINITY),
);
const readingArb: fc.Arbitrary<MetricReading> = fc.record({
  metric: fc.constantFrom('cpu', 'memory', 'rps'),
  target: fc.double({ min: 0.05, max: 2, noNaN: true }),
  values: fc.array(valueArb, { maxLength: 12 }),
  missing: fc.option(fc.constantFrom('unreachable', 'error', 'empty', 'nan', 'stale'), { nil: undefined }),
});
const historyArb = fc.array(
  fc.record({ at: fc.integer({ min: 0, max: 200_000 }), replicas: fc.integer({ min: 0, max: 20 }) }),
  { maxLength: 10 },
);

describe('decide: properties', () => {
  it('desired is always within [min, max]', () => {
    fc.assert(
      fc.property(
        settingsArb,
        fc.integer({ min: 0, max: 20 }),
        fc.array(readingArb, { maxLength: 3 }),
        historyArb,
        (settings, current, readings, history) => {
          const r = decide({ now: 200_000, current, ready: current, readings, settings, history });
          expect(r.desired).toBeGreaterThanOrEqual(settings.min);
          expect(r.desired).toBeLessThanOrEqual(settings.max);
        },
      ),
    );
  });

  it('never scales on missing data (only min/max move the count)', () => {
    const missingArb: fc.Arbitrary<MetricReading> = fc.record({
      metric: fc.constantFrom('cpu', 'memory', 'rps'),
      target: fc.double({ min: 0.05, max: 2, noNaN: true }),
      values: fc.oneof(
        fc.constant([]),
        fc.array(fc.constantFrom(Number.NaN, Number.NEGATIVE_INFINITY), { minLength: 1 }),
      ),
      missing: fc.option(fc.constantFrom('unreachable', 'error', 'stale'), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        settingsArb,
        fc.integer({ min: 0, max: 20 }),
        fc.array(missingArb, { minLength: 1, maxLength: 3 }),
        historyArb,
        (settings, current, readings, history) => {
          const r = decide({ now: 200_000, current, ready: current, readings, settings, history });
          expect(r.desired).toBe(Math.min(settings.max, Math.max(settings.min, current)));
          if (current >= settings.min && current <= settings.max) {
            expect(r.action).toBe('none');
            expect(['HoldMissingData']).toContain(r.reason);
          }
        },
      ),
    );
  });

  it('a steady load oscillating inside the tolerance band never changes the count', () => {
    fc.assert(
      fc.property(
        settingsArb.filter((s) => s.tolerance >= 0.02 && s.min >= 1),
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 5, maxLength: 40 }),
        (settings, start, wobble) => {
          let current = Math.min(settings.max, Math.max(settings.min, start));
          let history = seedHistory(current, 0);
          const target = 0.6;
          let now = 0;
          for (const w of wobble) {
            now += 5_000;
            const v = target * (1 + w * settings.tolerance * 0.99);
            const r = decide({
              now,
              current,
              ready: current,
              readings: [{ metric: 'cpu', target, values: Array(current).fill(v) }],
              settings,
              history,
            });
            expect(r.desired).toBe(current);
            history = r.history;
            current = r.desired;
          }
        },
      ),
    );
  });

  it('scales down only after a full window since start and since any higher recommendation', () => {
    fc.assert(
      fc.property(
        settingsArb,
        fc.integer({ min: 0, max: 10 }),
        fc.array(fc.tuple(fc.double({ min: 0, max: 3, noNaN: true }), fc.boolean()), {
          minLength: 1,
          maxLength: 40,
        }),
        (settings, start, steps) => {
          let current = Math.min(settings.max, Math.max(settings.min, start));
          const t0 = 1_000;
          let history = seedHistory(current, t0);
          const recs: { at: number; replicas: number }[] = [{ at: t0, replicas: current }];
          let now = t0;
          for (const [v, present] of steps) {
            now += 5_000;
            const readings: MetricReading[] = [
              {
                metric: 'cpu',
                target: 0.6,
                values: present ? Array(current).fill(v) : [],
                missing: present ? undefined : 'unreachable',
              },
            ];
            const r = decide({ now, current, ready: current, readings, settings, history });
            if (r.desired < current) {
              expect(now - t0).toBeGreaterThanOrEqual(settings.scaleDownWindowMs);
              for (const rec of recs) {
                if (rec.at > now - settings.scaleDownWindowMs)
                  expect(rec.replicas).toBeLessThanOrEqual(r.desired);
              }
            }
            history = r.history;
            const last = r.history[r.history.length - 1];
            if (last) recs.push(last);
            current = r.desired;
          }
        },
      ),
    );
  });
});
