// The proxy's allocations per request against a committed baseline (issue: a later change
// must not quietly undo the hot path's leanness). The probe runs the built balancer in a
// child process with --expose-gc and V8's GC profiler; bytes per request are deterministic
// enough (three runs within 1 %) for a 20 % limit.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const probe = fileURLToPath(new URL('./allocations/probe.mjs', import.meta.url));
const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const baseline = JSON.parse(
  readFileSync(new URL('./allocations/baseline.json', import.meta.url), 'utf8'),
) as {
  bytesPerRequest: number;
};

describe('allocation guard', () => {
  it('allocates at most 1.2× the committed baseline per proxied request', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', probe], {
      env: { ...process.env, LB_MAIN: main, REQUESTS: '4000', CONCURRENCY: '8' },
      timeout: 60_000,
    }).toString();
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as { bytesPerRequest: number; failed: number };
    expect(r.failed).toBe(0);
    process.stdout.write(
      `allocation guard: ${r.bytesPerRequest.toFixed(0)} bytes/request (baseline ${baseline.bytesPerRequest})\n`,
    );
    expect(r.bytesPerRequest).toBeGreaterThan(0);
    expect(r.bytesPerRequest).toBeLessThanOrEqual(1.2 * baseline.bytesPerRequest);
  });
});
