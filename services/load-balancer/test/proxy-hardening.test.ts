// Issue 16 over real HTTP, against the real balancer process: one request's outcome is
// recorded once (retries are retries, never 502s), a retry never returns to a backend that
// already failed, 502 vs 503, a long WebSocket does not poison latency mode, WebSocket
// tunnels time out and speak TLS to https backends, every backend state change is an event,
// a log line and a counter, the admin API is safe by default, and the documented limits
// (429, /healthz during shutdown) are really reached.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import {
  createServer as createTcpServer,
  connect as netConnect,
  type Socket,
  type Server as TcpServer,
} from 'node:net';
import { networkInterfaces } from 'node:os';
import { backendEventsSchema, backendListSchema, historySchema, statsSchema } from '@headroom/shared';
import { freePort, runUntilExit, selfSignedCert, waitFor } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { echoServer, type RunningLb, startLb, type TestServer, waitHealthy } from './lb-fixtures.js';

const post = (url: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
const backends = async (admin: string) =>
  backendListSchema.parse(await (await fetch(`${admin}/api/backends`)).json()).backends;
const metricsText = async (admin: string) => (await fetch(`${admin}/metrics`)).text();
/** Sum of a counter's samples whose label text contains every `parts`. */
function counter(text: string, name: string, ...parts: string[]): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (parts.every((p) => line.includes(p))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('one request, one outcome', () => {
  let good: TestServer;
  let dead: TestServer;
  let lb: RunningLb;
  beforeAll(async () => {
    good = await echoServer('good');
    dead = await echoServer('dead');
    lb = await startLb({
      BACKENDS: `${dead.url},${good.url}`,
      METRICS_SOURCE: 'none',
      BALANCER_MODE: 'round-robin',
      HEALTH_INTERVAL_MS: '60000',
      EJECT_AFTER_FAILURES: '1000',
    });
    await waitHealthy(lb.admin, 2);
    await dead.close(); // refuses connections from now on; checks are too slow to notice
  });
  afterAll(async () => {
    await lb?.stop();
    await good?.close();
  });

  it('a retried request that the client got as 200 is a retry, not a 502, in stats, history and /metrics', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 10 }, () => fetch(`${lb.proxy}/r`).then((r) => r.status)),
    );
    expect(statuses).toEqual(Array(10).fill(200));
    const stats = statsSchema.parse(await (await fetch(`${lb.admin}/api/stats`)).json());
    expect(stats.totals.retries).toBeGreaterThan(0);
    expect(stats.totals.requests).toBe(10);
    expect(stats.totals.errors).toBe(0);
    const text = await metricsText(lb.admin);
    expect(counter(text, 'headroom_lb_requests_total', 'status="502"')).toBe(0);
    expect(counter(text, 'headroom_lb_requests_total', 'status="200"')).toBe(10);
    expect(counter(text, 'headroom_lb_retries_total', 'reason="connect-error"')).toBe(stats.totals.retries);
    // the history's per-second errors stay 0 as well
    await waitFor(
      async () =>
        historySchema
          .parse(await (await fetch(`${lb.admin}/api/stats/history`)).json())
          .points.some((p) => p.rps > 0),
      { timeoutMs: 3000 },
    );
    const history = historySchema.parse(await (await fetch(`${lb.admin}/api/stats/history`)).json());
    expect(history.points.reduce((n, p) => n + p.errors, 0)).toBe(0);
  });

  it('every per-backend series carries the same backend (id) and backend_name labels', async () => {
    const list = await backends(lb.admin);
    const goodView = list.find((b) => b.url === good.url)!;
    const text = await metricsText(lb.admin);
    const labels = `backend="${goodView.id}",backend_name="${goodView.name}"`;
    for (const name of [
      'headroom_lb_requests_total',
      'headroom_lb_request_duration_seconds_count',
      'headroom_lb_backend_in_flight',
      'headroom_lb_backend_healthy',
      'headroom_lb_backend_weight',
    ])
      expect(text.split('\n').some((l) => l.startsWith(`${name}{`) && l.includes(labels))).toBe(true);
  });

  it('a POST to a refusing backend fails fast with 502 and is not retried', async () => {
    const list = await backends(lb.admin);
    const goodId = list.find((b) => b.url === good.url)!.id;
    expect(list.find((b) => b.url === dead.url)!.state).toBe('healthy');
    expect((await post(`${lb.admin}/api/backends/${goodId}/drain`, {})).status).toBe(202);
    try {
      const started = Date.now();
      const res = await fetch(`${lb.proxy}/p`, { method: 'POST', body: 'x' });
      expect(res.status).toBe(502);
      expect(((await res.json()) as { code: string }).code).toBe('LB_ERR_UPSTREAM');
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await post(`${lb.admin}/api/backends/${goodId}/undrain`, {});
    }
  });
});

