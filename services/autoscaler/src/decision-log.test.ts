import type { Decision } from '@headroom/shared';
import { describe, expect, it } from 'vitest';
import { DecisionLog } from './decision-log.js';

const d = (over: Partial<Decision>): Decision => ({
  service: 'svc',
  at: '2026-01-01T00:00:00.000Z',
  current: 2,
  ready: 2,
  desired: 2,
  action: 'none',
  reason: 'WithinTolerance',
  message: 'm',
  metrics: [],
  dryRun: false,
  ...over,
});

describe('DecisionLog', () => {
  it('keeps changes and drops repeats of the same hold', () => {
    const log = new DecisionLog();
    expect(log.record(d({}))).toBe(true);
    expect(log.record(d({ at: 'later' }))).toBe(false);
    expect(log.record(d({ reason: 'HoldMissingData' }))).toBe(true);
    expect(log.record(d({ action: 'scale-up', desired: 3, reason: 'ScaleUp' }))).toBe(true);
    // The same scale-up again (a dry run, or a failed action retried) is not a new entry…
    expect(log.record(d({ action: 'scale-up', desired: 3, reason: 'ScaleUp' }))).toBe(false);
    // …but the next one, from the new count, is.
    expect(log.record(d({ action: 'scale-up', current: 3, ready: 3, desired: 4, reason: 'ScaleUp' }))).toBe(
      true,
    );
    expect(log.recent().map((x) => x.reason)).toEqual([
      'ScaleUp',
      'ScaleUp',
      'HoldMissingData',
      'WithinTolerance',
    ]);
    expect(log.latest()?.reason).toBe('ScaleUp');
  });
  it('is bounded, newest first', () => {
    const log = new DecisionLog(3);
    for (let i = 1; i <= 5; i++) log.record(d({ current: i, desired: i }));
    expect(log.size).toBe(3);
    expect(log.recent().map((x) => x.current)).toEqual([5, 4, 3]);
    expect(log.recent(1).map((x) => x.current)).toEqual([5]);
  });
});
