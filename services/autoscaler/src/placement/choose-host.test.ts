import { describe, expect, it } from 'vitest';
import { chooseHost } from './choose-host.js';
import { cosineSimilarity, fitVectors } from './cosine-fit.js';
import { rejectReason } from './host-filter.js';
import { book, type HostState, type PlacementSettings } from './host-state.js';

const GiB = 1024 ** 3;
const s: PlacementSettings = { cpuOvercommit: 1, memoryReserve: 0, diskReserve: 0 };
const host = (id: string, over: Partial<HostState> = {}): HostState => ({
  id,
  reachable: true,
  cpuCapacity: 4,
  memoryCapacity: 8 * GiB,
  cpuBooked: 0,
  memoryBooked: 0,
  ...over,
});

describe('cosineSimilarity', () => {
  it.each([
    [[1, 0], [1, 0], 1, 'same direction'],
    [[2, 2], [0.5, 0.5], 1, 'same direction, different length'],
    [[1, 0], [0, 1], 0, 'orthogonal'],
    [[0, 0], [1, 1], 0, 'zero host vector'],
    [[1, 1], [0, 0], 0, 'zero request vector'],
    [[1, 1], [1, 0], Math.SQRT1_2, '45 degrees'],
  ])('%j · %j = %d (%s)', (a, b, expected) => {
    expect(cosineSimilarity(a, b)).toBeCloseTo(expected, 9);
  });
});

describe('rejectReason (hard filter)', () => {
  const req = { cpu: 1, memory: 1 * GiB };
  it.each([
    ['fits', host('a'), s, null],
    ['unreachable', host('a', { reachable: false }), s, 'unreachable'],
    ['CPU exactly at capacity fits', host('a', { cpuBooked: 3 }), s, null],
    ['CPU over capacity', host('a', { cpuBooked: 3.5 }), s, 'cpu'],
    [
      'CPU over capacity but within overcommit',
      host('a', { cpuBooked: 6 }),
      { ...s, cpuOvercommit: 2 },
      null,
    ],
    ['CPU over the overcommit too', host('a', { cpuBooked: 7.5 }), { ...s, cpuOvercommit: 2 }, 'cpu'],
    ['CPU measured in use over capacity (a container with no limit)', host('a', { cpuUsed: 3.5 }), s, 'cpu'],
    ['CPU measured in use, room left', host('a', { cpuUsed: 3 }), s, null],
    ['measured use above the bookings counts', host('a', { cpuBooked: 1, cpuUsed: 3.5 }), s, 'cpu'],
    ['bookings above measured use count', host('a', { cpuBooked: 3.5, cpuUsed: 1 }), s, 'cpu'],
    ['memory exactly at capacity fits', host('a', { memoryBooked: 7 * GiB }), s, null],
    ['memory over capacity', host('a', { memoryBooked: 7.5 * GiB }), s, 'memory'],
    [
      'memory reserve keeps room free',
      host('a', { memoryBooked: 6.5 * GiB }),
      { ...s, memoryReserve: 1 * GiB },
      'memory',
    ],
    [
      'memory is never overcommitted',
      host('a', { memoryBooked: 7.5 * GiB }),
      { ...s, cpuOvercommit: 4 },
      'memory',
    ],
    [
      'disk within capacity minus reserve',
      host('a', { diskCapacity: 100, diskUsed: 89 }),
      { ...s, diskReserve: 10 },
      null,
    ],
    [
      'disk over capacity minus reserve',
      host('a', { diskCapacity: 100, diskUsed: 91 }),
      { ...s, diskReserve: 10 },
      'disk',
    ],
    [
      'unknown disk is not a reason',
      host('a', { diskCapacity: undefined }),
      { ...s, diskReserve: 1e12 },
      null,
    ],
  ] as const)('%s', (_name, h, settings, expected) => {
    expect(rejectReason(h, req, settings)).toBe(expected);
  });
});

