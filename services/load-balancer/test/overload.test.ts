// Overload control (issue #26) on real processes: the balancer process, a real node:http
// backend that holds each request until the test lets it answer, and real clients. The
// concurrency limit is pinned to 1 (LIMIT_MIN = LIMIT_MAX = 1) so that "every backend is at its
// limit" is a fact the test controls: one request in flight, the rest wait in the service queue.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { backendListSchema, LB_METRICS } from '@headroom/shared';
import { waitFor } from '@headroom/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningLb, startLb, waitHealthy } from './lb-fixtures.js';

interface Gate {
  url: string;
  /** Request paths in the order they reached the backend. */
  arrived: string[];
  /** Answers the oldest request still waiting for its answer (with its body's size and hash). */
  release(): void;
  close(): Promise<void>;
}

/** A backend that answers /health (and /metrics: 404) at once and every other request only when released. */
async function gate(): Promise<Gate> {
  const waiting: Array<() => void> = [];
  const arrived: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/health') {
      res.end('ok');
      return;
    }
    // the balancer's resource source reads /metrics (METRICS_SOURCE=auto): not a proxied request
    if (req.url === '/metrics') {
      res.writeHead(404).end();
      return;
    }
    arrived.push(req.url ?? '');
    const hash = createHash('sha256');
    let size = 0;
    req.on('data', (d: Buffer) => {
      hash.update(d);
      size += d.length;
    });
    let ended = false;
    let released = false;
    const answer = () => {
      if (ended && released && !res.headersSent)
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ url: req.url, size, sha256: hash.digest('hex') }));
    };
    req.on('end', () => {
      ended = true;
      answer();
    });
    waiting.push(() => {
      released = true;
      answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrived,
    release: () => waiting.shift()?.(),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

let lb: RunningLb | undefined;
let backend: Gate | undefined;

afterEach(async () => {
  await lb?.stop();
  await backend?.close();
  lb = backend = undefined;
});

async function queueOf(admin: string) {
  const list = backendListSchema.parse(await (await fetch(`${admin}/api/backends`)).json());
  if (!list.queue) throw new Error('no queue in /api/backends');
  return { ...list.queue, limit: list.backends[0]?.limit };
}

async function shedCount(admin: string, reason: string): Promise<number> {
  const text = await (await fetch(`${admin}/metrics`)).text();
  const m = new RegExp(`^${LB_METRICS.queueShed}\\{[^}]*reason="${reason}"[^}]*\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** One backend held at its limit of 1 by a first request; returns that request's promise. */
async function oneBusy(
  env: Record<string, string> = {},
): Promise<{ running: RunningLb; first: Promise<Response> }> {
  backend = await gate();
  lb = await startLb({ BACKENDS: backend.url, LIMIT_MIN: '1', LIMIT_MAX: '1', ...env });
  const running = lb;
  await waitHealthy(running.admin, 1);
  expect((await queueOf(running.admin)).limit).toBe(1);
  const first = fetch(`${running.proxy}/first`);
  const b = backend;
  await waitFor(async () => b.arrived.length === 1, {
    timeoutMs: 5_000,
    message: 'first request at the backend',
  });
  return { running, first };
}

async function waitDepth(admin: string, depth: number): Promise<void> {
  await waitFor(async () => (await queueOf(admin)).depth === depth, {
    timeoutMs: 5_000,
    message: `queue depth ${depth}`,
  });
}

describe('the service queue', () => {
  it('requests wait in arrival order and each completion hands the oldest to the backend that freed', async () => {
    const { running, first } = await oneBusy();
    const b = backend as Gate;
    const later: Array<Promise<Response>> = [];
    for (let i = 1; i <= 5; i++) {
      later.push(fetch(`${running.proxy}/r${i}`));
      await waitDepth(running.admin, i); // each is queued before the next is sent
    }
    // none of them reached the backend while it was at its limit
    expect(b.arrived).toEqual(['/first']);
    for (let i = 1; i <= 5; i++) {
      b.release();
      await waitFor(async () => b.arrived.length === i + 1, {
        timeoutMs: 5_000,
        message: `r${i} dispatched`,
      });
    }
    b.release();
    expect(b.arrived).toEqual(['/first', '/r1', '/r2', '/r3', '/r4', '/r5']);
    expect((await first).status).toBe(200);
    for (const p of later) expect((await p).status).toBe(200);
    expect((await queueOf(running.admin)).depth).toBe(0);
  });

  it('past QUEUE_TIMEOUT_MS: 503, Retry-After and LB_ERR_OVERLOADED, not a hang', async () => {
    const { running, first } = await oneBusy({ QUEUE_TIMEOUT_MS: '300' });
    const started = performance.now();
    const res = await fetch(`${running.proxy}/late`);
    const waited = performance.now() - started;
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(res.headers.get('x-headroom-shed')).toBe('timeout');
    expect(((await res.json()) as { code: string }).code).toBe('LB_ERR_OVERLOADED');
    // the deadline (a 20 ms tick), not the backend: generous upper bound for a loaded CI box
    expect(waited).toBeGreaterThanOrEqual(280);
    expect(waited).toBeLessThan(3_000);
    expect(await shedCount(running.admin, 'timeout')).toBe(1);
    expect((backend as Gate).arrived).toEqual(['/first']);
    (backend as Gate).release();
    expect((await first).status).toBe(200);
  });

  it('QUEUE_TIMEOUT_MS is a response budget: a request whose wait plus the backend time would pass it is shed then, not served late', async () => {
    const { running, first } = await oneBusy({ QUEUE_TIMEOUT_MS: '3000' });
    const b = backend as Gate;
    // the backend's service time, as the balancer learns it: its first answer takes ~1.2 s
    await new Promise((r) => setTimeout(r, 1_200));
    b.release();
    expect((await first).status).toBe(200);
    const second = fetch(`${running.proxy}/second`);
    await waitFor(async () => b.arrived.length === 2, { timeoutMs: 5_000, message: 'second at the backend' });
    const started = performance.now();
    const res = await fetch(`${running.proxy}/late`);
    const waited = performance.now() - started;
    expect(res.status).toBe(503);
    expect(res.headers.get('x-headroom-shed')).toBe('timeout');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await res.json()) as { code: string }).code).toBe('LB_ERR_OVERLOADED');
    // shed once its wait plus ~1.2 s at the backend reaches 3 s: after ~1.8 s of waiting, not at
    // the 3 s deadline (where a bound on the wait alone sheds it, or hands it to the backend
    // to be answered at 3 s + 1.2 s); margins of ~0.6 s each way for a loaded CI box
    expect(waited).toBeGreaterThanOrEqual(1_200);
    expect(waited).toBeLessThan(2_500);
    expect(b.arrived).toEqual(['/first', '/second']);
    expect(await shedCount(running.admin, 'timeout')).toBe(1);
    b.release();
    expect((await second).status).toBe(200);
  });

  it('past QUEUE_MAX: 503 + Retry-After at once; the log says when shedding starts, why, and when it stops', async () => {
    const { running, first } = await oneBusy({
      QUEUE_MAX: '2',
      QUEUE_TIMEOUT_MS: '20000',
      LOG_LEVEL: 'info',
    });
    const queued = [fetch(`${running.proxy}/q1`), fetch(`${running.proxy}/q2`)];
    await waitDepth(running.admin, 2);
    const started = performance.now();
    const res = await fetch(`${running.proxy}/q3`);
    const took = performance.now() - started;
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(res.headers.get('x-headroom-shed')).toBe('full');
    expect(((await res.json()) as { code: string }).code).toBe('LB_ERR_OVERLOADED');
    // answered at admission, far from the 20 s deadline (the decision itself is synchronous)
    expect(took).toBeLessThan(1_000);
    expect(await shedCount(running.admin, 'full')).toBe(1);
    // one warn line when the run of 503s starts, with the reason; not one per request
    await running.proc.waitForOutput(/shedding requests \(503\): .*QUEUE_MAX/, 2_000);
    const b = backend as Gate;
    for (let i = 1; i <= 3; i++) {
      // each release after its request reached the backend (a loaded box dispatches late)
      await waitFor(async () => b.arrived.length === i, {
        timeoutMs: 5_000,
        message: `request ${i} dispatched`,
      });
      b.release();
    }
    expect((await first).status).toBe(200);
    for (const p of queued) expect((await p).status).toBe(200);
    // and one line when none was shed for SHED_QUIET_MS (5 s), with the count by reason
    await running.proc.waitForOutput(/stopped shedding: 1 request answered 503/, 10_000);
    const lines = running.proc
      .output()
      .split('\n')
      .filter((l) => l.includes('shedding'));
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[1]!)).toMatchObject({ shed: { full: 1 } });
  }, 20_000);

  it('a client that leaves stops waiting and never reaches the backend', async () => {
    const { running, first } = await oneBusy({ QUEUE_TIMEOUT_MS: '20000' });
    const abort = new AbortController();
    const gone = fetch(`${running.proxy}/gone`, { signal: abort.signal }).catch((e: Error) => e.name);
    await waitDepth(running.admin, 1);
    abort.abort();
    expect(await gone).toBe('AbortError');
    await waitDepth(running.admin, 0);
    expect(await shedCount(running.admin, 'client-gone')).toBe(1);
    const next = fetch(`${running.proxy}/next`);
    await waitDepth(running.admin, 1);
    const b = backend as Gate;
    b.release();
    await waitFor(async () => b.arrived.length === 2, { timeoutMs: 5_000, message: 'next dispatched' });
    b.release();
    expect(b.arrived).toEqual(['/first', '/next']);
    expect((await first).status).toBe(200);
    expect((await next).status).toBe(200);
  });

  it("a waiting request's body is not read: the client's upload stalls until a backend takes it, then arrives whole", async () => {
    const { running, first } = await oneBusy({ QUEUE_TIMEOUT_MS: '20000' });
    const body = Buffer.alloc(32 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 4096) body.writeUInt32LE(i, i);
    const sha = createHash('sha256').update(body).digest('hex');
    const { port } = new URL(running.proxy);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    let response = '';
    socket.on('data', (d: Buffer) => {
      response += d.toString('latin1');
    });
    socket.write(
      `POST /upload HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`,
    );
    socket.write(body);
    await waitDepth(running.admin, 1);
    // give a reader time to drain what it could: nothing does, so most of 32 MiB stays with the client
    await new Promise((r) => setTimeout(r, 500));
    expect(socket.writableLength).toBeGreaterThan(16 * 1024 * 1024);
    const b = backend as Gate;
    expect(b.arrived).toEqual(['/first']);
    b.release();
    await waitFor(async () => b.arrived.length === 2, { timeoutMs: 5_000, message: 'upload dispatched' });
    b.release();
    await new Promise<void>((r) => socket.once('close', () => r()));
    expect(response).toMatch(/^HTTP\/1\.1 200/);
    // the body, whatever its framing (chunked through the proxy)
    const answer = JSON.parse(response.slice(response.indexOf('{'), response.lastIndexOf('}') + 1)) as {
      size: number;
      sha256: string;
    };
    expect(answer).toEqual({ url: '/upload', size: body.length, sha256: sha });
    expect((await first).status).toBe(200);
  });
});

/** The autoscaler's POST /api/wake, answered 200 (the test decides when the service is awake). */
async function wakeStub(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('the scale-to-zero hold is the same queue', () => {
  it('a held request and one waiting at the limit share one depth and one arrival order', async () => {
    const wake = await wakeStub();
    try {
      const token = 'one-queue-token';
      const { running, first } = await oneBusy({
        WAKE_URL: wake.url,
        ADMIN_TOKEN: token,
        QUEUE_TIMEOUT_MS: '20000',
      });
      const state = (s: string) =>
        fetch(`${running.admin}/api/service/state`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ state: s }),
        });
      // waits at the limit (the backend holds /first)
      const q1 = fetch(`${running.proxy}/q1`);
      await waitDepth(running.admin, 1);
      // the autoscaler announces a sleep while the replica still runs: the next request is held
      expect((await state('sleeping')).status).toBe(200);
      const h1 = fetch(`${running.proxy}/h1`);
      const list = async () =>
        backendListSchema.parse(await (await fetch(`${running.admin}/api/backends`)).json());
      await waitFor(async () => (await list()).service?.held === 1, { timeoutMs: 5_000, message: 'h1 held' });
      // one depth: the held request and the one at the limit are the same queue's
      expect((await list()).queue?.depth).toBe(2);
      const metrics = await (await fetch(`${running.admin}/metrics`)).text();
      expect(metrics).toMatch(/headroom_lb_queue_depth\{service="default",cause="limit"\} 1\n/);
      expect(metrics).toMatch(/headroom_lb_queue_depth\{service="default",cause="hold"\} 1\n/);
      // the sleep is aborted: the held request keeps its place, and a later one queues behind it
      expect((await state('awake')).status).toBe(200);
      const q2 = fetch(`${running.proxy}/q2`);
      await waitDepth(running.admin, 3);
      const b = backend as Gate;
      expect(b.arrived).toEqual(['/first']);
      for (let i = 1; i <= 3; i++) {
        b.release();
        await waitFor(async () => b.arrived.length === i + 1, {
          timeoutMs: 5_000,
          message: `${i + 1} at the backend`,
        });
      }
      b.release();
      // one order across both causes: the backend saw them as they came
      expect(b.arrived).toEqual(['/first', '/q1', '/h1', '/q2']);
      for (const p of [first, q1, h1, q2]) expect((await p).status).toBe(200);
      const after = await (await fetch(`${running.admin}/metrics`)).text();
      expect(after).toMatch(/headroom_lb_queue_wait_seconds_count\{service="default",cause="hold"\} 1\n/);
      expect(after).toMatch(/headroom_lb_queue_wait_seconds_count\{service="default",cause="limit"\} 2\n/);
    } finally {
      await wake.close();
    }
  });
});
