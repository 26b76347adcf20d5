// lb.timeout.body (issue #27): a server-sent-events stream that pauses longer than
// BODY_TIMEOUT_MS is cut by the proxy, unless its service sets lb.timeout.body. Real engine,
// real containers (one service with the label, one without, told apart by lb.host), real
// balancer with short global timeouts.
import { request } from 'node:http';
import { LB_LABELS } from '@headroom/shared';
import {
  ensureBaseImage,
  lbLabels,
  removeRun,
  requireDocker,
  runNodeScript,
  testRunId,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLb, startLb } from './lb-fixtures.js';

const RUN = testRunId('lbfix-sse');
const WITH = `with.${RUN}.test`;
const WITHOUT = `without.${RUN}.test`;
// one event at once, the next after 1.5 s of silence (past the 0.6 s global timeouts), then the end
const SSE = `require('node:http').createServer((req, res) => {
  if (req.url === '/health') return res.end('ok');
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write('data: one\\n\\n');
  setTimeout(() => res.end('data: two\\n\\n'), 1500);
}).listen(3000);`;

let lb: RunningLb | undefined;

/** Reads the stream through the proxy: what arrived, and whether it ended cleanly. */
function stream(proxy: string, host: string): Promise<{ status: number; body: string; complete: boolean }> {
  return new Promise((resolve) => {
    const req = request(`${proxy}/events`, { headers: { host, accept: 'text/event-stream' } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, complete: res.complete }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body, complete: false }));
      res.on('aborted', () => resolve({ status: res.statusCode ?? 0, body, complete: false }));
    });
    req.on('error', () => resolve({ status: 0, body: '', complete: false }));
    req.end();
  });
}

beforeAll(async () => {
  requireDocker();
  ensureBaseImage();
  for (const [host, extra] of [
    [WITH, { [LB_LABELS.timeoutBody]: '5000' }],
    [WITHOUT, {}],
  ] as const)
    runNodeScript({
      run: RUN,
      labels: lbLabels(`${RUN}-${host.split('.')[0]}`, 3000, { [LB_LABELS.host]: host, ...extra }),
      publish: ['127.0.0.1::3000'],
      script: SSE,
    });
  lb = await startLb({
    DISCOVERY: 'docker',
    DOCKER_ADDRESS: 'published',
    METRICS_SOURCE: 'none',
    BODY_TIMEOUT_MS: '600',
    RESPONSE_TIMEOUT_MS: '600',
  });
  const admin = lb.admin;
  await waitFor(
    async () => {
      const list = (await (await fetch(`${admin}/api/backends`)).json()) as {
        backends: Array<{ service: string; state: string }>;
      };
      return list.backends.filter((b) => b.service.startsWith(RUN) && b.state === 'healthy').length === 2;
    },
    { timeoutMs: 20_000, message: 'both SSE services healthy' },
  );
});
afterAll(async () => {
  await lb?.stop();
  removeRun(RUN);
});

describe('lb.timeout.body (real engine, real SSE)', () => {
  it('with lb.timeout.body=5000 the stream survives a pause past BODY_TIMEOUT_MS', async () => {
    const r = await stream(lb!.proxy, WITH);
    expect(r.status).toBe(200);
    expect(r.body).toBe('data: one\n\ndata: two\n\n');
    expect(r.complete).toBe(true);
  });

  it('without it the same stream is cut at BODY_TIMEOUT_MS', async () => {
    const r = await stream(lb!.proxy, WITHOUT);
    expect(r.status).toBe(200);
    expect(r.body).toBe('data: one\n\n');
    expect(r.complete).toBe(false);
  });
});
