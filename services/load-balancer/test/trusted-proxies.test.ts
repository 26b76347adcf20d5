// TRUSTED_PROXIES on real sockets: the real balancer in front of an echo backend. A client
// that writes X-Forwarded-For/-Proto/-Host itself is overwritten unless its address is in
// TRUSTED_PROXIES (default: nobody), so a client cannot pass as another address or as https.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoServer, type RunningLb, startLb, type TestServer, waitHealthy } from './lb-fixtures.js';

let echo: TestServer;
beforeAll(async () => {
  echo = await echoServer('echo');
});
afterAll(async () => {
  await echo?.close();
});

/** What the backend received, for a request sent from 127.0.0.1 with forged forwarding headers. */
function forged(proxy: string): Promise<Record<string, string | undefined>> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${proxy}/who`,
      {
        headers: {
          host: 'app.test',
          'x-forwarded-for': '6.6.6.6',
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'bank.test',
          forwarded: 'for=6.6.6.6',
        },
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => resolve((JSON.parse(body) as { headers: Record<string, string> }).headers));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('TRUSTED_PROXIES (real balancer)', () => {
  let lb: RunningLb | undefined;
  afterAll(async () => {
    await lb?.stop();
  });

  it.each([
    [
      'unset: a client’s forwarding headers are overwritten',
      {},
      {
        'x-forwarded-for': '127.0.0.1',
        'x-forwarded-proto': 'http',
        'x-forwarded-host': 'app.test',
        forwarded: undefined,
      },
    ],
    [
      'another network trusted: still overwritten',
      { TRUSTED_PROXIES: '10.0.0.0/8' },
      {
        'x-forwarded-for': '127.0.0.1',
        'x-forwarded-proto': 'http',
      },
    ],
    [
      'the client’s address trusted: kept, the client appended',
      { TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.0/8' },
      {
        'x-forwarded-for': '6.6.6.6, 127.0.0.1',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'bank.test',
        forwarded: 'for=6.6.6.6',
      },
    ],
  ] as Array<[string, Record<string, string>, Record<string, string | undefined>]>)(
    '%s',
    async (_name, env, want) => {
      await lb?.stop();
      lb = await startLb({ BACKENDS: echo.url, METRICS_SOURCE: 'none', ...env });
      await waitHealthy(lb.admin, 1);
      const seen = await forged(lb.proxy);
      for (const [k, v] of Object.entries(want)) expect(seen[k], k).toBe(v);
    },
  );
});
