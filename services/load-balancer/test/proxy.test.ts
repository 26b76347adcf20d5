// The balancer as a user runs it, over real HTTP: real stress backends and small
// purpose-built servers behind the real balancer process.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import {
  BALANCER_MODES,
  backendListSchema,
  historySchema,
  LB_METRICS,
  modeResponseSchema,
  statsSchema,
} from '@headroom/shared';
import { freePort, type RunningBackend, runUntilExit, startBackend, waitFor } from '@headroom/testkit';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import {
  blackHoleServer,
  crashServer,
  echoServer,
  type RunningLb,
  startLb,
  type TestServer,
  waitHealthy,
} from './lb-fixtures.js';

let backends: RunningBackend[] = [];
let lb: RunningLb;

beforeAll(async () => {
  backends = await Promise.all([1, 2, 3].map((i) => startBackend({ instance: `proxy-be-${i}` })));
  lb = await startLb({
    BACKENDS: backends.map((b) => b.url).join(','),
    METRICS_SOURCE: 'backend',
    METRICS_INTERVAL_MS: '250',
  });
  await waitHealthy(lb.admin, 3);
});
afterAll(async () => {
  await lb?.stop();
  await Promise.all(backends.map((b) => b.stop()));
});

const put = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
const post = (url: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe('balancing over real backends', () => {
  it.each(BALANCER_MODES)('%s reaches every backend', async (mode) => {
    expect((await put(`${lb.admin}/api/mode`, { mode })).status).toBe(200);
    const seen = new Map<string, number>();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 15; i++) {
          const res = await fetch(`${lb.proxy}/load?ms=3`);
          expect(res.status).toBe(200);
          const who = res.headers.get('x-backend-instance')!;
          seen.set(who, (seen.get(who) ?? 0) + 1);
          await res.arrayBuffer();
        }
      }),
    );
    expect([...seen.keys()].sort()).toEqual(['proxy-be-1', 'proxy-be-2', 'proxy-be-3']);
  });

  it('switches modes under load without a failed request', async () => {
    let failures = 0;
    let done = 0;
    let running = true;
    const load = Array.from({ length: 6 }, async () => {
      while (running) {
        const res = await fetch(`${lb.proxy}/load?ms=2`);
        if (res.status !== 200) failures++;
        done++;
        await res.arrayBuffer();
      }
    });
    for (const mode of [...BALANCER_MODES, ...BALANCER_MODES]) {
      const res = await put(`${lb.admin}/api/mode`, { mode });
      expect(modeResponseSchema.parse(await res.json()).mode).toBe(mode);
      // requests served under each mode, counted rather than timed (a loaded machine is slow)
      const before = done;
      await waitFor(async () => done >= before + 3, { timeoutMs: 10_000 });
    }
    running = false;
    await Promise.all(load);
    expect(done).toBeGreaterThan(20);
    expect(failures).toBe(0);
  });

  it('reports backends, stats and history that match the shared contracts', async () => {
    const list = backendListSchema.parse(await (await fetch(`${lb.admin}/api/backends`)).json());
    expect(list.backends).toHaveLength(3);
    await waitFor(
      async () => {
        const l = backendListSchema.parse(await (await fetch(`${lb.admin}/api/backends`)).json());
        return l.backends.every((b) => b.cpu !== null && b.score !== null);
      },
      { timeoutMs: 5000, message: 'CPU from the backends /metrics' },
    );
    await waitFor(
      async () =>
        historySchema.parse(await (await fetch(`${lb.admin}/api/stats/history`)).json()).points.length > 0,
    );
    const stats = statsSchema.parse(await (await fetch(`${lb.admin}/api/stats`)).json());
    expect(stats.totals.requests).toBeGreaterThan(0);
  });

  it('forwards the CPU toggle to the backend', async () => {
    const id = backendListSchema.parse(await (await fetch(`${lb.admin}/api/backends`)).json()).backends[0]!;
    const on = await post(`${lb.admin}/api/backends/${id.id}/cpu/toggle`, { on: true, cores: 1 });
    expect(on.status).toBe(200);
    const be = backends.find((b) => b.url === id.url)!;
    expect(((await (await fetch(`${be.url}/cpu`)).json()) as { on: boolean }).on).toBe(true);
    // the state reads back through the balancer (a reloaded dashboard shows it)
    const state = await fetch(`${lb.admin}/api/backends/${id.id}/cpu`);
    expect(state.status).toBe(200);
    expect(((await state.json()) as { on: boolean }).on).toBe(true);
    expect((await fetch(`${lb.admin}/api/backends/no-such-backend/cpu`)).status).toBe(404);
    await post(`${lb.admin}/api/backends/${id.id}/cpu/toggle`, { on: false });
    expect(((await (await fetch(`${be.url}/cpu`)).json()) as { on: boolean }).on).toBe(false);
  });

  it('serves /metrics that pass promtool check metrics', async () => {
    const text = await (await fetch(`${lb.admin}/metrics`)).text();
    expect(text).toContain('headroom_lb_requests_total');
    expect(text).toContain('headroom_lb_backend_score');
    // docs/operations.md, Metrics: every series its table lists that needs no container, no
    // DOCKER_HOSTS and no TLS is exposed by a plain balancer from the start
    const documented = [
      LB_METRICS.requests,
      LB_METRICS.requestDuration,
      LB_METRICS.retries,
      LB_METRICS.upstreamErrors,
      LB_METRICS.backendTransitions,
      LB_METRICS.inFlight,
      LB_METRICS.backendHealthy,
      LB_METRICS.backendScore,
      LB_METRICS.backendCpu,
      LB_METRICS.backendMemory,
      LB_METRICS.backendWeight,
      LB_METRICS.backendEffectiveWeight,
      LB_METRICS.heldRequests,
      LB_METRICS.queueDepth,
      LB_METRICS.queueWait,
      LB_METRICS.queueShed,
      LB_METRICS.serviceState,
      LB_METRICS.backends,
      LB_METRICS.mode,
    ];
    const missing = documented.filter((name) => !new RegExp(`^# TYPE ${name} `, 'm').test(text));
    expect(missing).toEqual([]);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text });
    expect(check.stdout.toString() + check.stderr.toString()).toBe('');
    expect(check.status).toBe(0);
  });
});

