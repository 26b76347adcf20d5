// Invariants of placement for any hosts and request (fast-check).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chooseHost } from './choose-host.js';
import { cosineSimilarity } from './cosine-fit.js';
import { rejectReason } from './host-filter.js';
import { book, cpuTaken, type HostState } from './host-state.js';

const GiB = 1024 ** 3;
const hostArb = (id: string): fc.Arbitrary<HostState> =>
  fc.record({
    id: fc.constant(id),
    reachable: fc.boolean(),
    cpuCapacity: fc.integer({ min: 1, max: 64 }),
    memoryCapacity: fc.integer({ min: 1, max: 256 }).map((g) => g * GiB),
    cpuBooked: fc.double({ min: 0, max: 80, noNaN: true }),
    memoryBooked: fc.integer({ min: 0, max: 300 }).map((g) => g * GiB),
    cpuUsed: fc.option(fc.double({ min: 0, max: 64, noNaN: true }), { nil: undefined }),
  });
const hostsArb = fc
  .integer({ min: 0, max: 6 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => hostArb(`h${i}`))));
const reqArb = fc.record({
  cpu: fc.double({ min: 0, max: 8, noNaN: true }),
  memory: fc.integer({ min: 0, max: 16 }).map((g) => g * GiB),
});
const settingsArb = fc.record({
  cpuOvercommit: fc.double({ min: 1, max: 4, noNaN: true }),
  memoryReserve: fc.integer({ min: 0, max: 4 }).map((g) => g * GiB),
  diskReserve: fc.constant(0),
});

describe('chooseHost: properties', () => {
  it('picks a host that passes the filter, or rejects every host with a reason', () => {
    fc.assert(
      fc.property(hostsArb, reqArb, settingsArb, (hosts, req, s) => {
        const r = chooseHost(hosts, req, s);
        if (r.ok) {
          expect(rejectReason(r.host, req, s)).toBeNull();
          expect(hosts).toContain(r.host);
        } else {
          expect(r.rejected.map((x) => x.id)).toEqual(hosts.map((h) => h.id));
          for (const h of hosts) expect(rejectReason(h, req, s)).not.toBeNull();
        }
      }),
    );
  });

  it('the chosen host has the best similarity among the hosts that fit', () => {
    fc.assert(
      fc.property(hostsArb, reqArb, settingsArb, (hosts, req, s) => {
        const r = chooseHost(hosts, req, s);
        if (!r.ok) return;
        const best = Math.max(...r.scores.map((x) => x.similarity));
        expect(r.scores[0]!.similarity).toBeGreaterThanOrEqual(best - 1e-9);
        expect(r.scores[0]!.id).toBe(r.host.id);
      }),
    );
  });

  it('booking placed replicas one by one never exceeds a capacity limit', () => {
    fc.assert(
      fc.property(hostsArb, reqArb, settingsArb, fc.integer({ min: 1, max: 20 }), (start, req, s, n) => {
        let hosts = [...start].map((h) => ({ ...h, cpuBooked: 0, memoryBooked: 0 }));
        for (let i = 0; i < n; i++) {
          const r = chooseHost(hosts, req, s);
          if (!r.ok) break;
          hosts = hosts.map((h) => (h.id === r.host.id ? book(h, req) : h));
        }
        for (const h of hosts) {
          expect(cpuTaken(h)).toBeLessThanOrEqual(
            Math.max(h.cpuCapacity * s.cpuOvercommit, start.find((x) => x.id === h.id)!.cpuUsed ?? 0) + 1e-6,
          );
          expect(h.memoryBooked).toBeLessThanOrEqual(Math.max(0, h.memoryCapacity - s.memoryReserve));
        }
      }),
    );
  });

  it('cosine similarity stays within [0, 1] for subnormal components', () => {
    for (const [a, b] of [
      [
        [5e-324, 1e-310],
        [1e-310, 5e-324],
      ],
      [
        [1e-320, 0, 3e-321],
        [2e-322, 1e-320, 0],
      ],
      [
        [1e308, 1e308],
        [1e308, 1e-308],
      ],
    ] as const) {
      const c = cosineSimilarity(a, b);
      expect(c).toBeGreaterThanOrEqual(0);
      expect(c).toBeLessThanOrEqual(1);
    }
    expect(cosineSimilarity([3, 4], [6, 8])).toBe(1);
  });

  it('cosine similarity is within [0, 1] for non-negative vectors and symmetric', () => {
    const vec = fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 2, maxLength: 3 });
    fc.assert(
      fc.property(vec, vec, (a, b) => {
        const c = cosineSimilarity(a, b);
        expect(c).toBeGreaterThanOrEqual(0);
        expect(c).toBeLessThanOrEqual(1 + 1e-12);
        expect(cosineSimilarity(b, a)).toBeCloseTo(c, 12);
      }),
    );
  });
});
