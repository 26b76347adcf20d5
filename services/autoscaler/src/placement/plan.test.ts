import { describe, expect, it } from 'vitest';
import type { HostState, PlacementSettings } from './host-state.js';
import { creationBackoff, placeReplicas, planScaleOut } from './plan.js';

const GiB = 1024 ** 3;
const s: PlacementSettings = { cpuOvercommit: 1, memoryReserve: 0, diskReserve: 0 };
const host = (id: string, over: Partial<HostState> = {}): HostState => ({
  id,
  reachable: true,
  cpuCapacity: 2,
  memoryCapacity: 4 * GiB,
  cpuBooked: 0,
  memoryBooked: 0,
  ...over,
});
const req = { cpu: 0.5, memory: 0.25 * GiB };

describe('placeReplicas: hosts + request + count → a host per new replica, or HostCapacityExhausted', () => {
  it.each([
    ['one engine, room for all', [host('a')], 3, s, ['a', 'a', 'a'], undefined],
    [
      'one engine: CPU_OVERCOMMIT 1 stops at its cores',
      [host('a', { cpuBooked: 1 })],
      3,
      s,
      ['a', 'a'],
      [{ id: 'a', reason: 'cpu' }],
    ],
    [
      'one engine: CPU_OVERCOMMIT 2 doubles the room',
      [host('a', { cpuBooked: 1 })],
      3,
      { ...s, cpuOvercommit: 2 },
      ['a', 'a', 'a'],
      undefined,
    ],
    [
      'one engine: MEMORY_RESERVE_MB keeps room free',
      [host('a', { memoryBooked: 3.25 * GiB })],
      2,
      { ...s, memoryReserve: 0.5 * GiB },
      ['a'],
      [{ id: 'a', reason: 'memory' }],
    ],
    [
      'one engine: DISK_RESERVE_MB on a known disk',
      [host('a', { diskCapacity: 100 * GiB, diskUsed: 95 * GiB })],
      1,
      { ...s, diskReserve: 10 * GiB },
      [],
      [{ id: 'a', reason: 'disk' }],
    ],
    [
      'one engine: DISK_RESERVE_MB ignored where the disk is unknown',
      [host('a')],
      1,
      { ...s, diskReserve: 1e15 },
      ['a'],
      undefined,
    ],
    [
      'the busier engine (a CPU hog booked) gets fewer',
      [host('a'), host('b', { cpuBooked: 1.5 })],
      5,
      s,
      ['a', 'a', 'a', 'a', 'b'],
      undefined,
    ],
    [
      'the busier engine (a CPU hog measured in use, no limit, books nothing) gets fewer',
      [host('a', { cpuUsed: 0 }), host('b', { cpuUsed: 1.5 })],
      5,
      s,
      ['a', 'a', 'a', 'a', 'b'],
      undefined,
    ],
    [
      'measured use below the bookings: the bookings count',
      [host('a', { cpuUsed: 0 }), host('b', { cpuBooked: 1.5, cpuUsed: 0.1 })],
      5,
      s,
      ['a', 'a', 'a', 'a', 'b'],
      undefined,
    ],
    [
      'a hog using every core of the only engine: it refuses with cpu',
      [host('a', { cpuUsed: 2 })],
      1,
      s,
      [],
      [{ id: 'a', reason: 'cpu' }],
    ],
    [
      'a hog using every core of one engine: the other takes them all',
      [host('a', { cpuUsed: 2 }), host('b', { cpuUsed: 0.2 })],
      3,
      s,
      ['b', 'b', 'b'],
      undefined,
    ],
    [
      'an unreachable engine is skipped; the other takes them all',
      [host('a', { reachable: false }), host('b')],
      2,
      s,
      ['b', 'b'],
      undefined,
    ],
    [
      'every engine full: what fits is placed, then exhausted with each reason',
      [host('a', { reachable: false }), host('b', { cpuBooked: 1.5 })],
      2,
      s,
      ['b'],
      [
        { id: 'a', reason: 'unreachable' },
        { id: 'b', reason: 'cpu' },
      ],
    ],
    ['no engine at all', [], 1, s, [], []],
    ['count 0 places nothing', [host('a')], 0, s, [], undefined],
  ] as const)('%s', (_name, hosts, count, settings, expected, exhausted) => {
    const plan = placeReplicas(hosts, req, count, settings);
    expect(plan.hosts).toEqual(expected);
    expect(plan.exhausted).toEqual(exhausted);
  });
});

describe('planScaleOut', () => {
  const base = { count: 1, hosts: [host('a')], request: req, settings: s, deaths: [], now: 1_000_000 };
  it.each([
    ['places', base, { kind: 'place', hosts: ['a'] }],
    ['no template: nothing to copy', { ...base, request: undefined }, { kind: 'no-template' }],
    [
      'three deaths in a row: backoff before anything else',
      { ...base, deaths: [999_000, 999_500, 999_900] },
      { kind: 'backoff', until: 1_009_900, deaths: 3 },
    ],
    ['two deaths are free', { ...base, deaths: [999_000, 999_500] }, { kind: 'place', hosts: ['a'] }],
  ] as const)('%s', (_name, input, expected) => {
    expect(planScaleOut(input)).toEqual(expected);
  });
  it('creationBackoff is none without recent deaths', () => {
    expect(creationBackoff([], 5)).toBeUndefined();
  });
});
