// The stress backend's contract over real HTTP, against the real server process.
import { spawnSync } from 'node:child_process';
import { cpuStateSchema, identitySchema, loadResponseSchema, memoryStateSchema } from '@headroom/shared';
import { type RunningBackend, runUntilExit, startBackend, waitFor } from '@headroom/testkit';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let be: RunningBackend;

beforeAll(async () => {
  be = await startBackend({ instance: 'contract-1', env: { MEMORY_CAP_MB: '64' } });
});
afterAll(async () => {
  await be?.stop();
});

const json = async (path: string, init?: RequestInit) => {
  const res = await fetch(`${be.url}${path}`, init);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
};
const post = (path: string, body?: unknown) =>
  json(path, {
    method: 'POST',
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });

function cpuSeconds(metrics: string): number {
  const m = /^process_cpu_seconds_total(?:\{[^}]*\})? ([0-9.e+-]+)$/m.exec(metrics);
  if (!m) throw new Error('process_cpu_seconds_total missing');
  return Number(m[1]);
}

describe('stress backend over HTTP', () => {
  it('GET / answers its identity', async () => {
    const { status, body, headers } = await json('/');
    expect(status).toBe(200);
    const id = identitySchema.parse(body);
    expect(id.instance).toBe('contract-1');
    expect(id.pid).toBe(be.child.pid);
    expect(headers.get('x-backend-instance')).toBe('contract-1');
  });

  it('GET /load spends real CPU on the request path', async () => {
    const before = cpuSeconds(await (await fetch(`${be.url}/metrics`)).text());
    const { status, body } = await json('/load?ms=300');
    expect(status).toBe(200);
    const load = loadResponseSchema.parse(body);
    expect(load.requestedMs).toBe(300);
    expect(load.elapsedMs).toBeGreaterThanOrEqual(295);
    const after = cpuSeconds(await (await fetch(`${be.url}/metrics`)).text());
    expect(after - before).toBeGreaterThanOrEqual(0.25);
  });

  it('GET /load defaults to 20 ms', async () => {
    expect(loadResponseSchema.parse((await json('/load')).body).requestedMs).toBe(20);
  });

  it.each(['0', '10001', 'abc', '1.5', '-3'])('GET /load?ms=%s is a 400 naming ms', async (ms) => {
    const { status, body } = await json(`/load?ms=${ms}`);
    expect(status).toBe(400);
    expect(String(body.message)).toContain('ms');
    expect(body.code).toBe('BACKEND_ERR_BAD_REQUEST');
  });

  it('the CPU burner turns on and off, and the server stays responsive meanwhile', async () => {
    const on = cpuStateSchema.parse((await post('/cpu/toggle', { on: true, cores: 1, duty: 1 })).body);
    expect(on).toMatchObject({ on: true, cores: 1, duty: 1 });
    expect(cpuStateSchema.parse((await json('/cpu')).body).on).toBe(true);
    const metrics = await (await fetch(`${be.url}/metrics`)).text();
    expect(metrics).toMatch(/headroom_backend_cpu_burner_active\{[^}]*\} 1/);
    // burning: process CPU grows by about one core-second per second
    const t0 = cpuSeconds(metrics);
    const start = Date.now();
    await waitFor(async () => Date.now() - start > 1000);
    const res = await fetch(`${be.url}/health`);
    expect(res.status).toBe(200);
    const t1 = cpuSeconds(await (await fetch(`${be.url}/metrics`)).text());
    expect((t1 - t0) / ((Date.now() - start) / 1000)).toBeGreaterThan(0.5);
    const off = cpuStateSchema.parse((await post('/cpu/toggle')).body);
    expect(off.on).toBe(false);
  });

  it.each([{ on: 'yes' }, { cores: 0 }, { duty: 2 }, { turbo: true }])(
    'POST /cpu/toggle %j is a 400',
    async (body) => {
      expect((await post('/cpu/toggle', body)).status).toBe(400);
      expect(cpuStateSchema.parse((await json('/cpu')).body).on).toBe(false);
    },
  );

  it('holds and frees memory under a cap', async () => {
    expect(memoryStateSchema.parse((await post('/memory', { mb: 32 })).body).heldMb).toBe(32);
    const over = await post('/memory', { mb: 40 });
    expect(over.status).toBe(400);
    expect(over.body.code).toBe('BACKEND_ERR_MEMORY_CAP');
    expect(memoryStateSchema.parse((await json('/memory')).body).heldMb).toBe(32);
    expect((await post('/memory', { mb: 'lots' })).status).toBe(400);
    const freed = await json('/memory', { method: 'DELETE' });
    expect(memoryStateSchema.parse(freed.body).heldMb).toBe(0);
  });

  it('unknown paths answer JSON 404', async () => {
    const { status, body } = await json('/nope');
    expect(status).toBe(404);
    expect(body.code).toBe('BACKEND_ERR_NOT_FOUND');
  });

  it('GET /metrics passes promtool check metrics', async () => {
    const text = await (await fetch(`${be.url}/metrics`)).text();
    expect(text).toContain('headroom_backend_requests_total');
    expect(text).toContain('headroom_backend_cpu_limit_cores');
    expect(text).toContain('headroom_backend_load_duration_seconds_bucket');
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text });
    expect(check.stderr.toString() + check.stdout.toString()).toBe('');
    expect(check.status).toBe(0);
  });
});

describe('SIGTERM', () => {
  it('turns health 503, finishes in-flight requests and exits 0 within the grace period', async () => {
    const b = await startBackend({ instance: 'shutdown-1', env: { SHUTDOWN_GRACE_MS: '5000' } });
    // one keep-alive connection opened before the signal, to ask /health during shutdown
    const observer = new Client(b.url, { pipelining: 0 });
    expect((await observer.request({ path: '/health', method: 'GET' })).statusCode).toBe(200);
    const inflight = new Client(b.url).request({ path: '/load?ms=1500', method: 'GET' });
    await waitFor(async () => /\/load/.test(await (await fetch(`${b.url}/metrics`)).text()) || undefined, {
      timeoutMs: 2000,
    }).catch(() => undefined);
    const started = Date.now();
    const stopped = b.stop(10_000);
    const health = await observer.request({ path: '/health', method: 'GET' });
    expect(health.statusCode).toBe(503);
    await health.body.dump();
    const res = await inflight;
    expect(res.statusCode).toBe(200);
    expect(loadResponseSchema.parse(await res.body.json()).requestedMs).toBe(1500);
    expect(await stopped).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(fetch(`${b.url}/health`)).rejects.toThrow();
    await observer.destroy();
  });
});

describe('pnpm --dir services/backend start', () => {
  it('exits with one line per bad variable on invalid config', async () => {
    const out = await runUntilExit('backend', { PORT: 'eighty', MEMORY_CAP_MB: '-1' });
    expect(out.code).toBe(1);
    const err = out.output;
    expect(err).toContain('PORT="eighty": expected a TCP port');
    expect(err).toContain('MEMORY_CAP_MB="-1"');
  });
});
