import type { HistoryPoint } from '@headroom/shared/contracts';
import { describe, expect, it } from 'vitest';
import { chartSeries, latencyNote } from './chart-rows';

const at = (second: number) => new Date(2026, 0, 1, 12, 0, second).getTime();
const be = (name: string, rps: number, share: number, cpu: number | null, effectiveWeight = 1) => ({
  name,
  rps,
  share,
  cpu,
  effectiveWeight,
});
const point = (second: number, extra: Partial<HistoryPoint> = {}): HistoryPoint => ({
  t: at(second),
  rps: 10,
  errors: 0,
  p50: 5,
  p99: 20,
  mode: 'resource-aware',
  backends: {},
  ...extra,
});

describe('chartSeries', () => {
  it('is empty for no history', () => {
    expect(chartSeries([])).toEqual({ ids: [], names: {}, rows: [], modeChanges: [] });
  });

  it('makes one column per backend and measure, in percent where the API gives fractions', () => {
    const { ids, names, rows } = chartSeries([
      point(0, { backends: { a: be('alpha', 6.04, 0.6, 0.256, 0.35) } }),
    ]);
    expect(ids).toEqual(['a']);
    expect(names).toEqual({ a: 'alpha' });
    expect(rows).toEqual([
      {
        t: '12:00:00',
        rps: 10,
        errors: 0,
        p50: 5,
        p99: 20,
        'rps:a': 6,
        'cpu:a': 25.6,
        'share:a': 60,
        'weight:a': 0.35,
      },
    ]);
  });

  it('keeps first-seen order and leaves gaps (null) where a backend was absent or had no CPU sample', () => {
    const { ids, rows } = chartSeries([
      point(0, { backends: { b: be('b', 1, 1, null) } }),
      point(1, { backends: { a: be('a', 1, 0.5, 0.1), b: be('b', 1, 0.5, 0.2) } }),
    ]);
    expect(ids).toEqual(['b', 'a']);
    expect(rows[0]).toMatchObject({ 'cpu:b': null, 'share:a': null, 'rps:a': null, 'weight:a': null });
    expect(rows[1]).toMatchObject({ 'cpu:a': 10, 'cpu:b': 20, 'share:a': 50 });
  });

  it('marks the seconds at which the mode changed, not the first', () => {
    const { modeChanges } = chartSeries([
      point(0, { mode: 'round-robin' }),
      point(1, { mode: 'round-robin' }),
      point(2, { mode: 'latency' }),
      point(3, { mode: 'latency' }),
      point(4, { mode: 'least-connections' }),
    ]);
    expect(modeChanges).toEqual([
      { t: '12:00:02', mode: 'latency' },
      { t: '12:00:04', mode: 'least-connections' },
    ]);
  });

  it('uses the latest name of a renamed backend', () => {
    const { names } = chartSeries([
      point(0, { backends: { a: be('old', 1, 1, 0) } }),
      point(1, { backends: { a: be('new', 1, 1, 0) } }),
    ]);
    expect(names.a).toBe('new');
  });
});

describe('latencyNote', () => {
  it.each([
    ['answered seconds: draw the chart', [point(0), point(1, { p50: null, p99: null })], null],
    [
      'only immediate 503s: no data, not a number',
      [point(0, { p50: null, p99: null, errors: 10 })],
      /no request was answered/,
    ],
    ['no traffic at all', [point(0, { rps: 0, p50: null, p99: null })], /no traffic yet/],
  ] as Array<[string, HistoryPoint[], RegExp | null]>)('%s', (_name, points, want) => {
    const note = latencyNote(points);
    if (want === null) expect(note).toBeNull();
    else expect(note).toMatch(want);
  });
});