describe('chooseHost', () => {
  it('picks the host whose free room has the shape of the request', () => {
    // cpu-heavy request; host a has mostly CPU left, host b mostly memory.
    const a = host('a', { cpuBooked: 0, memoryBooked: 6 * GiB });
    const b = host('b', { cpuBooked: 3, memoryBooked: 0 });
    const r = chooseHost([b, a], { cpu: 1, memory: 0.25 * GiB }, s);
    expect(r.ok && r.host.id).toBe('a');
    // memory-heavy request goes the other way.
    const m = chooseHost([a, b], { cpu: 0.1, memory: 1 * GiB }, s);
    expect(m.ok && m.host.id).toBe('b');
  });

  it('zero request (no limits): every similarity is 0, so the roomiest host wins', () => {
    const r = chooseHost([host('a', { cpuBooked: 2 }), host('b')], { cpu: 0, memory: 0 }, s);
    expect(r.ok && r.host.id).toBe('b');
    expect(r.ok && r.scores.map((x) => x.similarity)).toEqual([0, 0]);
  });

  it('zero request (no limits): a host busy with an unlimited CPU hog has less room, so the other wins', () => {
    const r = chooseHost([host('a', { cpuUsed: 3 }), host('b', { cpuUsed: 0.5 })], { cpu: 0, memory: 0 }, s);
    expect(r.ok && r.host.id).toBe('b');
    // not measured: only bookings count, both empty, the first configured
    const u = chooseHost([host('a'), host('b')], { cpu: 0, memory: 0 }, s);
    expect(u.ok && u.host.id).toBe('a');
  });

  it('booking a replica adds its request to the measured use too', () => {
    expect(book(host('a', { cpuUsed: 1 }), { cpu: 0.5, memory: 0 }).cpuUsed).toBe(1.5);
    expect(book(host('a'), { cpu: 0.5, memory: 0 }).cpuUsed).toBeUndefined();
  });

  it('equal similarity: ties go to the most remaining room, then to configured order', () => {
    const req = { cpu: 1, memory: 2 * GiB };
    // Both have free room proportional to the request (same direction) but b has more of it.
    const a = host('a', { cpuBooked: 2, memoryBooked: 4 * GiB });
    const b = host('b');
    const r = chooseHost([a, b], req, s);
    expect(r.ok && r.host.id).toBe('b');
    // Identical hosts: the first configured.
    const same = chooseHost([host('x'), host('y')], req, s);
    expect(same.ok && same.host.id).toBe('x');
  });

  it('filters before scoring and lists why each host was rejected', () => {
    const r = chooseHost(
      [host('down', { reachable: false }), host('full', { cpuBooked: 4 }), host('ok', { cpuBooked: 3.5 })],
      { cpu: 0.5, memory: GiB },
      s,
    );
    expect(r.ok && r.host.id).toBe('ok');
    const none = chooseHost(
      [host('down', { reachable: false }), host('full', { memoryBooked: 8 * GiB })],
      { cpu: 1, memory: 1 },
      s,
    );
    expect(none).toEqual({
      ok: false,
      rejected: [
        { id: 'down', reason: 'unreachable' },
        { id: 'full', reason: 'memory' },
      ],
    });
  });

  it('serialized placement books capacity so two replicas never share the last room', () => {
    const req = { cpu: 1, memory: GiB };
    let hosts = [host('a', { cpuCapacity: 1 }), host('b', { cpuCapacity: 1 })];
    const placed: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = chooseHost(hosts, req, s);
      if (!r.ok) break;
      placed.push(r.host.id);
      hosts = hosts.map((h) => (h.id === r.host.id ? book(h, req) : h));
    }
    expect(placed).toEqual(['a', 'b']);
  });

  it('uses the disk dimension only when both the host and the request know it', () => {
    const h = host('a', { diskCapacity: 100, diskUsed: 0 });
    expect(fitVectors(h, { cpu: 1, memory: GiB }, s).request).toHaveLength(2);
    expect(fitVectors(h, { cpu: 1, memory: GiB, disk: 10 }, s).request).toHaveLength(3);
  });
});
