// The replica signals that need nothing from the app, against the real balancer process: a
// backend that exports no metrics at all (a bare HTTP server) gets a per-replica concurrency
// counter whose increase is the request-seconds it served, labelled with its service and
// replica name, and every per-backend series carries its `service`.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LB_METRICS } from '@headroom/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLb, startLb, waitHealthy } from './lb-fixtures.js';

const HOLD_MS = 400;
let lb: RunningLb;
const server = createServer((req, res) => {
  if (req.url === '/health') {
    res.end('ok');
    return;
  }
  // no /metrics, no anything: only slow answers
  setTimeout(() => res.end('done'), HOLD_MS);
});
let url = '';

/** The one sample of `name` whose labels include every part. */
function sample(text: string, name: string, ...parts: string[]): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && parts.every((p) => l.includes(p)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  lb = await startLb({ METRICS_SOURCE: 'none' });
  const res = await fetch(`${lb.admin}/api/backends`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url, name: 'slow-1', service: 'web' }),
  });
  expect(res.status).toBeLessThan(300);
  await waitHealthy(lb.admin, 1);
}, 30_000);

afterAll(async () => {
  await lb?.stop();
  server.closeAllConnections();
  server.close();
});

describe('replica signals for an app that exports nothing', () => {
  it('busy seconds grow by the request-seconds served: 6 concurrent requests of 400 ms ≈ 2.4', async () => {
    const metrics = async () => (await fetch(`${lb.admin}/metrics`)).text();
    const labels = ['service="web"', 'replica="slow-1"'];
    const before = sample(await metrics(), LB_METRICS.replicaBusySeconds, ...labels) ?? 0;
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => fetch(`${lb.proxy}/work`).then((r) => r.text())),
    );
    expect(answers).toEqual(Array(6).fill('done'));
    const text = await metrics();
    const after = sample(text, LB_METRICS.replicaBusySeconds, ...labels);
    expect(after).toBeDefined();
    const served = (after ?? 0) - before;
    // each request is in flight at least its 400 ms; the upper bound leaves a loaded machine
    // room for the proxy's own time, and fails for a counter of requests or of wall time
    expect(served).toBeGreaterThanOrEqual(6 * (HOLD_MS / 1000) * 0.98);
    expect(served).toBeLessThan(6 * (HOLD_MS / 1000) * 1.5);
  });

  it('every per-backend series names the service', async () => {
    const text = await (await fetch(`${lb.admin}/metrics`)).text();
    for (const name of [
      LB_METRICS.requests,
      `${LB_METRICS.requestDuration}_count`,
      LB_METRICS.inFlight,
      LB_METRICS.backendHealthy,
      LB_METRICS.backendWeight,
      LB_METRICS.backendTransitions,
    ])
      expect(sample(text, name, 'backend_name="slow-1"', 'service="web"'), name).toBeDefined();
  });
});
