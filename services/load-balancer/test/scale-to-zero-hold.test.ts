// Scale to zero (issue #19), the balancer half, over real HTTP: the real balancer process,
// a small node:http stand-in for the autoscaler's POST /api/wake (it records the calls and,
// when told to, "starts a replica" by registering a real backend with the balancer), and
// real node:http backends.
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { backendListSchema } from '@headroom/shared';
import { waitFor } from '@headroom/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { echoServer, type RunningLb, startLb, type TestServer } from './lb-fixtures.js';

interface FakeAutoscaler {
  url: string;
  calls: Array<{ held: number; auth: string | undefined }>;
  /** What a wake call does (besides answering 200). */
  onWake: () => void;
  close(): Promise<void>;
}

async function fakeAutoscaler(): Promise<FakeAutoscaler> {
  const fake: FakeAutoscaler = { url: '', calls: [], onWake: () => undefined, close: async () => undefined };
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/api/wake') {
        fake.calls.push({
          held: (JSON.parse(body) as { held: number }).held,
          auth: req.headers.authorization,
        });
        fake.onWake();
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return fake;
}

const TOKEN = 'hold-test-token';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

let lb: RunningLb | undefined;
let autoscaler: FakeAutoscaler | undefined;
let backend: TestServer | undefined;

afterEach(async () => {
  await lb?.stop();
  await autoscaler?.close();
  await backend?.close();
  lb = autoscaler = backend = undefined;
});

async function sleepingLb(env: Record<string, string> = {}): Promise<RunningLb> {
  autoscaler = await fakeAutoscaler();
  lb = await startLb({ BACKENDS: '', WAKE_URL: autoscaler.url, ADMIN_TOKEN: TOKEN, ...env });
  const r = await fetch(`${lb.admin}/api/service/state`, {
    method: 'PUT',
    headers: auth,
    body: JSON.stringify({ state: 'sleeping', reason: 'idle 300 s' }),
  });
  expect(r.status).toBe(200);
  expect(((await r.json()) as { state: string }).state).toBe('sleeping');
  return lb;
}

/** PUT /api/service/state, as the autoscaler announces a sleep or aborts it. */
function putServiceState(admin: string, state: string): Promise<Response> {
  return fetch(`${admin}/api/service/state`, {
    method: 'PUT',
    headers: auth,
    body: JSON.stringify({ state }),
  });
}

async function service(admin: string) {
  const list = backendListSchema.parse(await (await fetch(`${admin}/api/backends`)).json());
  if (!list.service) throw new Error('no service view');
  return list.service;
}

/** On a wake call, register one real backend (what the autoscaler starting a replica looks like to the balancer). */
function wakeStartsBackend(b: TestServer, running: RunningLb, a: FakeAutoscaler): void {
  let started = false;
  a.onWake = () => {
    if (started) return;
    started = true;
    void fetch(`${running.admin}/api/backends`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ url: b.url }),
    });
  };
}