describe('admin API input', () => {
  it.each([
    ['PUT', '/api/mode', '{"mode":"fastest"}', 400, 'LB_ERR_VALIDATION'],
    ['PUT', '/api/mode', '{"mode":', 400, 'LB_ERR_INVALID_JSON'],
    ['PUT', '/api/mode', '{"mode":1}', 400, 'LB_ERR_VALIDATION'],
    ['POST', '/api/backends', '{"url":"not a url"}', 400, 'LB_ERR_VALIDATION'],
    ['POST', '/api/backends', '{"url":"http://127.0.0.1:1","extra":true}', 400, 'LB_ERR_VALIDATION'],
    ['PUT', '/api/backends/nope/weight', '{"weight":2}', 404, 'LB_ERR_UNKNOWN_BACKEND'],
    ['POST', '/api/backends/nope/drain', '{}', 404, 'LB_ERR_UNKNOWN_BACKEND'],
    ['PUT', '/api/mode', JSON.stringify({ mode: 'x'.repeat(100_000) }), 413, 'LB_ERR_BODY_TOO_LARGE'],
  ])('%s %s (body #%#) → %i %s', async (method, path, body, status, code) => {
    const before = modeResponseSchema.parse(await (await fetch(`${lb.admin}/api/mode`)).json()).mode;
    const res = await fetch(`${lb.admin}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(status);
    const json = (await res.json()) as { code: string; message: string };
    expect(json.code).toBe(code);
    expect(json.message.length).toBeGreaterThan(0);
    expect(modeResponseSchema.parse(await (await fetch(`${lb.admin}/api/mode`)).json()).mode).toBe(before);
  });
});

describe('proxy semantics', () => {
  let echo: TestServer;
  let elb: RunningLb;
  beforeAll(async () => {
    echo = await echoServer('echo-1');
    elb = await startLb({ BACKENDS: echo.url, METRICS_SOURCE: 'none' });
    await waitHealthy(elb.admin, 1);
  });
  afterAll(async () => {
    await elb?.stop();
    await echo?.close();
  });

  it('keeps method, path and query; strips hop-by-hop headers both ways; adds X-Forwarded-*', async () => {
    // node:http, not undici: undici refuses to send hop-by-hop headers at all
    const { status, headers, body } = await new Promise<{
      status: number;
      headers: IncomingHttpHeaders;
      body: string;
    }>((resolve, reject) => {
      const req = httpRequest(
        `${elb.proxy}/some/path?x=1&y=two`,
        {
          method: 'PATCH',
          headers: {
            connection: 'keep-alive, x-remove-me',
            'x-remove-me': '1',
            'keep-alive': 'timeout=5',
            'x-keep': 'yes',
            te: 'trailers',
          },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => {
            text += d.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        },
      );
      req.on('error', reject);
      req.end('hi');
    });
    expect(status).toBe(200);
    expect(headers['x-hop']).toBeUndefined();
    const echoed = JSON.parse(body) as { method: string; url: string; headers: Record<string, string> };
    expect(echoed.method).toBe('PATCH');
    expect(echoed.url).toBe('/some/path?x=1&y=two');
    expect(echoed.headers['x-keep']).toBe('yes');
    expect(echoed.headers['x-remove-me']).toBeUndefined();
    expect(echoed.headers['keep-alive']).toBeUndefined();
    expect(echoed.headers.te).toBeUndefined();
    expect(echoed.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(echoed.headers['x-forwarded-proto']).toBe('http');
    expect(echoed.headers['x-forwarded-host']).toBe(new URL(elb.proxy).host);
  });

  it('streams a 32 MB body up and down without buffering it', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 3);
    const expected = createHash('sha256');
    for (let i = 0; i < 32; i++) expected.update(chunk);
    const up = await request(`${elb.proxy}/upload`, {
      method: 'POST',
      body: Readable.from(
        (function* () {
          for (let i = 0; i < 32; i++) yield chunk;
        })(),
      ),
    });
    const got = (await up.body.json()) as { size: number; sha256: string };
    expect(got.size).toBe(32 * chunk.length);
    expect(got.sha256).toBe(expected.digest('hex'));
    const down = await request(`${elb.proxy}/big?mb=32`);
    let size = 0;
    for await (const part of down.body) size += (part as Buffer).length;
    expect(size).toBe(32 * 1024 * 1024);
    const rss = Number(
      /process_resident_memory_bytes(?:\{[^}]*\})? (\d+)/.exec(
        await (await fetch(`${elb.admin}/metrics`)).text(),
      )![1],
    );
    expect(rss).toBeLessThan(200 * 1024 * 1024);
  });

  it('rejects request smuggling and oversized headers without reaching the backend or crashing', async () => {
    const raw = (text: string) =>
      new Promise<string>((resolve) => {
        const sock = connect(Number(new URL(elb.proxy).port), '127.0.0.1');
        let out = '';
        sock.on('data', (d) => {
          out += d.toString();
        });
        sock.on('close', () => resolve(out));
        sock.on('error', () => resolve(out));
        sock.write(text);
        setTimeout(() => sock.destroy(), 2000);
      });
    const before = (
      (await (await fetch(`${elb.admin}/api/stats`)).json()) as { totals: { requests: number } }
    ).totals.requests;
    const smuggle = await raw(
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    expect(smuggle).toMatch(/^HTTP\/1\.1 400/);
    const huge = await raw(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(huge).toMatch(/^HTTP\/1\.1 431/);
    const garbage = await raw('NOT-HTTP\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400/);
    // none of them reached a backend, and the proxy still serves
    const after = ((await (await fetch(`${elb.admin}/api/stats`)).json()) as { totals: { requests: number } })
      .totals.requests;
    expect(after).toBe(before);
    expect((await fetch(`${elb.proxy}/ok`)).status).toBe(200);
  });

  it('passes WebSocket upgrades through', async () => {
    const http = createServer((req, res) => {
      res.writeHead(req.url === '/health' ? 200 : 404);
      res.end();
    });
    const wss = new WebSocketServer({ server: http });
    wss.on('connection', (sock) => sock.on('message', (m) => sock.send(`echo:${m.toString()}`)));
    const port = await freePort();
    await new Promise<void>((r) => http.listen(port, '127.0.0.1', r));
    const wsLb = await startLb({ BACKENDS: `http://127.0.0.1:${port}`, METRICS_SOURCE: 'none' });
    try {
      await waitHealthy(wsLb.admin, 1);
      const ws = new WebSocket(`${wsLb.proxy.replace('http', 'ws')}/chat`);
      const reply = await new Promise<string>((resolve, reject) => {
        ws.once('open', () => ws.send('hello'));
        ws.once('message', (m) => resolve(m.toString()));
        ws.once('error', reject);
      });
      ws.close();
      expect(reply).toBe('echo:hello');
    } finally {
      await wsLb.stop();
      wss.close();
      http.closeAllConnections();
      http.close();
    }
  });
});

describe('faults', () => {
  it('answers 504 at the response timeout and ejects a backend that never answers', async () => {
    const hole = await blackHoleServer();
    const good = await echoServer('good');
    const flb = await startLb({
      BACKENDS: `${hole.url},${good.url}`,
      METRICS_SOURCE: 'none',
      BALANCER_MODE: 'round-robin',
      RESPONSE_TIMEOUT_MS: '400',
      EJECT_AFTER_FAILURES: '2',
      EJECT_COOLDOWN_MS: '60000',
      RETRIES: '0',
    });
    try {
      await waitHealthy(flb.admin, 2);
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const started = Date.now();
        const res = await fetch(`${flb.proxy}/x`);
        statuses.push(res.status);
        if (res.status === 504) {
          expect(Date.now() - started).toBeLessThan(3000);
          expect(((await res.json()) as { code: string }).code).toBe('LB_ERR_UPSTREAM_TIMEOUT');
        } else await res.arrayBuffer();
      }
      expect(statuses.filter((s) => s === 504)).toHaveLength(2);
      expect(statuses.slice(-4)).toEqual([200, 200, 200, 200]);
      const list = backendListSchema.parse(await (await fetch(`${flb.admin}/api/backends`)).json());
      expect(list.backends.find((b) => b.url === hole.url)!.stateReason).toContain('ejected');
    } finally {
      await flb.stop();
      await hole.close();
      await good.close();
    }
  });

  it('retries a GET that cannot connect on another backend; a POST fails fast with 502', async () => {
    const good = await echoServer('good');
    const dead = await echoServer('dead');
    const flb = await startLb({
      BACKENDS: `${dead.url},${good.url}`,
      METRICS_SOURCE: 'none',
      BALANCER_MODE: 'round-robin',
      HEALTH_INTERVAL_MS: '60000',
      // the dead backend must stay in the rotation for the POST below: no passive ejection
      EJECT_AFTER_FAILURES: '1000',
    });
    try {
      await waitHealthy(flb.admin, 2);
      await dead.close(); // connection refused from now on; health checks are too slow to notice
      const gets = await Promise.all(
        Array.from({ length: 6 }, () => fetch(`${flb.proxy}/r`).then((r) => r.status)),
      );
      expect(gets).toEqual([200, 200, 200, 200, 200, 200]);
      // with the good one draining, the POST can only go to the dead one: it is not retried
      const list = backendListSchema.parse(await (await fetch(`${flb.admin}/api/backends`)).json());
      const goodId = list.backends.find((b) => b.url === good.url)!.id;
      expect(list.backends.find((b) => b.url === dead.url)!.state).toBe('healthy');
      await post(`${flb.admin}/api/backends/${goodId}/drain`, {});
      const started = Date.now();
      const res = await fetch(`${flb.proxy}/r`, { method: 'POST', body: 'x' });
      expect(res.status).toBe(502);
      expect(((await res.json()) as { code: string }).code).toBe('LB_ERR_UPSTREAM');
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await flb.stop();
      await good.close();
    }
  });

  it('a backend killed under load: its in-flight and arriving GETs are served by another backend', async () => {
    const survivor = await startBackend({ instance: 'kill-survivor' });
    const victim = await startBackend({ instance: 'kill-victim' });
    const flb = await startLb({
      BACKENDS: `${survivor.url},${victim.url}`,
      METRICS_SOURCE: 'none',
      BALANCER_MODE: 'round-robin',
    });
    try {
      await waitHealthy(flb.admin, 2);
      const statuses: number[] = [];
      const seen = new Set<string>();
      // a count of answers, not a wall-clock window: on a loaded machine a 3 s window held as
      // few as 30 requests (the assertion is about what happens at the kill, not throughput)
      let killed = false;
      let afterKill = 0;
      const giveUp = Date.now() + 30_000;
      // /load is CPU-bound and serial in the backend: a queue of GETs is in flight at the kill
      const clients = Array.from({ length: 12 }, async () => {
        while (afterKill < 40 && Date.now() < giveUp) {
          const res = await fetch(`${flb.proxy}/load?ms=15`);
          statuses.push(res.status);
          if (killed) afterKill++;
          if (res.ok) seen.add(((await res.json()) as { instance: string }).instance);
          else await res.arrayBuffer();
        }
      });
      await waitFor(() => seen.has('kill-victim'), { timeoutMs: 10_000 });
      victim.child.kill('SIGKILL');
      killed = true;
      await Promise.all(clients);
      expect(afterKill).toBeGreaterThanOrEqual(40);
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
    } finally {
      await flb.stop();
      await survivor.stop();
      await victim.stop();
    }
  });

  it('a backend that drops the connection mid-request: GET retried elsewhere, POST fails fast with 502', async () => {
    const crash = await crashServer();
    const good = await echoServer('good');
    const flb = await startLb({
      BACKENDS: `${crash.url},${good.url}`,
      METRICS_SOURCE: 'none',
      BALANCER_MODE: 'round-robin',
      EJECT_AFTER_FAILURES: '1000',
    });
    try {
      await waitHealthy(flb.admin, 2);
      const gets = await Promise.all(
        Array.from({ length: 6 }, () => fetch(`${flb.proxy}/g`).then((r) => r.status)),
      );
      expect(gets).toEqual([200, 200, 200, 200, 200, 200]);
      const list = backendListSchema.parse(await (await fetch(`${flb.admin}/api/backends`)).json());
      const goodId = list.backends.find((b) => b.url === good.url)!.id;
      await post(`${flb.admin}/api/backends/${goodId}/drain`, {});
      const started = Date.now();
      const res = await fetch(`${flb.proxy}/p`, { method: 'POST', body: 'x' });
      expect(res.status).toBe(502);
      expect(((await res.json()) as { code: string }).code).toBe('LB_ERR_UPSTREAM');
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await flb.stop();
      await crash.close();
      await good.close();
    }
  });

  it('answers 503 when no backend is healthy, takes backends added at run time and forgets removed ones', async () => {
    const elb = await startLb({ BACKENDS: '', METRICS_SOURCE: 'none' });
    const echo = await echoServer('late');
    try {
      const res = await fetch(`${elb.proxy}/anything`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { code: string }).code).toBe('LB_ERR_NO_BACKEND');
      const added = await post(`${elb.admin}/api/backends`, { url: echo.url, name: 'late' });
      expect(added.status).toBe(201);
      const id = ((await added.json()) as { id: string }).id;
      await waitFor(async () => (await fetch(`${elb.proxy}/x`)).status === 200, { timeoutMs: 3000 });
      const del = await fetch(`${elb.admin}/api/backends/${id}`, { method: 'DELETE' });
      expect(del.status).toBe(202);
      await waitFor(async () => (await fetch(`${elb.proxy}/x`)).status === 503, { timeoutMs: 3000 });
      // a removed backend's request and latency series leave /metrics (replicas come and go:
      // they must not pile up); its transitions stay a little longer, so scrapers see `removed`
      const seriesOf = async () =>
        (await (await fetch(`${elb.admin}/metrics`)).text()).split('\n').filter((l) => l.includes(`"${id}"`));
      await waitFor(
        async () => (await seriesOf()).every((l) => l.startsWith('headroom_lb_backend_transitions_total')),
        { timeoutMs: 3000, message: `series of ${id} still in /metrics` },
      );
      expect((await seriesOf()).some((l) => l.includes('to="removed"'))).toBe(true);
    } finally {
      await elb.stop();
      await echo.close();
    }
  });

  it('drains: a draining backend finishes its in-flight request and gets no new ones', async () => {
    const be = await startBackend({ instance: 'drain-1' });
    const other = await startBackend({ instance: 'drain-2' });
    const dlb = await startLb({
      BACKENDS: `${be.url},${other.url}`,
      METRICS_SOURCE: 'none',
      BALANCER_MODE: 'round-robin',
    });
    try {
      await waitHealthy(dlb.admin, 2);
      const list = backendListSchema.parse(await (await fetch(`${dlb.admin}/api/backends`)).json());
      const id = list.backends.find((b) => b.url === be.url)!.id;
      // one long request on each backend
      const slow = [fetch(`${dlb.proxy}/load?ms=800`), fetch(`${dlb.proxy}/load?ms=800`)];
      await waitFor(async () => {
        const l = backendListSchema.parse(await (await fetch(`${dlb.admin}/api/backends`)).json());
        return l.backends.every((b) => b.inFlight === 1);
      });
      expect((await post(`${dlb.admin}/api/backends/${id}/drain`, {})).status).toBe(202);
      const during = await Promise.all(Array.from({ length: 6 }, () => fetch(`${dlb.proxy}/load?ms=1`)));
      expect(during.map((r) => r.headers.get('x-backend-instance'))).toEqual(Array(6).fill('drain-2'));
      const results = await Promise.all(slow);
      expect(results.map((r) => r.status)).toEqual([200, 200]);
    } finally {
      await dlb.stop();
      await be.stop();
      await other.stop();
    }
  });

  it('on SIGTERM finishes in-flight requests, then exits 0', async () => {
    const be = await startBackend({ instance: 'term-1' });
    const tlb = await startLb({ BACKENDS: be.url, METRICS_SOURCE: 'none' });
    try {
      await waitHealthy(tlb.admin, 1);
      const inflight = fetch(`${tlb.proxy}/load?ms=1200`);
      await waitFor(
        async () =>
          backendListSchema.parse(await (await fetch(`${tlb.admin}/api/backends`)).json()).backends[0]!
            .inFlight === 1,
      );
      const code = tlb.stop();
      const res = await inflight;
      expect(res.status).toBe(200);
      expect(await code).toBe(0);
    } finally {
      await be.stop();
    }
  });
});

