// Routes and per-service pools through the real balancer process (static backends naming
// their service and routes in BACKENDS): host and path in, the right app out; the catch-all;
// a stripped prefix with X-Forwarded-Prefix; 404 LB_ERR_NO_ROUTE, never forwarded.
import { request } from 'node:http';
import { connect } from 'node:net';
import type { ServiceSummary } from '@headroom/shared';
import { waitFor } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoServer, type RunningLb, startLb, type TestServer, waitHealthy } from './lb-fixtures.js';

interface Echo {
  name: string;
  url: string;
  headers: Record<string, string>;
}

/**
 * fetch() may not set Host: node:http does. The path goes as `path`, byte for byte: a URL
 * string would be parsed first, which removes its dot segments before they are sent.
 */
function get(lb: RunningLb, host: string, path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(lb.proxy);
    const req = request({ hostname, port, path, headers: { host } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('routes by host and path, one pool per service', () => {
  let shop1: TestServer;
  let shop2: TestServer;
  let api: TestServer;
  let web: TestServer;
  let lb: RunningLb;
  beforeAll(async () => {
    [shop1, shop2, api, web] = await Promise.all([
      echoServer('shop-1'),
      echoServer('shop-2'),
      echoServer('api'),
      echoServer('web'),
    ]);
    lb = await startLb({
      BALANCER_MODE: 'round-robin',
      METRICS_SOURCE: 'none',
      BACKENDS: [
        `${shop1.url}#service=shop&host=shop.localhost&host=*.shop.localhost`,
        `${shop2.url}#service=shop&host=shop.localhost&host=*.shop.localhost`,
        `${api.url}#service=api&path=/api&strip=true`,
        `${web.url}#service=web`,
      ].join(','),
    });
    await waitHealthy(lb.admin, 4);
  });
  afterAll(async () => {
    await lb?.stop();
    await Promise.all([shop1, shop2, api, web].map((s) => s?.close()));
  });

  it.each([
    ['shop.localhost', '/', /^shop-/],
    ['SHOP.localhost:8080', '/cart', /^shop-/],
    ['eu.shop.localhost', '/', /^shop-/],
    ['other.localhost', '/api', /^api$/],
    ['other.localhost', '/api/items?x=1', /^api$/],
    ['other.localhost', '/apix', /^web$/],
    ['other.localhost', '/', /^web$/],
    ['a.b.shop.localhost', '/', /^web$/],
    // matched on the normalised path (routing/request-path.ts): what the backend will serve
    ['other.localhost', '/api/../admin', /^web$/],
    ['other.localhost', '/api/%2e%2e/admin', /^web$/],
    ['other.localhost', '/%61pi/items', /^api$/],
  ])('%s %s → %s', async (host, path, app) => {
    const r = await get(lb, host, path);
    expect(r.status).toBe(200);
    expect((r.body as Echo).name).toMatch(app);
  });

  it('a service balances over its own backends only', async () => {
    const seen = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const name = ((await get(lb, 'shop.localhost', '/')).body as Echo).name;
      seen.set(name, (seen.get(name) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual(['shop-1', 'shop-2']);
    expect(seen.get('shop-1')).toBe(20);
  });

  it('lb.path.strip: the backend sees the path without the prefix, and X-Forwarded-Prefix', async () => {
    const r = (await get(lb, 'x', '/api/items?x=1')).body as Echo;
    expect(r.url).toBe('/items?x=1');
    expect(r.headers['x-forwarded-prefix']).toBe('/api');
    expect(((await get(lb, 'x', '/api')).body as Echo).url).toBe('/');
  });

  it('the backend receives the normalised path it was routed on; the query untouched', async () => {
    expect(((await get(lb, 'x', '/%61pi/./%69tems/../list?x=/../%2e')).body as Echo).url).toBe(
      '/list?x=/../%2e',
    );
    expect(((await get(lb, 'x', '/api/../admin?y=1')).body as Echo).url).toBe('/admin?y=1');
  });

  it('a malformed escape in the path gets 400 LB_ERR_INVALID_PATH', async () => {
    const r = await get(lb, 'x', '/api/%zz');
    expect(r.status).toBe(400);
    expect((r.body as { code: string }).code).toBe('LB_ERR_INVALID_PATH');
  });

  it('an Upgrade (WebSocket) request is routed and forwarded on the normalised path too', async () => {
    const port = Number(new URL(lb.proxy).port);
    // a raw socket: what comes back is either the balancer's own answer (it closes) or the
    // backend's through the tunnel (chunked: read to its last chunk)
    const upgrade = (path: string) =>
      new Promise<{ status: number; raw: string }>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        let raw = '';
        const done = () => {
          socket.destroy();
          resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0), raw });
        };
        socket.setTimeout(5000, () => reject(new Error(`no answer in time; got ${raw}`)));
        socket.on('data', (d: Buffer) => {
          raw += d.toString('latin1');
          if (raw.endsWith('\r\n0\r\n\r\n')) done();
        });
        socket.on('close', done);
        socket.on('error', reject);
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
            'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        );
      });
    const bad = await upgrade('/api/%zz');
    expect(bad.status).toBe(400);
    expect(bad.raw).toContain('LB_ERR_INVALID_PATH');
    // the echo backends do not speak WebSocket: they answer the handshake as a plain request
    const ok = await upgrade('/api/%2e%2e/%61pi/x');
    expect(ok.status, ok.raw.slice(0, 300)).toBe(200);
    expect(ok.raw).toContain('"name":"api"');
    expect(ok.raw).toContain('"url":"/x"');
  });
});

