import type { BackendEvent } from '@headroom/shared/contracts';
import { describe, expect, it } from 'vitest';
import { timelineRows, toneOf } from './timeline-rows';

const ev = (
  seq: number,
  to: BackendEvent['to'],
  code: string,
  extra: Partial<BackendEvent> = {},
): BackendEvent => ({
  seq,
  at: new Date(2026, 0, 2, 3, 4, 5).getTime() + seq * 1000,
  id: `id${seq}`,
  name: `b${seq}`,
  from: 'healthy',
  to,
  code,
  reason: `why ${seq}`,
  ...extra,
});

describe('toneOf', () => {
  it.each([
    ['ejected', 'consecutive-failures', 'bad'],
    ['unhealthy', 'health-check-failed', 'bad'],
    ['drained', 'drain-timeout', 'bad'],
    ['drained', 'drain-complete', 'neutral'],
    ['healthy', 'health-check-passed', 'good'],
    ['undrained', 'undrain-requested', 'good'],
    ['draining', 'drain-requested', 'neutral'],
    ['weight-changed', 'weight-set', 'neutral'],
    ['removed', 'left-discovery', 'neutral'],
  ] as const)('%s / %s → %s', (to, code, tone) => {
    expect(toneOf({ to, code })).toBe(tone);
  });
});

describe('timelineRows', () => {
  it('lists newest first, with time, change and reason', () => {
    const rows = timelineRows([
      ev(1, 'healthy', 'health-check-passed', { from: 'unhealthy' }),
      ev(2, 'ejected', 'consecutive-failures'),
    ]);
    expect(rows.map((r) => r.key)).toEqual([2, 1]);
    expect(rows[0]).toEqual({
      key: 2,
      time: '03:04:07',
      name: 'b2',
      change: 'healthy → ejected',
      reason: 'why 2',
      tone: 'bad',
    });
    expect(rows[1]!.change).toBe('unhealthy → healthy');
  });
  it('keeps only the newest `limit`', () => {
    const many = Array.from({ length: 80 }, (_, i) => ev(i + 1, 'draining', 'drain-requested'));
    const rows = timelineRows(many, 50);
    expect(rows).toHaveLength(50);
    expect(rows[0]!.key).toBe(80);
    expect(rows.at(-1)!.key).toBe(31);
  });
  it('is empty without events', () => {
    expect(timelineRows([])).toEqual([]);
  });
});