describe('access', () => {
  it('needs the bearer token for changes when ADMIN_TOKEN is set; reads stay open', async () => {
    const alb = await startLb({ BACKENDS: '', METRICS_SOURCE: 'none', ADMIN_TOKEN: 's3cret-token' });
    try {
      expect((await fetch(`${alb.admin}/api/mode`)).status).toBe(200);
      const denied = await put(`${alb.admin}/api/mode`, { mode: 'latency' });
      expect(denied.status).toBe(401);
      expect(((await denied.json()) as { code: string }).code).toBe('LB_ERR_UNAUTHORIZED');
      expect(
        (await put(`${alb.admin}/api/mode`, { mode: 'latency' }, { authorization: 'Bearer wrong' })).status,
      ).toBe(401);
      const ok = await put(
        `${alb.admin}/api/mode`,
        { mode: 'latency' },
        { authorization: 'Bearer s3cret-token' },
      );
      expect(ok.status).toBe(200);
      const info = (await (await fetch(`${alb.admin}/api/info`)).json()) as { authRequired: boolean };
      expect(info.authRequired).toBe(true);
    } finally {
      await alb.stop();
    }
  });

  it('refuses to start on invalid configuration, naming each variable', async () => {
    const out = await runUntilExit('load-balancer', {
      PORT: '99999',
      BALANCER_MODE: 'fastest',
      BACKENDS: 'ftp://x',
    });
    expect(out.code).toBe(1);
    const err = out.output;
    expect(err).toContain('PORT="99999"');
    expect(err).toContain('BALANCER_MODE="fastest"');
    expect(err).toContain('BACKENDS="ftp://x"');
  });
});
