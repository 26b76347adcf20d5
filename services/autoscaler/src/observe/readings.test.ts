import { describe, expect, it } from 'vitest';
import { defaultQuery, promString, queryFor } from './queries.js';
import { toReading } from './readings.js';
import type { CensusReplica } from './replica-census.js';
import { knownReadiness, summarize } from './replica-census.js';
import type { SeriesResult } from './series.js';

const replica = (name: string, over: Partial<CensusReplica> = {}): CensusReplica => ({
  id: `${name.replace(/\W/g, '')}aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa`.slice(0, 64),
  name,
  owned: true,
  state: 'running',
  host: 'h',
  ready: true,
  ...over,
});
const ok = (...series: [Record<string, string>, number, number?][]): SeriesResult => ({
  ok: true,
  series: series.map(([labels, value, ageMs]) => ({ labels, value, ageMs })),
});

describe('toReading', () => {
  const replicas = [replica('web-1'), replica('web-2'), replica('web-3', { ready: false })];
  it('keeps samples of ready replicas, matched by name label', () => {
    const r = toReading(
      'cpu',
      0.6,
      ok([{ replica: 'web-1' }, 0.5], [{ replica: '/web-2' }, 0.7], [{ replica: 'web-3' }, 0]),
      replicas,
      30_000,
    );
    expect(r.values).toEqual([0.5, 0.7]);
    expect(r.missing).toBeUndefined();
  });
  it('matches a 12-hex container id', () => {
    const r = toReading('cpu', 0.6, ok([{ container: replicas[0]!.id.slice(0, 12) }, 0.4]), replicas, 30_000);
    expect(r.values).toEqual([0.4]);
  });
  it('drops series of containers that are gone once any series names ours', () => {
    const r = toReading(
      'cpu',
      0.6,
      ok([{ replica: 'web-1' }, 0.5], [{ replica: 'web-9' }, 3]),
      replicas,
      30_000,
    );
    expect(r.values).toEqual([0.5]);
  });
  it('uses every series when none can be attributed (custom query without replica labels)', () => {
    const r = toReading('cpu', 0.6, ok([{}, 0.5], [{ pod: 'x' }, 0.9]), replicas, 30_000);
    expect(r.values).toEqual([0.5, 0.9]);
  });
  it.each([
    [{ ok: false, why: 'unreachable', detail: 'x' } as SeriesResult, 'unreachable'],
    [ok(), 'empty'],
    [ok([{ replica: 'web-1' }, Number.NaN], [{ replica: 'web-2' }, Number.POSITIVE_INFINITY]), 'nan'],
    [ok([{ replica: 'web-1' }, 0.5, 60_000]), 'stale'],
    [ok([{ replica: 'web-3' }, 0.5]), 'empty'],
  ])('no usable sample → missing (%#)', (result, why) => {
    const r = toReading('cpu', 0.6, result, replicas, 30_000);
    expect(r.values).toEqual([]);
    expect(r.missing).toBe(why);
  });
});

describe('census', () => {
  it.each([
    [{ state: 'starting' }, undefined, false],
    [{ ready: true }, undefined, true],
    [{ health: 'healthy' }, undefined, true],
    [{ health: 'starting' }, undefined, false],
    [{ backendId: 'abc', healthUrl: 'http://x' }, new Map([['abc', 'healthy']]), true],
    [{ backendId: 'abc', healthUrl: 'http://x' }, new Map([['abc', 'draining']]), false],
    [{ backendId: 'abc', healthUrl: 'http://x' }, new Map(), undefined],
    [{}, undefined, true],
  ] as const)('readiness %j with balancer %j → %s', (over, view, expected) => {
    const { ready: _r, ...base } = replica('web-1');
    expect(knownReadiness({ ...base, ...over }, view)).toBe(expected);
  });
  it('counts current (not exited), ready and owned', () => {
    const c = summarize([
      replica('a'),
      replica('b', { ready: false, owned: false }),
      replica('c', { state: 'exited', ready: false }),
    ]);
    expect([c.current, c.ready, c.owned]).toEqual([2, 1, 1]);
  });
});

describe('queries', () => {
  it('filters the recorded series by service, escaped', () => {
    expect(defaultQuery('cpu', 'web')).toBe('headroom:replica_cpu_utilization:ratio{service="web"}');
    expect(promString('a"b\\c')).toBe('"a\\"b\\\\c"');
  });
  it.each([
    ['cpu', 'headroom:replica_cpu_utilization:ratio{service="web"}'],
    ['memory', 'headroom:replica_memory_utilization:ratio{service="web"}'],
    ['rps', 'headroom:replica_requests:rate1m{service="web"}'],
    ['concurrency', 'headroom:replica_concurrency:avg{service="web"}'],
  ] as const)('%s reads %s unless PROMQL_* replaces it', (metric, query) => {
    expect(queryFor(metric, 'web', {})).toBe(query);
    expect(queryFor(metric, 'web', { [metric]: 'my_app_metric' })).toBe('my_app_metric');
  });
});