describe('502 vs 503', () => {
  it('the only backend refuses: 502 LB_ERR_UPSTREAM (a retry found nothing else), not 503', async () => {
    const only = await echoServer('only');
    const lb = await startLb({ BACKENDS: only.url, METRICS_SOURCE: 'none', HEALTH_INTERVAL_MS: '60000' });
    try {
      await waitHealthy(lb.admin, 1);
      await only.close();
      const res = await fetch(`${lb.proxy}/x`);
      expect(res.status).toBe(502);
      expect(((await res.json()) as { code: string }).code).toBe('LB_ERR_UPSTREAM');
      // nothing was retried: there was nothing else to try
      expect(statsSchema.parse(await (await fetch(`${lb.admin}/api/stats`)).json()).totals.retries).toBe(0);
    } finally {
      await lb.stop();
    }
  });
});

describe('retries never return to a failed backend', () => {
  it('three backends, two refusing, RETRIES=2: every GET is answered by the third', async () => {
    const good = await echoServer('third');
    const deadA = await echoServer('dead-a');
    const deadB = await echoServer('dead-b');
    const lb = await startLb({
      BACKENDS: `${deadA.url},${deadB.url},${good.url}`,
      METRICS_SOURCE: 'none',
      BALANCER_MODE: 'least-connections',
      HEALTH_INTERVAL_MS: '60000',
      EJECT_AFTER_FAILURES: '1000',
      RETRIES: '2',
    });
    try {
      await waitHealthy(lb.admin, 3);
      await deadA.close();
      await deadB.close();
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) {
        const res = await fetch(`${lb.proxy}/r`);
        statuses.push(res.status);
        await res.arrayBuffer();
      }
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      const text = await metricsText(lb.admin);
      // at most two retries per request: each dead backend at most once per request
      const retries = counter(text, 'headroom_lb_retries_total');
      expect(retries).toBeGreaterThan(0);
      expect(retries).toBeLessThanOrEqual(80);
    } finally {
      await lb.stop();
      await good.close();
    }
  });

  // docs/operations.md, "A backend is killed under load": a response already streaming when the
  // backend dies cannot be retried; the client sees the body end early, never a complete one.
  it('a backend that dies mid-body: the client gets the head, then a truncated body, not a hang', async () => {
    const dying = createServer((req, res) => {
      if (req.url === '/health') return void res.end('ok');
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100000' });
      res.write('x'.repeat(1000), () => setTimeout(() => res.socket?.destroy(), 50));
    });
    await new Promise<void>((r) => dying.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(dying.address() as { port: number }).port}`;
    const lb = await startLb({ BACKENDS: url, METRICS_SOURCE: 'none' });
    try {
      await waitHealthy(lb.admin, 1);
      const res = await fetch(`${lb.proxy}/stream`);
      expect(res.status).toBe(200);
      const body = await res.text().then(
        (text) => `complete: ${text.length} bytes`,
        (err: Error) => `cut: ${err.message}`,
      );
      expect(body).toMatch(/^cut/);
    } finally {
      await lb.stop();
      dying.closeAllConnections();
      dying.close();
    }
  });
});

/** HTTP backend that also accepts WebSockets and echoes. */
async function wsBackend(name: string): Promise<{ url: string; close(): void }> {
  const http = createServer((req, res) => {
    res.setHeader('x-backend-instance', name);
    res.end(req.url === '/health' ? 'ok' : name);
  });
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (sock, req) => {
    sock.send(JSON.stringify({ name, headers: req.headers }));
    sock.on('message', (m) => sock.send(`echo:${m.toString()}`));
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const { port } = http.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      wss.close();
      http.closeAllConnections();
      http.close();
    },
  };
}

function openWs(
  url: string,
): Promise<{ ws: WebSocket; hello: { name: string; headers: Record<string, string> } }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('message', (m) => resolve({ ws, hello: JSON.parse(m.toString()) }));
    ws.once('error', reject);
  });
}

describe('WebSockets', () => {
  it('a long session leaves latency mode shares unchanged (connect time recorded, not session length)', async () => {
    const a = await wsBackend('ws-a');
    const b = await wsBackend('ws-b');
    const lb = await startLb({
      BACKENDS: `${a.url},${b.url}`,
      METRICS_SOURCE: 'none',
      BALANCER_MODE: 'latency',
    });
    try {
      await waitHealthy(lb.admin, 2);
      // eight clients at a time: latency mode weighs latency by in-flight requests
      const shares = async () => {
        const seen = new Map<string, number>();
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            for (let i = 0; i < 25; i++) {
              const res = await fetch(`${lb.proxy}/x`);
              const who = res.headers.get('x-backend-instance')!;
              seen.set(who, (seen.get(who) ?? 0) + 1);
              await res.arrayBuffer();
            }
          }),
        );
        return seen;
      };
      // both backends get latency samples first, so neither is a newcomer below (a newcomer
      // starts from the pool mean plus a penalty and loses comparisons for a while)
      await waitFor(
        async () => {
          await Promise.all(
            Array.from({ length: 32 }, () => fetch(`${lb.proxy}/x`).then((r) => r.arrayBuffer())),
          );
          return (await backends(lb.admin)).every((v) => v.latencyMs !== null);
        },
        { timeoutMs: 5000, message: 'both backends sampled' },
      );
      const before = await shares();
      expect(before.get('ws-a') ?? 0).toBeGreaterThan(40);
      expect(before.get('ws-b') ?? 0).toBeGreaterThan(40);
      // long sessions on ws-a only (those that land on ws-b are closed at once)
      const sessions: WebSocket[] = [];
      let first: { headers: Record<string, string> } | undefined;
      while (sessions.length < 2) {
        const { ws, hello } = await openWs(`${lb.proxy.replace('http', 'ws')}/chat`);
        first ??= hello;
        if (hello.name === 'ws-a') sessions.push(ws);
        else ws.close();
      }
      // the tunnel rewrites headers like every request: X-Forwarded-* added, hop-by-hop stripped
      const forwarded = first!.headers;
      expect(forwarded['x-forwarded-for']).toBe('127.0.0.1');
      expect(forwarded['x-forwarded-proto']).toBe('http');
      expect(forwarded['x-forwarded-host']).toBe(new URL(lb.proxy).host);
      expect(forwarded['proxy-authorization']).toBeUndefined();
      expect(forwarded.upgrade).toBe('websocket');
      // hold them a while, then close: a session length recorded as latency would be ~2.5 s
      await new Promise((r) => setTimeout(r, 2500));
      // an open session is not a request in flight (a drain does not wait for it)
      expect((await backends(lb.admin)).map((v) => v.inFlight)).toEqual([0, 0]);
      for (const ws of sessions) ws.close();
      await waitFor(async () => (await backends(lb.admin)).every((v) => v.inFlight === 0), {
        timeoutMs: 3000,
      });
      for (const v of await backends(lb.admin)) expect(v.latencyMs ?? 0).toBeLessThan(500);
      const seen = await shares();
      // both keep a real share (a poisoned backend would get next to nothing for tens of seconds)
      expect(seen.get('ws-a') ?? 0).toBeGreaterThan(40);
      expect(seen.get('ws-b') ?? 0).toBeGreaterThan(40);
    } finally {
      await lb.stop();
      a.close();
      b.close();
    }
  });

  it('a backend that accepts the connection but never answers the upgrade gets 504 after the response timeout', async () => {
    const silent: TcpServer = createTcpServer((sock) => {
      sock.on('data', (d) => {
        // answers health checks, ignores the upgrade
        if (d.toString().startsWith('GET /health'))
          sock.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      });
      sock.on('error', () => undefined);
    });
    const port = await freePort();
    await new Promise<void>((r) => silent.listen(port, '127.0.0.1', r));
    const lb = await startLb({
      BACKENDS: `http://127.0.0.1:${port}`,
      METRICS_SOURCE: 'none',
      RESPONSE_TIMEOUT_MS: '500',
    });
    try {
      await waitHealthy(lb.admin, 1);
      const started = Date.now();
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${lb.proxy.replace('http', 'ws')}/chat`);
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('error', () => resolve(-1));
      });
      expect(status).toBe(504);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await lb.stop();
      silent.close();
    }
  });

  it('a backend that refuses the tunnel: 502', async () => {
    const gone = await wsBackend('ws-gone');
    const lb = await startLb({ BACKENDS: gone.url, METRICS_SOURCE: 'none', HEALTH_INTERVAL_MS: '60000' });
    try {
      await waitHealthy(lb.admin, 1);
      gone.close();
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${lb.proxy.replace('http', 'ws')}/chat`);
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('error', () => resolve(-1));
      });
      expect(status).toBe(502);
    } finally {
      await lb.stop();
    }
  });

  it('a backend whose TCP handshake never completes: 502 after CONNECT_TIMEOUT_MS, not a hang', async () => {
    const ws = await wsBackend('ws-blackhole');
    const port = Number(new URL(ws.url).port);
    const lb = await startLb({
      BACKENDS: ws.url,
      METRICS_SOURCE: 'none',
      HEALTH_INTERVAL_MS: '60000',
      CONNECT_TIMEOUT_MS: '300',
      RESPONSE_TIMEOUT_MS: '10000',
    });
    // the same port taken over by a listener that never accepts, its one-slot accept queue
    // filled: the kernel drops every further SYN, so a connect neither succeeds nor fails
    const blackhole = spawn('python3', [
      '-c',
      `import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('127.0.0.1',${port}))\ns.listen(0)\nprint('ready',flush=True)\ntime.sleep(60)`,
    ]);
    const fillers: Socket[] = [];
    try {
      await waitHealthy(lb.admin, 1);
      ws.close();
      await new Promise<void>((resolve) => blackhole.stdout.once('data', () => resolve()));
      for (let i = 0; i < 3; i++) {
        const f = netConnect(port, '127.0.0.1');
        f.on('error', () => undefined);
        fillers.push(f);
      }
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      const status = await new Promise<number>((resolve) => {
        const client = new WebSocket(`${lb.proxy.replace('http', 'ws')}/chat`);
        client.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        client.once('error', () => resolve(-1));
      });
      expect(status).toBe(502);
      // the connect timeout, not the 10 s response timeout
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      for (const f of fillers) f.destroy();
      blackhole.kill('SIGKILL');
      await lb.stop();
    }
  });

  it('dials an https backend with TLS (its certificate verified against the trusted CAs)', async () => {
    // RSA, as a backend's own certificate most often is; the balancer trusts it as a CA
    const pair = selfSignedCert({ names: ['localhost'], ips: ['127.0.0.1'], key: 'rsa', days: 1 });
    const https = createHttpsServer({ key: pair.keyPem, cert: pair.certPem }, (req, res) =>
      res.end(req.url === '/health' ? 'ok' : 'tls'),
    );
    const wss = new WebSocketServer({ server: https });
    wss.on('connection', (sock) => sock.send(JSON.stringify({ name: 'tls-backend', headers: {} })));
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
    const { port } = https.address() as { port: number };
    const lb = await startLb({
      BACKENDS: `https://localhost:${port}`,
      METRICS_SOURCE: 'none',
      NODE_EXTRA_CA_CERTS: pair.cert,
    });
    try {
      await waitHealthy(lb.admin, 1);
      const { ws, hello } = await openWs(`${lb.proxy.replace('http', 'ws')}/chat`);
      ws.close();
      expect(hello.name).toBe('tls-backend');
    } finally {
      await lb.stop();
      wss.close();
      https.closeAllConnections();
      https.close();
    }
  });
});

