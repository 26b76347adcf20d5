// A client that stops reading a large answer (the slow read of slowhttptest.test.ts, one
// connection, looked at from the backend's side): the proxy stops pulling the answer from the
// backend once the client's socket is full (backpressure: the upstream body is paused, the
// backend's writes block), and after CLIENT_IDLE_TIMEOUT_MS without the client reading it is cut
// and the backend's stream released. A client that reads slowly but steadily is not cut. Real
// balancer process; the backend is a node:http server in this process that counts what it
// handed to its socket.
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { waitFor } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLb, startLb, waitHealthy } from './lb-fixtures.js';

const IDLE_MS = 1_000;
const MIB = 1024 * 1024;
/** The answer: far more than every buffer on the way (kernel socket buffers grow to a few MiB each on loopback). */
const ANSWER_MIB = 256;

interface Answer {
  /** Bytes the backend handed to its socket (accepted by a write). */
  written: number;
  finished: boolean;
  /** performance.now() when the backend's response closed before it was finished. */
  releasedAt?: number;
}

const answers: Answer[] = [];
let server: Server;
let lb: RunningLb;

beforeAll(async () => {
  const chunk = Buffer.alloc(MIB, 7);
  server = createServer((req, res) => {
    if (req.url === '/health') return res.end('ok');
    const a: Answer = { written: 0, finished: false };
    answers.push(a);
    res.writeHead(200, { 'content-length': String(ANSWER_MIB * MIB) });
    res.on('finish', () => {
      a.finished = true;
    });
    res.on('close', () => {
      if (!a.finished) a.releasedAt = performance.now();
    });
    let n = 0;
    const write = () => {
      while (n < ANSWER_MIB && !res.destroyed) {
        n++;
        a.written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', write);
      }
      if (!res.destroyed) res.end();
    };
    write();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  lb = await startLb({
    BACKENDS: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    METRICS_SOURCE: 'none',
    CLIENT_IDLE_TIMEOUT_MS: String(IDLE_MS),
  });
  await waitHealthy(lb.admin, 1);
});

afterAll(async () => {
  await lb?.stop();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

/** Sends GET /big on a raw connection; the caller decides how it reads. */
function open(): { sock: Socket; closed: Promise<void> } {
  const sock = connect(Number(new URL(lb.proxy).port), '127.0.0.1');
  sock.write('GET /big HTTP/1.1\r\nHost: slow.test\r\n\r\n');
  sock.on('error', () => undefined);
  return { sock, closed: new Promise((r) => sock.once('close', () => r())) };
}

describe('a client that does not read', () => {
  it('pauses the backend, is cut after CLIENT_IDLE_TIMEOUT_MS and releases the backend', async () => {
    const before = answers.length;
    const { sock } = open();
    sock.pause(); // reads nothing: its kernel receive buffer fills, then the proxy's send buffer
    await waitFor(async () => answers.length > before, {
      timeoutMs: 10_000,
      message: 'the request reached the backend',
    });
    const a = answers[before]!;
    const t0 = performance.now();
    // the backend's writes block once every buffer on the way is full: the proxy stopped
    // reading the answer (without backpressure it would read the whole 256 MiB into memory)
    await waitFor(async () => a.releasedAt !== undefined || a.finished, {
      timeoutMs: IDLE_MS + 15_000,
      message: `the backend's answer released (${a.written / MIB} MiB written)`,
    });
    expect(a.finished, `the whole ${ANSWER_MIB} MiB were read from the backend`).toBe(false);
    expect(a.written).toBeLessThan(64 * MIB);
    // not before the client had stalled for CLIENT_IDLE_TIMEOUT_MS (the stall starts after t0)
    expect(a.releasedAt! - t0).toBeGreaterThanOrEqual(IDLE_MS * 0.9);
    // and the client was reset: what it gets when it reads at last is short of the answer
    let got = 0;
    sock.on('data', (d: Buffer) => {
      got += d.length;
    });
    sock.resume();
    await waitFor(async () => sock.destroyed, { timeoutMs: 10_000, message: 'the client connection closed' });
    expect(got).toBeLessThan(ANSWER_MIB * MIB);
  }, 40_000);

  it('a client reading slowly but steadily is not cut', async () => {
    const before = answers.length;
    const { sock, closed } = open();
    let got = 0;
    let gone = false;
    void closed.then(() => {
      gone = true;
    });
    // 256 KiB every 250 ms (1 MiB/s): each tick lets it read until its share is in, then
    // it stops again
    let budget = 0;
    sock.pause();
    sock.on('data', (d: Buffer) => {
      got += d.length;
      budget -= d.length;
      if (budget <= 0) sock.pause();
    });
    const reader = setInterval(() => {
      budget = 256 * 1024;
      sock.resume();
    }, 250);
    await new Promise((r) => setTimeout(r, IDLE_MS * 4));
    clearInterval(reader);
    const a = answers[before]!;
    expect(gone, 'the proxy cut a client that kept reading').toBe(false);
    expect(a.releasedAt).toBeUndefined();
    expect(got).toBeGreaterThan(2 * MIB);
    sock.destroy();
  }, 30_000);
});
