import { describe, expect, it } from 'vitest';
import { bucketOf, bucketUpperMs, quantileOf } from './latency-histogram.js';
import { TrafficStats } from './traffic-stats.js';

describe('latency histogram', () => {
  it('buckets are within 10 % of the value', () => {
    for (const ms of [0.5, 1, 3.3, 20, 150, 2000, 30_000]) {
      const upper = bucketUpperMs(bucketOf(ms));
      expect(upper).toBeGreaterThanOrEqual(ms);
      expect(upper / ms).toBeLessThan(1.11);
    }
  });
  it('computes quantiles', () => {
    const counts = new Uint32Array(200);
    for (let i = 1; i <= 100; i++) counts[bucketOf(i)]!++;
    expect(quantileOf(counts, 100, 0.5)! / 50).toBeCloseTo(1, 0);
    expect(quantileOf(counts, 100, 0.99)!).toBeGreaterThanOrEqual(99);
    expect(quantileOf(counts, 0, 0.5)).toBeNull();
  });
});

describe('TrafficStats', () => {
  it('rolls seconds into history points with per-backend shares', () => {
    const s = new TrafficStats(3, 0);
    for (let i = 0; i < 30; i++) s.record('a', 10, false);
    for (let i = 0; i < 10; i++) s.record('b', 100, i === 0);
    s.tick(1000, 'round-robin', [
      { id: 'a', name: 'A', cpu: 0.5, effectiveWeight: 1 },
      { id: 'b', name: 'B', cpu: null, effectiveWeight: 1 },
    ]);
    const [p] = s.history();
    expect(p).toMatchObject({ t: 0, rps: 40, errors: 1, mode: 'round-robin' });
    expect(p!.backends.a!.share).toBe(0.75);
    expect(p!.p99!).toBeGreaterThanOrEqual(100);
    expect(s.backendRps('a')).toBe(30);
    for (let t = 2; t < 8; t++) s.tick(t * 1000, 'latency', []);
    expect(s.history()).toHaveLength(3);
  });

  it('latency counts only answered requests: immediate 503s are no data, never the top bucket', () => {
    const s = new TrafficStats(10, 0);
    for (let i = 0; i < 100; i++) s.recordUnrouted();
    s.tick(1000, 'round-robin', []);
    expect(s.history()[0]).toMatchObject({ rps: 100, errors: 100, p50: null, p99: null });
    expect(s.window()).toMatchObject({ requests: 100, answered: 0 });
    // ten answered at ~5 ms among ninety 503s: the quantiles are of the ten
    for (let i = 0; i < 10; i++) s.record('a', 5, false);
    for (let i = 0; i < 90; i++) s.recordUnrouted();
    s.tick(2000, 'round-robin', []);
    const p = s.history()[1]!;
    expect(p.p99!).toBeGreaterThanOrEqual(5);
    expect(p.p99!).toBeLessThan(6);
    const w = s.window();
    expect(quantileOf(w.hist, w.answered, 0.99)!).toBeLessThan(6);
  });
  it('quantileOf caps a total above the samples instead of answering the top bucket', () => {
    const counts = new Uint32Array(200);
    counts[bucketOf(5)] = 10;
    expect(quantileOf(counts, 100, 0.99)!).toBeLessThan(6);
    expect(quantileOf(new Uint32Array(200), 100, 0.5)).toBeNull();
  });
});
