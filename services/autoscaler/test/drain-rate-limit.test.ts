// Drain vs the balancer's admin rate limit, against the real balancer process: a drain
// that lasts longer than the rate limit's budget of polls still waits for the in-flight
// request to finish (one long-polled wait, 429s waited out), instead of ending as
// "balancer unavailable" and letting the replica be stopped with requests in flight.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { backendListSchema, createLogger } from '@headroom/shared';
import { type RunningBalancer, startBalancer, waitFor } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrainClient } from '../src/act/drain-client.js';
import { BalancerClient } from '../src/clients/balancer-client.js';

const logger = createLogger({ service: 'drain-rate-limit-test', level: 'silent' });
let slow: Server;
let lb: RunningBalancer;
let proxy = '';
let admin = '';

beforeAll(async () => {
  // answers health checks at once, everything else after 2.5 s
  slow = createServer((req, res) => {
    if (req.url === '/health') res.end('ok');
    else setTimeout(() => res.end('done'), 2500);
  });
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
  // not waited on its admin /healthz: that would spend the tiny admin rate limit
  lb = await startBalancer(
    {
      DISCOVERY: 'static',
      BACKENDS: `http://127.0.0.1:${(slow.address() as AddressInfo).port}`,
      METRICS_SOURCE: 'none',
      HEALTH_INTERVAL_MS: '200',
      // 8 admin calls a minute: a 100 ms poll spends that in under a second
      ADMIN_RATE_LIMIT: '8',
    },
    { waitReady: false },
  );
  proxy = lb.proxy;
  admin = lb.admin;
  // healthy once a proxied request is answered (the proxy port is not rate-limited)
  await waitFor(
    async () => {
      if (lb.child.exitCode !== null) throw new Error(`balancer exited: ${lb.output()}`);
      const res = await fetch(`${proxy}/health`);
      return res.status === 200;
    },
    { timeoutMs: 15_000, message: 'balancer serving' },
  );
});
afterAll(async () => {
  await lb?.stop();
  slow?.closeAllConnections();
  slow?.close();
});

describe('drain vs the admin rate limit', () => {
  it('a drain longer than the rate limit allows polls for still waits for the in-flight request', async () => {
    const [backend] = backendListSchema.parse(await (await fetch(`${admin}/api/backends`)).json()).backends;
    const inflight = fetch(`${proxy}/slow`).then((r) => ({ status: r.status, at: Date.now() }));
    await new Promise((r) => setTimeout(r, 200));
    const drain = new DrainClient(new BalancerClient({ url: admin }), 10_000, logger);
    const outcome = await drain.drain(backend!.id);
    const doneAt = Date.now();
    expect(outcome).toBe('drained');
    const answered = await inflight;
    expect(answered.status).toBe(200);
    // drained means the request was done by then
    expect(answered.at).toBeLessThanOrEqual(doneAt);
  });
});
