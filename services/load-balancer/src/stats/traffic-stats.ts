// Per-second traffic accounting for /api/stats and the dashboard's charts: a ring of
// one-second buckets (requests, errors, latency histogram) overall and per backend.
// `now` is passed in; the caller ticks it once a second. Latency quantiles count only the
// requests that have a latency (answered through a backend): a request answered without one
// (503 no backend, 404 no route) is a request and an error, never a latency sample, or the
// quantile would run off the histogram's end and read as its top bucket (~100 s).
import type { BalancerMode, HistoryPoint } from '@headroom/shared';
import { BUCKETS, bucketOf, quantileOf } from './latency-histogram.js';

interface Bucket {
  second: number;
  requests: number;
  errors: number;
  /** Requests with a latency sample in `hist` (answered through a backend). */
  answered: number;
  hist: Uint32Array;
  perBackend: Map<string, { requests: number; errors: number; hist: Uint32Array }>;
}

function emptyBucket(second: number): Bucket {
  return {
    second,
    requests: 0,
    errors: 0,
    answered: 0,
    hist: new Uint32Array(BUCKETS),
    perBackend: new Map(),
  };
}

export interface BackendSnapshot {
  id: string;
  name: string;
  cpu: number | null;
  effectiveWeight: number;
}

export class TrafficStats {
  private current: Bucket;
  private readonly ring: Bucket[] = [];
  private readonly points: HistoryPoint[] = [];
  totalRequests = 0;
  totalErrors = 0;
  totalRetries = 0;

  constructor(
    private readonly historySeconds: number,
    now: number,
  ) {
    this.current = emptyBucket(Math.floor(now / 1000));
  }

  record(backendId: string, latencyMs: number, error: boolean): void {
    const b = this.current;
    const bucket = bucketOf(latencyMs);
    b.requests++;
    b.answered++;
    b.hist[bucket]!++;
    this.totalRequests++;
    let pb = b.perBackend.get(backendId);
    if (!pb) {
      pb = { requests: 0, errors: 0, hist: new Uint32Array(BUCKETS) };
      b.perBackend.set(backendId, pb);
    }
    pb.requests++;
    pb.hist[bucket]!++;
    if (error) {
      b.errors++;
      pb.errors++;
      this.totalErrors++;
    }
  }

  /** Requests answered without a backend (503 no backend): counted as errors overall. */
  recordUnrouted(): void {
    this.current.requests++;
    this.current.errors++;
    this.totalRequests++;
    this.totalErrors++;
  }

  /** Closes the current second when `now` moved past it, and appends a history point. */
  tick(now: number, mode: BalancerMode, backends: BackendSnapshot[]): void {
    const second = Math.floor(now / 1000);
    if (second <= this.current.second) return;
    const done = this.current;
    this.ring.push(done);
    if (this.ring.length > 10) this.ring.shift();
    const point: HistoryPoint = {
      t: done.second * 1000,
      rps: done.requests,
      errors: done.errors,
      p50: quantileOf(done.hist, done.answered, 0.5),
      p99: quantileOf(done.hist, done.answered, 0.99),
      mode,
      backends: {},
    };
    for (const b of backends) {
      const pb = done.perBackend.get(b.id);
      const requests = pb?.requests ?? 0;
      point.backends[b.id] = {
        name: b.name,
        rps: requests,
        share: done.requests > 0 ? requests / done.requests : 0,
        cpu: b.cpu,
        effectiveWeight: b.effectiveWeight,
      };
    }
    this.points.push(point);
    if (this.points.length > this.historySeconds) this.points.shift();
    this.current = emptyBucket(second);
  }

  history(): HistoryPoint[] {
    return this.points;
  }

  /** Aggregates the last (up to 10) closed seconds. */
  window(): {
    seconds: number;
    requests: number;
    errors: number;
    /** Requests with a latency sample in `hist`: the quantiles' total. */
    answered: number;
    hist: Uint32Array;
    perBackend: Map<string, { requests: number; errors: number; hist: Uint32Array }>;
  } {
    const hist = new Uint32Array(BUCKETS);
    const perBackend = new Map<string, { requests: number; errors: number; hist: Uint32Array }>();
    let requests = 0;
    let errors = 0;
    let answered = 0;
    for (const b of this.ring) {
      requests += b.requests;
      errors += b.errors;
      answered += b.answered;
      for (let i = 0; i < BUCKETS; i++) hist[i]! += b.hist[i]!;
      for (const [id, pb] of b.perBackend) {
        let acc = perBackend.get(id);
        if (!acc) {
          acc = { requests: 0, errors: 0, hist: new Uint32Array(BUCKETS) };
          perBackend.set(id, acc);
        }
        acc.requests += pb.requests;
        acc.errors += pb.errors;
        for (let i = 0; i < BUCKETS; i++) acc.hist[i]! += pb.hist[i]!;
      }
    }
    return { seconds: Math.max(1, this.ring.length), requests, errors, answered, hist, perBackend };
  }

  /** Requests per second of one backend over the window. */
  backendRps(id: string): number {
    let n = 0;
    for (const b of this.ring) n += b.perBackend.get(id)?.requests ?? 0;
    return n / Math.max(1, this.ring.length);
  }
}

export { quantileOf };
