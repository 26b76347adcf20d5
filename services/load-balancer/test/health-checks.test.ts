// Active health checks on real sockets: the prober against real HTTP servers and a closed
// port. Without a health path a backend is checked by a TCP connect, so an app without
// /health (a default nginx answers 404 there) is up; lb.health.path with lb.health.status
// makes it an HTTP check judged by the status ranges.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@headroom/shared';
import { freePort, waitFor } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpProber } from '../src/health/http-prober.js';
import type { BackendSpec } from '../src/model/backend-spec.js';

const logger = createLogger({ service: 'test', level: 'silent' });

function serve(status: number): Promise<Server> {
  const s = createServer((_req, res) => {
    res.statusCode = status;
    res.end();
  });
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r(s)));
}
const urlOf = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;

function spec(id: string, url: string, health: Partial<BackendSpec> = {}): BackendSpec {
  return { id, url, name: id, service: '', source: 'static', sticky: { kind: 'none' }, ...health };
}

let answers404: Server;
let answers503: Server;
let closedPort: number;

beforeAll(async () => {
  answers404 = await serve(404);
  answers503 = await serve(503);
  closedPort = await freePort(); // free: nothing listens there
});
afterAll(() => {
  answers404.close();
  answers503.close();
});

/** Runs the prober over the specs until each has reported; the last result per id. */
async function probeAll(
  specs: BackendSpec[],
): Promise<Map<string, { ok: boolean; reason?: string | undefined }>> {
  const seen = new Map<string, { ok: boolean; reason?: string | undefined }>();
  const prober = new HttpProber(
    { intervalMs: 200, timeoutMs: 1000 },
    (id, ok, reason) => seen.set(id, { ok, reason }),
    logger,
  );
  try {
    prober.update(specs);
    await waitFor(() => specs.every((s) => seen.has(s.id)), {
      timeoutMs: 5000,
      message: 'every backend probed',
    });
  } finally {
    await prober.stop();
  }
  return seen;
}

describe('health checks on real sockets', () => {
  it('TCP default: a server answering 404 on /health is up; a closed port is down', async () => {
    const r = await probeAll([
      spec('nginx-like', urlOf(answers404)),
      spec('closed', `http://127.0.0.1:${closedPort}`),
    ]);
    expect(r.get('nginx-like')).toEqual({ ok: true, reason: undefined });
    expect(r.get('closed')?.ok).toBe(false);
    expect(r.get('closed')?.reason).toBe('ECONNREFUSED');
  });

  it('HTTP check with status 200-499: a 404 is up and a 503 is down', async () => {
    const r = await probeAll([
      spec('404', urlOf(answers404), { healthPath: '/health', healthStatus: '200-499' }),
      spec('503', urlOf(answers503), { healthPath: '/health', healthStatus: '200-499' }),
    ]);
    expect(r.get('404')?.ok).toBe(true);
    expect(r.get('503')).toEqual({ ok: false, reason: 'HTTP 503 (up: 200-499)' });
  });

  it('HTTP check with the default statuses (200-399): a 404 is down', async () => {
    const r = await probeAll([spec('404', urlOf(answers404), { healthPath: '/health' })]);
    expect(r.get('404')).toEqual({ ok: false, reason: 'HTTP 404 (up: 200-399)' });
  });
});
