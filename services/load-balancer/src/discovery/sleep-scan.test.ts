import { describe, expect, it } from 'vitest';
import {
  type ContainerSummary,
  mergeScans,
  parseIdleAfter,
  type SwarmServiceSummary,
  scanForSleep,
  scanSwarmByService,
} from './sleep-scan.js';

const c = (State: string, labels: Record<string, string> = {}): ContainerSummary => ({
  State,
  Labels: { 'lb.enable': 'true', 'lb.service': 'web', ...labels },
});

describe('scanForSleep', () => {
  // [name, containers, LB_SERVICE, running, stopped, idleAfterMs]
  const table: [string, ContainerSummary[], string | undefined, number, number, number | null][] = [
    ['nothing', [], undefined, 0, 0, null],
    ['one stopped: asleep', [c('exited')], undefined, 0, 1, null],
    ['created (never started) counts as stopped', [c('created')], undefined, 0, 1, null],
    ['running and stopped', [c('running'), c('exited')], undefined, 1, 1, null],
    ['paused is not stopped', [c('paused')], undefined, 1, 0, null],
    ['other service ignored with LB_SERVICE', [c('exited', { 'lb.service': 'api' })], 'web', 0, 0, null],
    ['its service counted with LB_SERVICE', [c('exited')], 'web', 0, 1, null],
    [
      'not lb.enable=true: ignored',
      [{ State: 'exited', Labels: { 'lb.enable': 'false' } }],
      undefined,
      0,
      0,
      null,
    ],
    ['no labels at all', [{ State: 'exited', Labels: null }], undefined, 0, 0, null],
    ['idle window from the label', [c('exited', { 'lb.idle.after': '300000' })], undefined, 0, 1, 300_000],
    [
      'the shortest window of several',
      [c('exited', { 'lb.idle.after': '60000' }), c('exited', { 'lb.idle.after': '30000' })],
      undefined,
      0,
      2,
      30_000,
    ],
    ['a bad label is ignored', [c('exited', { 'lb.idle.after': '5m' })], undefined, 0, 1, null],
  ];
  it.each(table)('%s', (_n, list, service, running, stopped, idleAfterMs) =>
    expect(scanForSleep(list, service)).toEqual({ running, stopped, idleAfterMs }),
  );
});

describe('parseIdleAfter', () => {
  it.each([
    ['1000', 1000],
    [' 250 ', 250],
    ['0', null],
    ['-5', null],
    ['1.5', null],
    ['abc', null],
    [undefined, null],
  ] as [string | undefined, number | null][])('%s -> %s', (raw, want) =>
    expect(parseIdleAfter(raw)).toBe(want),
  );
});

describe('scanSwarmByService', () => {
  const svc = (
    name: string,
    replicas: number | undefined,
    labels: Record<string, string> = {},
  ): SwarmServiceSummary => ({
    ID: `id-${name}`,
    Spec: {
      Name: name,
      Labels: { 'lb.enable': 'true', 'lb.port': '3000', ...labels },
      Mode: replicas === undefined ? {} : { Replicated: { Replicas: replicas } },
    },
  });
  const tasks = (service: string, n: number) => Array.from({ length: n }, () => ({ service }));
  type Want = Record<string, { running: number; stopped: number; idleAfterMs: number | null }>;
  // [name, services, backends in rotation, LB_SERVICE, want by service]
  const table: [string, SwarmServiceSummary[], { service: string }[], string | undefined, Want][] = [
    [
      'at 0 replicas: asleep',
      [svc('web', 0)],
      [],
      undefined,
      { web: { running: 0, stopped: 1, idleAfterMs: null } },
    ],
    [
      'at 2 replicas: not',
      [svc('web', 2)],
      tasks('web', 2),
      undefined,
      { web: { running: 2, stopped: 0, idleAfterMs: null } },
    ],
    [
      'global mode: never asleep',
      [svc('web', undefined)],
      [],
      undefined,
      { web: { running: 0, stopped: 0, idleAfterMs: null } },
    ],
    ['other service with LB_SERVICE', [svc('api', 0)], [], 'web', {}],
    [
      'lb.service names it',
      [svc('stack_web', 0, { 'lb.service': 'web' })],
      [],
      'web',
      { web: { running: 0, stopped: 1, idleAfterMs: null } },
    ],
    ['not enabled', [svc('web', 0, { 'lb.enable': 'false' })], [], undefined, {}],
    [
      'idle window on the spec',
      [svc('web', 0, { 'lb.idle.after': '60000' })],
      [],
      undefined,
      { web: { running: 0, stopped: 1, idleAfterMs: 60_000 } },
    ],
    [
      // the case a merged scan got wrong: one asleep beside one awake is two services, not one
      // "default" with a stopped and a running replica (which is awake, so nothing was held)
      'two services, one asleep and one awake: each its own',
      [svc('web', 0, { 'lb.idle.after': '4000' }), svc('api', 1)],
      tasks('api', 1),
      undefined,
      {
        web: { running: 0, stopped: 1, idleAfterMs: 4000 },
        api: { running: 1, stopped: 0, idleAfterMs: null },
      },
    ],
  ];
  it.each(table)('%s', (_n, services, backends, service, want) => {
    const got = scanSwarmByService(services, backends, service);
    expect(
      Object.fromEntries(
        [...got].map(([k, v]) => [k, { running: v.running, stopped: v.stopped, idleAfterMs: v.idleAfterMs }]),
      ),
    ).toEqual(want);
  });

  it('a sleeping service keeps its routes from the spec labels (its requests are held, not 404)', () => {
    const got = scanSwarmByService([svc('api', 0, { 'lb.path': '/api' })], [], undefined);
    expect(got.get('api')?.routes.map((r) => r.path)).toEqual(['/api']);
  });
});

describe('mergeScans', () => {
  const sc = (running: number, stopped: number, idleAfterMs: number | null = null) => ({
    running,
    stopped,
    idleAfterMs,
  });
  it.each([
    ['every engine asleep', [sc(0, 1), sc(0, 2, 5_000)], sc(0, 3, 5_000)],
    ['one engine runs it', [sc(1, 0, 9_000), sc(0, 1, 5_000)], sc(1, 1, 5_000)],
    ['an engine not scanned yet: unknown', [sc(0, 1), null], null],
    ['no engines', [], sc(0, 0)],
  ] as [string, (ReturnType<typeof sc> | null)[], ReturnType<typeof sc> | null][])('%s', (_n, scans, want) =>
    expect(mergeScans(scans)).toEqual(want),
  );
});