describe('no route', () => {
  let app: TestServer;
  let lb: RunningLb;
  beforeAll(async () => {
    app = await echoServer('only');
    lb = await startLb({ METRICS_SOURCE: 'none', BACKENDS: `${app.url}#service=only&host=only.localhost` });
    await waitHealthy(lb.admin, 1);
  });
  afterAll(async () => {
    await lb?.stop();
    await app?.close();
  });

  it('an unknown host gets 404 LB_ERR_NO_ROUTE naming the host and path, and nothing is forwarded', async () => {
    const before = await fetch(`${lb.admin}/api/backends`).then(
      (r) => r.json() as Promise<{ backends: Array<{ requests: number }> }>,
    );
    const res = await get(lb, 'nobody.localhost', '/some/where?q=1');
    expect(res.status).toBe(404);
    const body = res.body as { code: string; message: string };
    expect(body.code).toBe('LB_ERR_NO_ROUTE');
    expect(body.message).toContain('"nobody.localhost"');
    expect(body.message).toContain('"/some/where"');
    const after = await fetch(`${lb.admin}/api/backends`).then(
      (r) => r.json() as Promise<{ backends: Array<{ requests: number }> }>,
    );
    expect(after.backends[0]!.requests).toBe(before.backends[0]!.requests);
    expect((await get(lb, 'only.localhost', '/')).status).toBe(200);
  });
});

describe('admin: services', () => {
  const TOKEN = 'routes-test-token';
  let a: TestServer;
  let b: TestServer;
  let lb: RunningLb;
  beforeAll(async () => {
    [a, b] = await Promise.all([echoServer('a'), echoServer('b')]);
    lb = await startLb({
      METRICS_SOURCE: 'none',
      ADMIN_TOKEN: TOKEN,
      BALANCER_MODE: 'round-robin',
      BACKENDS: `${a.url}#service=alpha&host=alpha.localhost,${b.url}#service=beta&path=/beta&strip=true`,
    });
    await waitHealthy(lb.admin, 2);
  });
  afterAll(async () => {
    await lb?.stop();
    await Promise.all([a?.close(), b?.close()]);
  });
  const put = (path: string, body: unknown, token?: string) =>
    fetch(`${lb.admin}${path}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  const services = async () =>
    ((await (await fetch(`${lb.admin}/api/services`)).json()) as { services: ServiceSummary[] }).services;

  it('GET /api/services: each service with its routes, mode, state and backends', async () => {
    const list = await services();
    const byName = new Map(list.map((s) => [s.name, s]));
    expect(byName.get('alpha')).toMatchObject({
      routes: [{ host: 'alpha.localhost', path: '/', strip: false }],
      mode: 'round-robin',
      state: 'awake',
      backends: 1,
      healthy: 1,
    });
    expect(byName.get('beta')).toMatchObject({
      routes: [{ host: '', path: '/beta', strip: true }],
      backends: 1,
    });
  });

  it('GET /api/backends?service= lists that service only', async () => {
    const r = (await (await fetch(`${lb.admin}/api/backends?service=beta`)).json()) as {
      backends: Array<{ name: string; service: string }>;
    };
    expect(r.backends.map((x) => x.service)).toEqual(['beta']);
  });

  it('PUT /api/services/:name/mode switches one service; bad input 400 with details; token required', async () => {
    expect((await put('/api/services/alpha/mode', { mode: 'latency' })).status).toBe(401);
    const bad = await put('/api/services/alpha/mode', { mode: 'fastest' }, TOKEN);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { details?: unknown }).details).toBeDefined();
    expect((await put('/api/services/nope/mode', { mode: 'latency' }, TOKEN)).status).toBe(404);
    expect((await put('/api/services/alpha/mode', { mode: 'latency' }, TOKEN)).status).toBe(200);
    const modes = new Map((await services()).map((s) => [s.name, s.mode]));
    expect(modes.get('alpha')).toBe('latency');
    expect(modes.get('beta')).toBe('round-robin');
    // PUT /api/mode still sets every service
    expect((await put('/api/mode', { mode: 'least-connections' }, TOKEN)).status).toBe(200);
    expect(new Set((await services()).map((s) => s.mode))).toEqual(new Set(['least-connections']));
  });
});

describe('ACCESS_LOG', () => {
  let app: TestServer;
  let lb: RunningLb;
  beforeAll(async () => {
    app = await echoServer('logged');
    lb = await startLb({
      METRICS_SOURCE: 'none',
      ACCESS_LOG: 'json',
      BACKENDS: `${app.url}#service=logged&host=logged.localhost`,
    });
    await waitHealthy(lb.admin, 1);
  });
  afterAll(async () => {
    await lb?.stop();
    await app?.close();
  });

  it('json: one line per request with service, backend, status, duration, bytes and retries', async () => {
    const ok = await get(lb, 'logged.localhost', '/some/path?x=1');
    expect(ok.status).toBe(200);
    expect((await get(lb, 'nobody.localhost', '/')).status).toBe(404);
    const lines = () =>
      lb.proc
        .output()
        .split('\n')
        .filter((l) => l.includes('"duration_ms"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    await waitFor(() => lines().length >= 2, { timeoutMs: 5000, message: 'two access log lines' });
    const [served, unrouted] = lines();
    expect(served).toMatchObject({
      service: 'logged',
      method: 'GET',
      path: '/some/path?x=1',
      status: 200,
      retries: 0,
    });
    expect(served!.backend).toMatch(/^s-/);
    expect(served!.bytes).toBeGreaterThan(0);
    expect(served!.duration_ms).toBeGreaterThan(0);
    expect(unrouted).toMatchObject({ service: '', backend: '', status: 404, host: 'nobody.localhost' });
  });
});
