import { describe, expect, it } from 'vitest';
import {
  type ContainerSummary,
  mergeScans,
  parseIdleAfter,
  type SwarmServiceSummary,
  scanForSleep,
  scanSwarmForSleep,
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

describe('scanSwarmForSleep', () => {
  const svc = (
    name: string,
    replicas: number | undefined,
    labels: Record<string, string> = {},
  ): SwarmServiceSummary => ({
    ID: `id-${name}`,
    Spec: {
      Name: name,
      Labels: { 'lb.enable': 'true', ...labels },
      Mode: replicas === undefined ? {} : { Replicated: { Replicas: replicas } },
    },
  });
  // [name, services, running backends, LB_SERVICE, stopped, idleAfterMs]
  const table: [string, SwarmServiceSummary[], number, string | undefined, number, number | null][] = [
    ['at 0 replicas: asleep', [svc('web', 0)], 0, undefined, 1, null],
    ['at 2 replicas: not', [svc('web', 2)], 2, undefined, 0, null],
    ['global mode: never asleep', [svc('web', undefined)], 0, undefined, 0, null],
    ['other service with LB_SERVICE', [svc('api', 0)], 0, 'web', 0, null],
    ['lb.service names it', [svc('stack_web', 0, { 'lb.service': 'web' })], 0, 'web', 1, null],
    ['not enabled', [svc('web', 0, { 'lb.enable': 'false' })], 0, undefined, 0, null],
    ['idle window on the spec', [svc('web', 0, { 'lb.idle.after': '60000' })], 0, undefined, 1, 60_000],
  ];
  it.each(table)('%s', (_n, services, running, service, stopped, idleAfterMs) =>
    expect(scanSwarmForSleep(services, running, service)).toEqual({ running, stopped, idleAfterMs }),
  );
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
