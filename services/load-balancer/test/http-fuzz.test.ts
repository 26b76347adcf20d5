// Property-based fuzzing of the real proxy process with malformed and adversarial HTTP/1.1:
// broken framing, duplicate and conflicting Content-Length / Transfer-Encoding, obs-fold,
// huge header counts, bad methods, targets and versions, bytes trickled in pieces and
// heads that never finish (slowloris). Invariants, for every generated request:
//  - the balancer never crashes (still serving /healthz at the end, same process);
//  - no client is kept past its timeouts: each connection is answered or closed within
//    CLIENT_HEADER_TIMEOUT_MS plus a margin;
//  - a request it answered with 4xx never reached the backend complete (each request carries
//    a marker the backend records once the request has ended);
//  - well-formed traffic sent meanwhile is served, every request 200.
// HEADROOM_FUZZ_RUNS sets the number of generated requests (a short run by default).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLb, startLb, waitHealthy } from './lb-fixtures.js';

const RUNS = Number(process.env.HEADROOM_FUZZ_RUNS ?? 120);
const HEADER_TIMEOUT_MS = 1000;
/** A connection must be answered or closed within this (the head timeout plus Node's check tick and slack). */
const CASE_LIMIT_MS = HEADER_TIMEOUT_MS + 2500;

const seen = new Set<string>();
let backend: Server;
let lb: RunningLb;

function record(req: IncomingMessage): void {
  const fromUrl = /\/fz\/([a-z0-9]+)/.exec(req.url ?? '')?.[1];
  if (fromUrl) seen.add(fromUrl);
  const fromHeader = req.headers['x-fuzz-id'];
  if (typeof fromHeader === 'string') seen.add(fromHeader);
}

beforeAll(async () => {
  backend = createServer((req, res) => {
    req.resume();
    // a request counts as delivered once complete: a streaming proxy sends the head before
    // the body, so a body the client cuts short (answered 400) reaches the backend aborted
    req.on('end', () => {
      record(req);
      res.end(req.url === '/health' ? 'ok' : 'fine');
    });
    req.on('error', () => undefined);
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const port = (backend.address() as { port: number }).port;
  lb = await startLb({
    BACKENDS: `http://127.0.0.1:${port}`,
    METRICS_SOURCE: 'none',
    CLIENT_HEADER_TIMEOUT_MS: String(HEADER_TIMEOUT_MS),
    RESPONSE_TIMEOUT_MS: '2000',
    BODY_TIMEOUT_MS: '2000',
  });
  await waitHealthy(lb.admin, 1);
});
afterAll(async () => {
  await lb?.stop();
  backend?.closeAllConnections();
  backend?.close();
});

// ---- generators ---------------------------------------------------------------------------

const method = fc.oneof(
  fc.constantFrom('GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH'),
  fc.constantFrom('get', 'G ET', 'GE\tT', 'CONNECT', 'TRACE', 'PRI', '', 'X'.repeat(300), 'GET\u0000', 'ÄÖ'),
);
const target = (id: string) =>
  fc.oneof(
    fc.constant(`/fz/${id}`),
    fc.constantFrom(
      `/fz/${id}?a=%zz`,
      `/fz/${id}#frag`,
      `//fz/${id}`,
      `http://other.example/fz/${id}`,
      `/fz/${id}/${'a'.repeat(9000)}`,
      `/fz/${id} extra`,
      `/fz/${id}\u007f`,
      '*',
      '',
      'fz',
    ),
  );
const version = fc.constantFrom(
  'HTTP/1.1',
  'HTTP/1.1',
  'HTTP/1.0',
  'HTTP/2.0',
  'HTTP/1.1x',
  'HTTP/9.9',
  'HTTP/1',
);
const framing = fc.oneof(
  fc.constant<readonly string[]>([]),
  fc.constantFrom<readonly string[]>(
    ['Content-Length: 5'],
    ['Content-Length: 5', 'Content-Length: 5'],
    ['Content-Length: 5', 'Content-Length: 6'],
    ['Content-Length: -1'],
    ['Content-Length: +5'],
    ['Content-Length: 5x'],
    ['Content-Length: 99999999999999999999'],
    ['Content-Length: 5, 5'],
    ['Transfer-Encoding: chunked'],
    ['Transfer-Encoding: chunked', 'Content-Length: 5'],
    ['Transfer-Encoding: chunked, identity'],
    ['Transfer-Encoding: identity, chunked'],
    ['Transfer-Encoding: xchunked'],
    ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'],
    ['Transfer-Encoding : chunked'],
    ['Transfer-Encoding:\tchunked'],
  ),
);
const oddHeaders = fc.array(
  fc.oneof(
    fc.constantFrom(
      'X-Fold: a\r\n b',
      'X-Fold: a\r\n\tb',
      'NoColon',
      'X-Space : v',
      ' Leading: v',
      'X-Bad\u0001Name: v',
      'X-Nul: a\u0000b',
      'Host: second.example',
      'Connection: close',
      'Connection: keep-alive, Upgrade',
      'Upgrade: websocket',
      'Expect: 100-continue',
      `X-Long: ${'v'.repeat(70_000)}`,
    ),
    fc.string({ maxLength: 40 }).map((s) => `X-R: ${s}`),
  ),
  { maxLength: 6 },
);
const manyHeaders = fc.oneof(
  { weight: 4, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: 50, max: 3000 }) },
);
const body = fc.oneof(
  fc.constantFrom(
    '',
    'hello',
    '5\r\nhello\r\n0\r\n\r\n',
    'zz\r\nhello\r\n0\r\n\r\n',
    '5\r\nhel',
    '0\r\n\r\nGET /fz/smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
  ),
  fc.string({ maxLength: 64 }),
);
/** How the bytes go out: at once, trickled in pieces, or a head that never ends (slowloris). */
const delivery = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'whole' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('trickle' as const),
      piece: fc.integer({ min: 1, max: 40 }),
      gapMs: fc.integer({ min: 0, max: 30 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'stall' as const }) },
);