describe('nothing silent: backend transitions', () => {
  it('ejection, drain, weight, undrain and removal are each an event, a counter and a log line with the reason', async () => {
    const good = await echoServer('t-good');
    const dead = await echoServer('t-dead');
    const lb = await startLb({
      BACKENDS: '',
      METRICS_SOURCE: 'none',
      BALANCER_MODE: 'round-robin',
      HEALTH_INTERVAL_MS: '60000',
      EJECT_AFTER_FAILURES: '2',
      EJECT_COOLDOWN_MS: '60000',
      RETRIES: '0',
      LOG_LEVEL: 'info',
    });
    try {
      const goodId = (
        (await (await post(`${lb.admin}/api/backends`, { url: good.url, name: 't-good' })).json()) as {
          id: string;
        }
      ).id;
      const deadId = (
        (await (await post(`${lb.admin}/api/backends`, { url: dead.url, name: 't-dead' })).json()) as {
          id: string;
        }
      ).id;
      await waitHealthy(lb.admin, 2);
      await dead.close();
      for (let i = 0; i < 6; i++) await (await fetch(`${lb.proxy}/x`)).arrayBuffer();
      await waitFor(
        async () => (await backends(lb.admin)).find((b) => b.id === deadId)?.state === 'unhealthy',
      );
      expect(
        (
          await fetch(`${lb.admin}/api/backends/${goodId}/weight`, {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ weight: 3 }),
          })
        ).status,
      ).toBe(200);
      await post(`${lb.admin}/api/backends/${goodId}/drain`, {});
      await post(`${lb.admin}/api/backends/${goodId}/undrain`, {});
      expect((await fetch(`${lb.admin}/api/backends/${goodId}`, { method: 'DELETE' })).status).toBe(202);
      await waitFor(async () => !(await backends(lb.admin)).some((b) => b.id === goodId), {
        timeoutMs: 3000,
      });

      const { events } = backendEventsSchema.parse(await (await fetch(`${lb.admin}/api/events`)).json());
      const of = (id: string) => events.filter((e) => e.id === id).map((e) => `${e.to}/${e.code}`);
      expect(of(deadId)).toEqual(['healthy/health-check-passed', 'ejected/consecutive-failures']);
      expect(of(goodId)).toEqual([
        'healthy/health-check-passed',
        'weight-changed/weight-set',
        'draining/drain-requested',
        'undrained/undrain-requested',
        'draining/drain-requested',
        'drained/drain-complete',
        'removed/left-discovery',
      ]);
      expect(events.every((e) => e.reason.length > 0)).toBe(true);
      // ?since= returns only newer events
      const last = events.at(-1)!.seq;
      const newer = backendEventsSchema.parse(
        await (await fetch(`${lb.admin}/api/events?since=${last - 1}`)).json(),
      );
      expect(newer.events.map((e) => e.seq)).toEqual([last]);

      const text = await metricsText(lb.admin);
      expect(
        counter(
          text,
          'headroom_lb_backend_transitions_total',
          `backend="${deadId}"`,
          'to="ejected"',
          'reason="consecutive-failures"',
        ),
      ).toBe(1);
      expect(
        counter(
          text,
          'headroom_lb_backend_transitions_total',
          `backend="${goodId}"`,
          'to="drained"',
          'reason="drain-complete"',
        ),
      ).toBe(1);

      const logs = lb.proc
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map(
          (l) =>
            JSON.parse(l) as { level: number; msg: string; backend?: string; to?: string; reason?: string },
        );
      const ejected = logs.find((l) => l.backend === deadId && l.to === 'ejected');
      expect(ejected?.level).toBe(40); // warn
      expect(ejected?.reason).toContain('consecutive');
      for (const to of ['weight-changed', 'draining', 'undrained', 'drained', 'removed'])
        expect(logs.find((l) => l.backend === goodId && l.to === to)?.level, to).toBe(30); // info
    } finally {
      await lb.stop();
      await good.close();
    }
  });

  it('a drain that times out with requests in flight is a warn, drain-timeout', async () => {
    const hole = createServer((req, res) => {
      if (req.url === '/health') res.end('ok');
      // otherwise never answers
    });
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(hole.address() as { port: number }).port}`;
    const lb = await startLb({ BACKENDS: '', METRICS_SOURCE: 'none', DRAIN_TIMEOUT_MS: '300' });
    try {
      const id = ((await (await post(`${lb.admin}/api/backends`, { url })).json()) as { id: string }).id;
      await waitHealthy(lb.admin, 1);
      // what the client of a request cut by the timeout gets (docs/operations.md: a 502)
      const pending = fetch(`${lb.proxy}/slow`).then(
        (r) => r.status,
        () => 'no answer',
      );
      await waitFor(async () => (await backends(lb.admin))[0]?.inFlight === 1);
      await fetch(`${lb.admin}/api/backends/${id}`, { method: 'DELETE' });
      await waitFor(async () => (await backends(lb.admin)).length === 0, { timeoutMs: 3000 });
      const { events } = backendEventsSchema.parse(await (await fetch(`${lb.admin}/api/events`)).json());
      const drained = events.find((e) => e.to === 'drained')!;
      expect(drained.code).toBe('drain-timeout');
      expect(drained.reason).toContain('1 request(s) in flight');
      const line = lb.proc
        .output()
        .split('\n')
        .find((l) => l.includes('"to":"drained"'));
      expect((JSON.parse(line!) as { level: number }).level).toBe(40);
      expect(await pending).toBe(502);
    } finally {
      await lb.stop();
      hole.closeAllConnections();
      hole.close();
    }
  });
});

describe('configuration that would be ignored', () => {
  it('BACKENDS outside DISCOVERY=static is a warning at start, not silence', async () => {
    const lb = await startLb({
      DISCOVERY: 'docker',
      LB_SERVICE: `nothing-${process.pid}`,
      BACKENDS: 'http://127.0.0.1:1',
      METRICS_SOURCE: 'none',
    });
    try {
      const line = lb.proc
        .output()
        .split('\n')
        .find((l) => l.includes('BACKENDS is ignored'));
      expect(line).toBeDefined();
      expect((JSON.parse(line!) as { level: number; msg: string }).msg).toContain('DISCOVERY=docker');
      expect(await backends(lb.admin)).toEqual([]);
    } finally {
      await lb.stop();
    }
  });
});

describe('the drain wait endpoint', () => {
  it('GET /api/backends/:id/drained answers once the in-flight request is done, in one call', async () => {
    const slow = createServer((req, res) => {
      if (req.url === '/health') res.end('ok');
      else setTimeout(() => res.end('done'), 800);
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(slow.address() as { port: number }).port}`;
    const lb = await startLb({ BACKENDS: url, METRICS_SOURCE: 'none' });
    try {
      await waitHealthy(lb.admin, 1);
      const [view] = await backends(lb.admin);
      const inflight = fetch(`${lb.proxy}/slow`);
      await new Promise((r) => setTimeout(r, 100));
      await post(`${lb.admin}/api/backends/${view!.id}/drain`, {});
      const started = Date.now();
      const res = await fetch(`${lb.admin}/api/backends/${view!.id}/drained?timeoutMs=5000`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ id: view!.id, drained: true, inFlight: 0, present: true });
      expect(Date.now() - started).toBeGreaterThan(300);
      expect((await inflight).status).toBe(200);
    } finally {
      await lb.stop();
      slow.closeAllConnections();
      slow.close();
    }
  });
});