describe('scale to zero: hold and wake', () => {
  it('a request to a sleeping service is held, wakes it, and is served once the backend passes health', async () => {
    const running = await sleepingLb();
    backend = await echoServer('woken');
    wakeStartsBackend(backend, running, autoscaler as FakeAutoscaler);
    const res = await fetch(`${running.proxy}/hello`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { name: string }).name).toBe('woken');
    expect(autoscaler?.calls[0]).toEqual({ held: 1, auth: `Bearer ${TOKEN}` });
    const s = await service(running.admin);
    expect(s.state).toBe('awake');
    expect(s.held).toBe(0);
    expect(s.lastRequestAt).not.toBeNull();
    const metrics = await (await fetch(`${running.admin}/metrics`)).text();
    expect(metrics).toMatch(/headroom_lb_service_state\{service="[^"]*",state="awake"\} 1/);
    // the service queue's own series: the held request waited there (cause hold), then a backend took it
    expect(metrics).toMatch(/headroom_lb_queue_wait_seconds_count\{service="default",cause="hold"\} 1/);
  });

  it('no backend and no known state (MIN_REPLICAS=0 before the autoscaler’s first tick): held and woken, not a 503', async () => {
    autoscaler = await fakeAutoscaler();
    // nothing announced, no sleep scan (static discovery), no backend
    const running = await startLb({ BACKENDS: '', WAKE_URL: autoscaler.url, ADMIN_TOKEN: TOKEN });
    lb = running;
    backend = await echoServer('first');
    wakeStartsBackend(backend, running, autoscaler);
    const res = await fetch(`${running.proxy}/first`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { name: string }).name).toBe('first');
    expect(autoscaler.calls[0]?.held).toBe(1);
    expect(running.proc.output()).not.toContain('LB_ERR_NO_BACKEND');
    const s = await service(running.admin);
    expect(s.state).toBe('awake');
  });

  it('a WebSocket upgrade for a service with no backend and no known state is held and asks for a wake too', async () => {
    autoscaler = await fakeAutoscaler();
    const a = autoscaler;
    const running = await startLb({ BACKENDS: '', WAKE_URL: a.url, ADMIN_TOKEN: TOKEN });
    lb = running;
    const { port } = new URL(running.proxy);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    try {
      await new Promise<void>((r) => socket.once('connect', () => r()));
      socket.write(
        'GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      );
      // held (not a 503) and the wake asked for, as for a plain request
      await waitFor(() => a.calls.length === 1, { timeoutMs: 5_000, message: 'a wake call for the upgrade' });
      expect(a.calls[0]?.held).toBe(1);
      expect((await service(running.admin)).state).toBe('waking');
    } finally {
      socket.destroy();
    }
  });

  it('held by the default catch-all, then handed to the named service the wake registered: that service’s last request', async () => {
    // a one-service set-up without LB_SERVICE: the autoscaler (SERVICE=web) registers its
    // replica under its name, which takes over the catch-all; the held request moves with it
    autoscaler = await fakeAutoscaler();
    const running = await startLb({ BACKENDS: '', WAKE_URL: autoscaler.url, ADMIN_TOKEN: TOKEN });
    lb = running;
    const b = await echoServer('web-1');
    backend = b;
    autoscaler.onWake = () =>
      void fetch(`${running.admin}/api/backends`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ url: b.url, name: 'web-1', service: 'web' }),
      });
    const t0 = Date.now();
    const res = await fetch(`${running.proxy}/first`);
    expect(res.status).toBe(200);
    const list = backendListSchema.parse(
      await (await fetch(`${running.admin}/api/backends?service=web`)).json(),
    );
    // the autoscaler's idle window counts from here: null read as "never used" before the fix
    expect(list.service?.name).toBe('web');
    expect(list.service?.lastRequestAt ?? 0).toBeGreaterThanOrEqual(t0);
  });

  it('several services: GET /api/backends lists each one’s sleep view, so an autoscaler of several sees which sleeps', async () => {
    const running = await sleepingLb();
    const web = await echoServer('web-1');
    backend = web;
    await fetch(`${running.admin}/api/backends`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ url: web.url, name: 'api-1', service: 'api' }),
    });
    const put = await fetch(`${running.admin}/api/service/state`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ service: 'web', state: 'sleeping', reason: 'idle 4 s' }),
    });
    expect(put.status).toBe(200);
    const list = backendListSchema.parse(await (await fetch(`${running.admin}/api/backends`)).json());
    const states = Object.fromEntries((list.services ?? []).map((s) => [s.name, s.state]));
    expect(states).toMatchObject({ web: 'sleeping', api: 'awake' });
  });

  it('without hold-and-wake configured, no backend is still a 503 at once', async () => {
    const running = await startLb({ BACKENDS: '' });
    lb = running;
    const res = await fetch(`${running.proxy}/x`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { code: string }).code).toBe('LB_ERR_NO_BACKEND');
  });

  it('50 concurrent held clients all succeed, in one wake', async () => {
    const running = await sleepingLb();
    backend = await echoServer('woken');
    const a = autoscaler as FakeAutoscaler;
    // wake only once all 50 are held, so every one of them goes through the queue
    a.onWake = () => undefined;
    const all = Array.from({ length: 50 }, (_, i) => fetch(`${running.proxy}/r${i}`).then((r) => r.status));
    await waitFor(async () => (await service(running.admin)).held === 50, {
      timeoutMs: 10_000,
      message: '50 held',
    });
    expect((await service(running.admin)).state).toBe('waking');
    // the held count is a scaling signal: the autoscaler hears the grown count (rate-limited)
    await waitFor(async () => a.calls.some((c) => c.held === 50), {
      timeoutMs: 5_000,
      message: 'wake with held 50',
    });
    expect(a.calls[0]?.held).toBe(1);
    expect(a.calls.length).toBeLessThanOrEqual(10);
    await fetch(`${running.admin}/api/backends`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ url: backend.url }),
    });
    expect(await Promise.all(all)).toEqual(Array(50).fill(200));
  });

  it('deadline passed: 503 with Retry-After, and the client does not hang', async () => {
    const running = await sleepingLb({ HOLD_TIMEOUT_MS: '500' });
    const res = await fetch(`${running.proxy}/x`, { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(((await res.json()) as { code: string }).code).toBe('LB_ERR_HOLD_TIMEOUT');
    expect((await service(running.admin)).held).toBe(0);
  });

  it('queue full: 503 with Retry-After at once', async () => {
    const running = await sleepingLb({ HOLD_MAX_REQUESTS: '2' });
    const held = [
      fetch(`${running.proxy}/a`).catch(() => null),
      fetch(`${running.proxy}/b`).catch(() => null),
    ];
    await waitFor(async () => (await service(running.admin)).held === 2, {
      timeoutMs: 10_000,
      message: '2 held',
    });
    const res = await fetch(`${running.proxy}/c`, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).not.toBeNull();
    expect(((await res.json()) as { code: string }).code).toBe('LB_ERR_HOLD_FULL');
    await running.stop();
    await Promise.all(held);
  });

  it('a client that leaves while held is removed from the queue', async () => {
    const running = await sleepingLb();
    const req = httpRequest(`${running.proxy}/gone`);
    req.on('error', () => undefined);
    req.end();
    await waitFor(async () => (await service(running.admin)).held === 1, {
      timeoutMs: 10_000,
      message: '1 held',
    });
    req.destroy();
    await waitFor(async () => (await service(running.admin)).held === 0, {
      timeoutMs: 10_000,
      message: 'removed',
    });
    const metrics = await (await fetch(`${running.admin}/metrics`)).text();
    expect(metrics).toMatch(
      /headroom_lb_queue_shed_total\{service="default",cause="hold",reason="client-gone"\} 1/,
    );
  });

  it('a held request keeps its body unread until released, then the backend gets all of it', async () => {
    const running = await sleepingLb();
    backend = await echoServer('woken');
    wakeStartsBackend(backend, running, autoscaler as FakeAutoscaler);
    const body = 'x'.repeat(100_000);
    const res = await fetch(`${running.proxy}/upload`, { method: 'POST', body });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { size: number }).size).toBe(body.length);
  });

  it('browsers get the opt-in waiting page', async () => {
    const running = await sleepingLb({ HOLD_HTML_PAGE: 'true' });
    const res = await fetch(`${running.proxy}/`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('http-equiv="refresh"');
    await waitFor(async () => (autoscaler?.calls.length ?? 0) > 0, {
      timeoutMs: 5_000,
      message: 'wake call',
    });
  });

  it('a sleep announced while a replica still runs holds new requests; an aborted sleep releases them to it', async () => {
    backend = await echoServer('kept');
    autoscaler = await fakeAutoscaler();
    const running = await startLb({ BACKENDS: backend.url, WAKE_URL: autoscaler.url, ADMIN_TOKEN: TOKEN });
    lb = running;
    await waitFor(async () => (await fetch(`${running.proxy}/`)).status === 200, { timeoutMs: 10_000 });
    const put = (state: string) => putServiceState(running.admin, state);
    expect((await put('sleeping')).status).toBe(200);
    const pending = fetch(`${running.proxy}/during-drain`);
    await waitFor(async () => (await service(running.admin)).held === 1, {
      timeoutMs: 10_000,
      message: 'held',
    });
    expect((await put('awake')).status).toBe(200);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { name: string }).name).toBe('kept');
  });

  it('held for a wake, then awake with no backend left (the aborted sleep kept none): held requests ask a new wake and are served', async () => {
    backend = await echoServer('stopped');
    autoscaler = await fakeAutoscaler();
    const a = autoscaler;
    // the deadline a stranded request would wait out without the new wake
    const running = await startLb({
      BACKENDS: '',
      WAKE_URL: a.url,
      ADMIN_TOKEN: TOKEN,
      HOLD_TIMEOUT_MS: '8000',
      LOG_LEVEL: 'info',
    });
    lb = running;
    const register = (url: string) =>
      fetch(`${running.admin}/api/backends`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ url }),
      });
    await register(backend.url);
    await waitFor(async () => (await fetch(`${running.proxy}/`)).status === 200, { timeoutMs: 10_000 });
    const put = (state: string) => putServiceState(running.admin, state);
    expect((await put('sleeping')).status).toBe(200);
    const held = fetch(`${running.proxy}/stranded`, { signal: AbortSignal.timeout(20_000) });
    await waitFor(async () => (await service(running.admin)).held === 1, {
      timeoutMs: 10_000,
      message: 'held',
    });
    await waitFor(() => a.calls.length === 1, { timeoutMs: 5_000, message: 'the first wake' });
    // the sleep's replica goes away, then the autoscaler aborts the sleep: awake, no backend
    const list = backendListSchema.parse(await (await fetch(`${running.admin}/api/backends`)).json());
    await fetch(`${running.admin}/api/backends/${encodeURIComponent(list.backends[0]!.id)}`, {
      method: 'DELETE',
      headers: { authorization: auth.authorization },
    });
    await waitFor(
      async () =>
        backendListSchema.parse(await (await fetch(`${running.admin}/api/backends`)).json()).backends
          .length === 0,
      { timeoutMs: 10_000, message: 'backend removed' },
    );
    const woken = await echoServer('woken-again');
    a.onWake = () => void register(woken.url);
    try {
      const started = Date.now();
      expect((await put('awake')).status).toBe(200);
      const res = await held;
      // served by the replica the new wake started, well before HOLD_TIMEOUT_MS (8 s)
      expect(res.status).toBe(200);
      expect(((await res.json()) as { name: string }).name).toBe('woken-again');
      expect(Date.now() - started).toBeLessThan(6_000);
      expect(a.calls).toHaveLength(2);
      expect(a.calls[1]?.held).toBe(1);
      // the state change is logged with its reason
      expect(running.proc.output()).toMatch(/"to":"waking","code":"HeldWithoutBackend"/);
    } finally {
      await woken.close();
    }
  });

  it('shutdown answers held requests at once (503), not after the grace period', async () => {
    const running = await sleepingLb({ SHUTDOWN_GRACE_MS: '30000' });
    const pending = fetch(`${running.proxy}/held`);
    await waitFor(async () => (await service(running.admin)).held === 1, {
      timeoutMs: 10_000,
      message: 'held',
    });
    const stopped = running.stop();
    const res = await pending;
    expect(res.status).toBe(503);
    expect(((await res.json()) as { code: string }).code).toBe('LB_ERR_HOLD_SHUTDOWN');
    expect(await stopped).toBe(0);
    lb = undefined;
  });

  it('PUT /api/service/state: bad body is a 400 with details; no token is a 401', async () => {
    const running = await sleepingLb();
    const bad = await fetch(`${running.admin}/api/service/state`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ state: 'napping' }),
    });
    expect(bad.status).toBe(400);
    const err = (await bad.json()) as { code: string; details: unknown[] };
    expect(err.code).toBe('LB_ERR_VALIDATION');
    expect(err.details.length).toBeGreaterThan(0);
    const noToken = await fetch(`${running.admin}/api/service/state`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ state: 'awake' }),
    });
    expect(noToken.status).toBe(401);
    const awake = await fetch(`${running.admin}/api/service/state`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ state: 'awake' }),
    });
    expect(((await awake.json()) as { state: string }).state).toBe('awake');
  });
});
