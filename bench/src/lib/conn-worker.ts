// One process of the many-connections load generator (heap-cap): holds `connections` keep-alive
// HTTP/1.1 connections to one proxy port and sends one GET on each every `periodMs`, round the
// hosts it is given. Raw sockets, not autocannon: a single autocannon process at 10,000
// back-to-back connections on a shared 2-core machine could not keep its own connections
// (tens of thousands of client-side errors, ~200 req/s), so it measured the generator, not the
// proxy. Several of these processes share the connections, each socket costs a few KiB here,
// and a request every few seconds per connection keeps all of them open and in use.
// Run by node directly (type stripping: node: imports only, erasable syntax only).
// Config: argv[2] is JSON (WorkerConfig). Output: one JSON line per second (WorkerReport),
// then, once its stdin is closed, a last one with `done: true`, and it exits.
import net from 'node:net';

export interface WorkerConfig {
  port: number;
  /** Host header and path for connection i: hosts[i % hosts.length]. */
  hosts: Array<{ host: string; path: string }>;
  connections: number;
  /** Connections opened per second while ramping up. */
  openPerSecond: number;
  /** Each connection sends a request this often once open (its phase spread evenly). */
  periodMs: number;
  /** A request unanswered for this long counts as failed and its connection is closed. */
  timeoutMs: number;
}

export interface WorkerReport {
  /** Connections open now. */
  open: number;
  /** Connections that had opened at some point. */
  opened: number;
  /** Connections closed by the other side, reset, or never opened. */
  lost: number;
  ok: number;
  failed: number;
  /** Failure reasons and counts. */
  why: Record<string, number>;
  /** Latencies (ms) of the requests answered since the last report. */
  latencies: number[];
  /** Every connection of this process has opened (and none was lost). */
  allOpen: boolean;
  done: boolean;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const report: WorkerReport = {
  open: 0,
  opened: 0,
  lost: 0,
  ok: 0,
  failed: 0,
  why: {},
  latencies: [],
  allOpen: false,
  done: false,
};
let stopping = false;
const sockets = new Set<net.Socket>();

function fail(why: string): void {
  report.failed++;
  report.why[why] = (report.why[why] ?? 0) + 1;
}

/** The length of the first complete HTTP response in buf and its status, or undefined. */
function parseResponse(buf: Buffer): { length: number; status: number; head: string } | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = buf.subarray(0, end).toString('latin1');
  const status = Number(head.slice(9, 12));
  const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (cl) {
    const length = end + 4 + Number(cl[1]);
    return buf.length >= length ? { length, status, head } : undefined;
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const last = buf.indexOf('\r\n0\r\n\r\n', end);
    return last < 0 ? undefined : { length: last + 7, status, head };
  }
  return { length: end + 4, status, head };
}

function connect(i: number): void {
  const target = cfg.hosts[i % cfg.hosts.length]!;
  const request = Buffer.from(`GET ${target.path} HTTP/1.1\r\nhost: ${target.host}\r\n\r\n`, 'latin1');
  const socket = net.connect({ host: '127.0.0.1', port: cfg.port });
  sockets.add(socket);
  let buf: Buffer = Buffer.alloc(0);
  let sentAt = 0;
  let inFlight = false;
  let everOpen = false;
  let timer: NodeJS.Timeout | undefined;
  const send = () => {
    if (stopping || socket.destroyed) return;
    inFlight = true;
    sentAt = performance.now();
    socket.write(request);
    timer = setTimeout(() => {
      fail('timeout');
      inFlight = false;
      socket.destroy();
    }, cfg.timeoutMs);
  };
  socket.setNoDelay(true);
  socket.on('connect', () => {
    everOpen = true;
    report.open++;
    report.opened++;
    send();
  });
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    const res = parseResponse(buf);
    if (!res) return;
    buf = buf.subarray(res.length);
    clearTimeout(timer);
    inFlight = false;
    if (res.status === 200) {
      report.ok++;
      report.latencies.push(performance.now() - sentAt);
    } else {
      // the balancer's own answers say why (errors catalogue code; overload: the shed reason)
      const code = /\r\nx-headroom-error:\s*(\S+)/i.exec(res.head)?.[1] ?? '';
      const shed = /\r\nx-headroom-shed:\s*(\S+)/i.exec(res.head)?.[1];
      fail(`status ${res.status}${code ? ` ${code}` : ''}${shed ? ` (${shed})` : ''}`);
    }
    // the next request one period later, at this connection's own phase
    setTimeout(send, cfg.periodMs);
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    if (!stopping)
      report.why[`socket ${err.code ?? err.message}`] =
        (report.why[`socket ${err.code ?? err.message}`] ?? 0) + 1;
  });
  socket.on('close', () => {
    sockets.delete(socket);
    clearTimeout(timer);
    if (everOpen) report.open--;
    if (stopping) return;
    report.lost++;
    if (inFlight) fail('closed with a request in flight');
    else if (!everOpen) fail('never connected');
  });
}

const flush = () => {
  report.allOpen = report.opened === cfg.connections && report.lost === 0;
  process.stdout.write(`${JSON.stringify(report)}\n`);
  report.latencies = [];
};
const ticker = setInterval(flush, 1000);

// open the connections at openPerSecond, each starting its first request at once; the periodic
// requests that follow are then spread over the period by the ramp itself
const step = 1000 / cfg.openPerSecond;
for (let i = 0; i < cfg.connections; i++) {
  setTimeout(() => connect(i), Math.floor(i * step));
}
// the parent decides when the hold ends (every generator's connections open, then holdMs): it
// closes this process's stdin
process.stdin.resume();
process.stdin.on('end', () => {
  stopping = true;
  clearInterval(ticker);
  report.done = true;
  flush();
  for (const s of sockets) s.destroy();
  setTimeout(() => process.exit(0), 200);
});
