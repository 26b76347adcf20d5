// lb.timeout.body (issue #27): a server-sent-events stream that pauses longer than
// BODY_TIMEOUT_MS is cut by the proxy, unless its service sets lb.timeout.body. Real engine,
// real containers (one service with the label, one without, told apart by lb.host), real
// balancer with short global timeouts.
import { request } from 'node:http';
import { LB_LABELS } from '@headroom/shared';
import { type DiscoveringBalancer, hostDockerRun, lbLabels } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const testRun = hostDockerRun('lbfix-sse');
const RUN = testRun.id;
const WITH = `with.${RUN}.test`;
const WITHOUT = `without.${RUN}.test`;
// one event at once, the next after 1.5 s of silence (past the 0.6 s global timeouts), then the end
const SSE = `require('node:http').createServer((req, res) => {
  if (req.url === '/health') return res.end('ok');
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write('data: one\\n\\n');
  setTimeout(() => res.end('data: two\\n\\n'), 1500);
}).listen(3000);`;

let lb: DiscoveringBalancer | undefined;

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
  testRun.require();
  for (const [host, extra] of [
    [WITH, { [LB_LABELS.timeoutBody]: '5000' }],
    [WITHOUT, {}],
  ] as const)
    testRun.node({
      labels: lbLabels(`${RUN}-${host.split('.')[0]}`, 3000, { [LB_LABELS.host]: host, ...extra }),
      publish: ['127.0.0.1::3000'],
      script: SSE,
    });
  lb = await testRun.balancer({ BODY_TIMEOUT_MS: '600', RESPONSE_TIMEOUT_MS: '600' });
  // both SSE services
  await lb.waitHealthy(2, (b) => b.service.startsWith(RUN));
});
afterAll(() => testRun.end());

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
