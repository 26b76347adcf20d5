// /api/stats latency on the real balancer (issue #27): the dashboard read ~100,000 ms in the
// first seconds of `./dev start` while the only answers were immediate 503s. Requests answered
// without a backend are requests and errors, not latency samples: the quantiles say no data.
import { waitFor } from '@headroom/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningLb, startLb } from './lb-fixtures.js';

let lb: RunningLb | undefined;
afterAll(async () => {
  await lb?.stop();
});

interface Stats {
  rps: number;
  errorRate: number;
  latencyMs: { p50: number | null; p90: number | null; p99: number | null };
}

describe('latency figures count only answered requests (real balancer)', () => {
  it('only 503s (no backend): /api/stats and the history say null, not the top bucket', async () => {
    lb = await startLb({ BACKENDS: '', METRICS_SOURCE: 'none' });
    const running = lb;
    const statuses = await Promise.all(
      Array.from({ length: 20 }, () => fetch(`${running.proxy}/x`).then((r) => r.status)),
    );
    expect(new Set(statuses)).toEqual(new Set([503]));
    // the window holds closed seconds: wait for the one with the 503s
    const stats = await waitFor(
      async () => {
        const s = (await (await fetch(`${running.admin}/api/stats`)).json()) as Stats;
        return s.rps > 0 ? s : undefined;
      },
      { timeoutMs: 5000, message: 'the 503s in /api/stats' },
    );
    expect(stats.errorRate).toBe(1);
    expect(stats.latencyMs).toEqual({ p50: null, p90: null, p99: null });
    const history = (await (await fetch(`${running.admin}/api/stats/history`)).json()) as {
      points: Array<{ errors: number; p50: number | null; p99: number | null }>;
    };
    const withErrors = history.points.filter((p) => p.errors > 0);
    expect(withErrors.length).toBeGreaterThan(0);
    for (const p of withErrors) expect([p.p50, p.p99]).toEqual([null, null]);
  });
});