const fuzzCase = fc
  .string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'), minLength: 10, maxLength: 10 })
  .chain((id) =>
    fc.record({
      id: fc.constant(id),
      method,
      target: target(id),
      version,
      host: fc.constantFrom('Host: fuzz.example', '', 'Host: ', 'Host: a b'),
      framing,
      odd: oddHeaders,
      many: manyHeaders,
      body,
      delivery,
    }),
  );

function bytesOf(c: {
  id: string;
  method: string;
  target: string;
  version: string;
  host: string;
  framing: readonly string[];
  odd: readonly string[];
  many: number;
  body: string;
}): string {
  const lines = [`${c.method} ${c.target} ${c.version}`];
  if (c.host) lines.push(c.host);
  lines.push(`X-Fuzz-Id: ${c.id}`, ...c.framing, ...c.odd);
  for (let i = 0; i < c.many; i++) lines.push(`X-H${i}: ${i}`);
  return `${lines.join('\r\n')}\r\n\r\n${c.body}`;
}

interface CaseResult {
  statuses: number[];
  closedInMs: number;
}

/** Sends one case on its own connection; resolves when the proxy closed it, or at the limit. */
function send(
  text: string,
  d: { kind: 'whole' } | { kind: 'trickle'; piece: number; gapMs: number } | { kind: 'stall' },
): Promise<CaseResult> {
  const port = Number(new URL(lb.proxy).port);
  return new Promise((resolve) => {
    const started = Date.now();
    const sock = connect(port, '127.0.0.1');
    let out = '';
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(limit);
      const statuses = [...out.matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
      resolve({ statuses, closedInMs: Date.now() - started });
      sock.destroy();
    };
    const limit = setTimeout(finish, CASE_LIMIT_MS + 2000);
    sock.on('data', (b) => {
      out += b.toString('latin1');
    });
    sock.on('close', finish);
    sock.on('error', finish);
    const data = Buffer.from(text, 'latin1');
    if (d.kind === 'whole') {
      sock.end(data);
    } else if (d.kind === 'stall') {
      // a head that never ends: only the server's header timeout may close it
      sock.write(data.subarray(0, Math.max(1, Math.min(data.length - 4, 30))));
    } else {
      let at = 0;
      const next = () => {
        if (done || sock.destroyed) return;
        if (at >= data.length) {
          sock.end();
          return;
        }
        sock.write(data.subarray(at, at + d.piece));
        at += d.piece;
        setTimeout(next, d.gapMs);
      };
      next();
    }
  });
}

describe('HTTP/1.1 fuzzing against the real proxy', () => {
  it(`${RUNS} malformed and adversarial requests: no crash, no hang, no 4xx forwarded, good traffic served`, async () => {
    const pid = lb.proc.child.pid;
    let running = true;
    const good: number[] = [];
    const traffic = (async () => {
      while (running) {
        const res = await fetch(`${lb.proxy}/well-formed`).catch(() => undefined);
        good.push(res?.status ?? 0);
        await res?.arrayBuffer();
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      await fc.assert(
        fc.asyncProperty(fuzzCase, async (c) => {
          const text = bytesOf(c);
          const r = await send(text, c.delivery);
          expect(r.closedInMs, 'answered or closed within its timeouts').toBeLessThanOrEqual(CASE_LIMIT_MS);
          const first = r.statuses[0];
          if (first !== undefined && first >= 400 && first < 500) {
            // give a forwarded request a moment to reach the backend before judging
            await new Promise((res) => setTimeout(res, 20));
            expect(seen.has(c.id), `answered ${first}, yet it reached the backend`).toBe(false);
          }
        }),
        { numRuns: RUNS, interruptAfterTimeLimit: 240_000 },
      );
    } finally {
      running = false;
      await traffic;
    }
    // the same process still serves
    expect(lb.proc.child.exitCode).toBeNull();
    expect(lb.proc.child.pid).toBe(pid);
    expect((await fetch(`${lb.admin}/healthz`)).status).toBe(200);
    expect((await fetch(`${lb.proxy}/after`)).status).toBe(200);
    expect(good.length).toBeGreaterThan(10);
    expect(good.filter((s) => s !== 200)).toEqual([]);
  }, 300_000);
});