describe('documented limits are reached', () => {
  it('the admin rate limit answers 429 LB_ERR_RATE_LIMITED', async () => {
    const lb = await startLb({ BACKENDS: '', METRICS_SOURCE: 'none', ADMIN_RATE_LIMIT: '5' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        const res = await fetch(`${lb.admin}/api/backends`);
        statuses.push(res.status);
        if (res.status === 429)
          expect(((await res.json()) as { code: string }).code).toBe('LB_ERR_RATE_LIMITED');
        else await res.arrayBuffer();
      }
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(statuses.slice(5)).toEqual([429, 429]);
    } finally {
      await lb.stop();
    }
  });

  it('/healthz answers 503 while shutting down with requests in flight, then the process exits 0', async () => {
    const slow = createServer((req, res) => {
      if (req.url === '/health') res.end('ok');
      else setTimeout(() => res.end('done'), 1500);
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(slow.address() as { port: number }).port}`;
    const lb = await startLb({ BACKENDS: url, METRICS_SOURCE: 'none' });
    try {
      await waitHealthy(lb.admin, 1);
      const inflight = fetch(`${lb.proxy}/slow`);
      await waitFor(async () => (await backends(lb.admin))[0]?.inFlight === 1);
      const exited = lb.stop();
      await waitFor(
        async () => {
          const res = await fetch(`${lb.admin}/healthz`);
          return res.status === 503 && ((await res.json()) as { status: string }).status === 'shutting-down';
        },
        { timeoutMs: 1000, intervalMs: 20, message: '/healthz 503 during shutdown' },
      );
      expect((await inflight).status).toBe(200);
      expect(await exited).toBe(0);
    } finally {
      slow.closeAllConnections();
      slow.close();
    }
  });
});

describe('safe by default', () => {
  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal)?.address;

  it('without ADMIN_TOKEN the admin API listens on 127.0.0.1 only, and says so at start', async () => {
    // this machine has a non-loopback address (the Docker engine's bridge at least)
    expect(external).toBeDefined();
    const lb = await startLb({ BACKENDS: '', METRICS_SOURCE: 'none', HOST: '0.0.0.0' });
    try {
      const adminPort = new URL(lb.admin).port;
      const proxyPort = new URL(lb.proxy).port;
      // the proxy is on every address, the admin API only on loopback
      expect((await fetch(`http://${external}:${proxyPort}/x`)).status).toBe(503);
      await expect(fetch(`http://${external}:${adminPort}/healthz`)).rejects.toThrow();
      expect((await fetch(`${lb.admin}/healthz`)).status).toBe(200);
      expect(lb.proc.output()).toContain('no ADMIN_TOKEN: the admin API listens on 127.0.0.1 only');
    } finally {
      await lb.stop();
    }
  });

  it('with ADMIN_TOKEN the admin API listens on HOST', async () => {
    expect(external).toBeDefined();
    const lb = await startLb({
      BACKENDS: '',
      METRICS_SOURCE: 'none',
      HOST: '0.0.0.0',
      ADMIN_TOKEN: 'tok-123456',
    });
    try {
      expect((await fetch(`http://${external}:${new URL(lb.admin).port}/healthz`)).status).toBe(200);
      expect(lb.proc.output()).not.toContain('no ADMIN_TOKEN');
    } finally {
      await lb.stop();
    }
  });

  it('refuses a non-loopback ADMIN_HOST without ADMIN_TOKEN, naming the variable', async () => {
    const out = await runUntilExit('load-balancer', {
      ADMIN_HOST: '0.0.0.0',
      ADMIN_TOKEN: '',
      DISCOVERY: 'static',
    });
    expect(out.code).toBe(1);
    expect(out.output).toContain('ADMIN_HOST="0.0.0.0": a non-loopback admin address needs ADMIN_TOKEN');
  });
});
