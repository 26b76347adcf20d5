// ADMIN_READS_NEED_TOKEN on the real balancer: with it, reads of the admin API (backend
// addresses, stats, events) and /metrics need the bearer token too; /healthz and /api/info
// stay open. Without it (the default) reads stay open, as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoServer, type RunningLb, startLb, type TestServer } from './lb-fixtures.js';

const TOKEN = 'reads-secret-token';
let echo: TestServer;
beforeAll(async () => {
  echo = await echoServer('echo');
});
afterAll(async () => {
  await echo?.close();
});

const PATHS = ['/api/backends', '/api/stats', '/api/events', '/api/stats/history', '/metrics'];

async function status(lb: RunningLb, path: string, token?: string): Promise<number> {
  const res = await fetch(
    `${lb.admin}${path}`,
    token ? { headers: { authorization: `Bearer ${token}` } } : {},
  );
  await res.arrayBuffer();
  return res.status;
}

describe('admin reads and the token (real balancer)', () => {
  it('ADMIN_READS_NEED_TOKEN=true: reads need the token; /healthz and /api/info stay open', async () => {
    const lb = await startLb({
      BACKENDS: echo.url,
      METRICS_SOURCE: 'none',
      ADMIN_TOKEN: TOKEN,
      ADMIN_READS_NEED_TOKEN: 'true',
    });
    try {
      for (const path of PATHS) {
        expect(await status(lb, path), `${path} without a token`).toBe(401);
        expect(await status(lb, path, 'wrong'), `${path} with a wrong token`).toBe(401);
        expect(await status(lb, path, TOKEN), `${path} with the token`).toBe(200);
      }
      const body = (await (await fetch(`${lb.admin}/api/backends`)).json()) as { code: string };
      expect(body.code).toBe('LB_ERR_UNAUTHORIZED');
      expect(await status(lb, '/healthz')).toBe(200);
      expect(await status(lb, '/api/info')).toBe(200);
    } finally {
      await lb.stop();
    }
  });

  it('default: with a token, reads stay open and changes need it', async () => {
    const lb = await startLb({ BACKENDS: echo.url, METRICS_SOURCE: 'none', ADMIN_TOKEN: TOKEN });
    try {
      for (const path of PATHS) expect(await status(lb, path), path).toBe(200);
      const put = await fetch(`${lb.admin}/api/mode`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ mode: 'round-robin' }),
      });
      expect(put.status).toBe(401);
    } finally {
      await lb.stop();
    }
  });

  it('refuses ADMIN_READS_NEED_TOKEN without a token at start', async () => {
    await expect(startLb({ ADMIN_READS_NEED_TOKEN: 'true' })).rejects.toThrow(/ADMIN_READS_NEED_TOKEN/);
  });
});
