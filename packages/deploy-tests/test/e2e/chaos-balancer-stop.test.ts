// Chaos: the balancer stopped (SIGTERM) under load. The real balancer in front of an upstream
// that answers slowly (a long poll: a stand-in for a slow service, so the requests are in flight
// for a known time without burning the machine's CPU). When SIGTERM comes: every request in flight
// finishes with its full answer before the process exits, within SHUTDOWN_GRACE_MS; a new
// connection is refused at once (ECONNREFUSED), never left hanging; and a request longer than the
// grace does not hold the exit beyond it.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ServiceProcess, startBalancer, waitFor } from '@headroom/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const GRACE_MS = 8_000;
let upstream: Server;
let upstreamUrl = '';
let lb: ServiceProcess | undefined;
let proxyPort = 0;

beforeAll(async () => {
  // /slow?ms=N answers after N ms, its body in two parts (the second at the end)
  upstream = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/health') return void res.end('ok');
    const ms = Number(u.searchParams.get('ms') ?? '0');
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('start;');
    const t = setTimeout(() => res.end(`done after ${ms}`), ms);
    res.on('close', () => clearTimeout(t));
  });
  upstream.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await lb?.stop(2_000);
  upstream?.closeAllConnections();
  await new Promise((r) => upstream?.close(r));
});

afterEach(async () => {
  await lb?.stop(2_000);
  lb = undefined;
});

/** The real balancer in front of the slow upstream, serving through the proxy. */
async function balancer(extra: Record<string, string> = {}): Promise<ServiceProcess> {
  const proc = await startBalancer({
    DISCOVERY: 'static',
    BACKENDS: upstreamUrl,
    HEALTH_INTERVAL_MS: '500',
    SHUTDOWN_GRACE_MS: String(GRACE_MS),
    LOG_LEVEL: 'info',
    ...extra,
  });
  proxyPort = proc.port;
  await waitFor(async () => (await get('/slow?ms=0', 2_000)).status === 200, {
    timeoutMs: 20_000,
    message: 'balancer serving',
  });
  return proc;
}

interface Outcome {
  status?: number;
  body?: string;
  error?: string;
  ms: number;
}

/** One request on a fresh connection (no keep-alive pool), with a deadline that marks a hang. */
function get(path: string, deadlineMs: number): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode, body, ms: Date.now() - started }));
      res.on('error', (err) => resolve({ error: err.message, body, ms: Date.now() - started }));
    });
    req.setTimeout(deadlineMs, () => req.destroy(new Error('hung')));
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ error: err.code ?? err.message, ms: Date.now() - started }),
    );
    req.end();
  });
}

describe('chaos: the balancer stopped under load', () => {
  it('finishes every request in flight within SHUTDOWN_GRACE_MS, then exits 0; new connections are refused, not hung', async () => {
    lb = await balancer();
    const proc = lb;
    // 12 requests in flight, 3 s each (a quarter of them keep arriving while the rest wait)
    const inFlight = Array.from({ length: 12 }, () => get('/slow?ms=3000', 20_000));
    await new Promise((r) => setTimeout(r, 800));
    const stoppedAt = Date.now();
    proc.child.kill('SIGTERM');
    await waitFor(() => proc.output().includes('shutting down'), {
      timeoutMs: 5_000,
      message: 'shutdown logged',
    });
    // new connections while the in-flight ones finish: refused at once
    const late: Outcome[] = [];
    for (let i = 0; i < 10; i++) {
      late.push(await get('/slow?ms=0', 5_000));
      await new Promise((r) => setTimeout(r, 100));
    }
    const code = await proc.exited;
    const exitedAfter = Date.now() - stoppedAt;
    const done = await Promise.all(inFlight);
    expect(done.map((o) => [o.status, o.body])).toEqual(done.map(() => [200, 'start;done after 3000']));
    expect(late.map((o) => o.error)).toEqual(late.map(() => 'ECONNREFUSED'));
    expect(Math.max(...late.map((o) => o.ms))).toBeLessThan(1_000);
    expect(code).toBe(0);
    // the exit waited for the in-flight requests (about 2.2 s left of them), and no longer than the grace
    expect(exitedAfter).toBeGreaterThanOrEqual(1_500);
    expect(exitedAfter).toBeLessThan(GRACE_MS);
    expect(proc.output()).toContain('"stopped"');
  });

  // docs/operations.md, "Balancer restarted (SIGTERM)": requests waiting at the concurrency limit
  // were accepted like those in flight; they go to the backend as it frees up, not a 503
  it('requests waiting in the service queue at SIGTERM are served as the backend frees up', async () => {
    // a pinned limit of 3 and a deadline longer than two waves: 3 in flight, 3 waiting
    lb = await balancer({ LIMIT_MIN: '3', LIMIT_MAX: '3', QUEUE_TIMEOUT_MS: '6000' });
    const proc = lb;
    const sent = Array.from({ length: 6 }, () => get('/slow?ms=2000', 20_000));
    await new Promise((r) => setTimeout(r, 500));
    const stoppedAt = Date.now();
    proc.child.kill('SIGTERM');
    const code = await proc.exited;
    const exitedAfter = Date.now() - stoppedAt;
    const done = await Promise.all(sent);
    expect(done.map((o) => [o.status, o.body])).toEqual(done.map(() => [200, 'start;done after 2000']));
    expect(code).toBe(0);
    // the second wave ran after the first freed the backend (~3.5 s after SIGTERM), within the grace
    expect(exitedAfter).toBeGreaterThanOrEqual(2_500);
    expect(exitedAfter).toBeLessThan(GRACE_MS);
  });

  it('does not wait past SHUTDOWN_GRACE_MS for a request longer than it', async () => {
    lb = await balancer();
    const proc = lb;
    const long = get(`/slow?ms=${GRACE_MS * 4}`, GRACE_MS * 5);
    await new Promise((r) => setTimeout(r, 500));
    const stoppedAt = Date.now();
    proc.child.kill('SIGTERM');
    const code = await proc.exited;
    const exitedAfter = Date.now() - stoppedAt;
    expect(code).toBe(1);
    expect(exitedAfter).toBeGreaterThanOrEqual(GRACE_MS - 100);
    expect(exitedAfter).toBeLessThan(GRACE_MS + 5_000);
    expect(proc.output()).toContain('grace period over');
    // the client is not left hanging: its connection ends with the process
    const outcome = await long;
    expect(outcome.status === 200 && outcome.body?.endsWith(`done after ${GRACE_MS * 4}`)).toBe(false);
    expect(outcome.ms).toBeLessThan(GRACE_MS + 5_000);
  });
});
