// `pnpm bench heap-cap` (issue #27): what the balancer image's V8 old-space cap
// (BALANCER_NODE_OPTIONS, --max-old-space-size) does to a large pool with many connections.
// 50 services behind host routes, two backends each (one small node:http process serving all
// 100 ports: the balancer's memory is what is measured). A few generator processes
// (lib/conn-worker.ts) open `connections` keep-alive connections spread evenly over the 50
// hosts, ramping up, and each connection sends a GET every `periodMs` while it is held: all of
// them open and in use at once, at a request rate the shared machine can serve. The balancer
// runs once per cap, fresh each time; every 500 ms its V8 heap in use and old space are sampled
// from /metrics, its resident memory is the kernel's high-water mark, and its GC time is read
// before and after. A cap too small shows as a crash (V8's "heap out of memory"), failed
// requests, lost connections, or GC eating the CPU.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { WorkerConfig, WorkerReport } from '../lib/conn-worker.js';
import { quantile } from '../lib/load.js';
import { freePort, healthyBackends, startHeadroom, stopProcess, waitFor } from '../lib/procs.js';
import { peakRssMiB } from '../lib/rss.js';

export interface HeapCapRow {
  /** --max-old-space-size in MiB. */
  capMiB: number;
  /** The balancer still ran when the load ended. */
  survived: boolean;
  exit: string | null;
  /** Connections open at once: the lowest count over the hold (every generator's sum). */
  heldConnections?: number;
  /** Requests answered per second during the hold. */
  rps: number;
  /** Requests answered 200 over the whole run (ramp and hold). */
  ok?: number;
  /** Requests failed over the whole run: a non-200, a timeout, or the connection closed under it. */
  errors: number;
  /** Connections the proxy closed or reset while the generator still held them. */
  lost?: number;
  /** Failure reasons and counts. */
  errorKinds?: Record<string, number>;
  p99Ms?: number;
  idleHeapUsedMiB?: number;
  peakRssMiB: number;
  peakHeapUsedMiB: number;
  /** The lowest heap in use sampled during the hold: an upper bound of what is live then. */
  holdHeapFloorMiB?: number;
  peakOldSpaceMiB: number;
  /** Seconds of GC pauses during the load (nodejs_gc_duration_seconds, every kind). */
  gcSeconds: number;
}

export interface HeapCapResult {
  connections: number;
  services: number;
  backendsPerService: number;
  /** Seconds every connection is held after the last one opened. */
  seconds: number;
  /** Each connection's request interval (absent in results from the autocannon version). */
  periodMs?: number;
  workers?: number;
  rows: HeapCapRow[];
}

const host = (k: number) => `cap${k}.heap.test`;

async function metric(admin: string): Promise<{ heap: number; old: number; gc: number }> {
  const text = await (await fetch(`${admin}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const one = (re: RegExp) => Number(re.exec(text)?.[1] ?? Number.NaN) / 1024 ** 2;
  let gc = 0;
  for (const m of text.matchAll(/^nodejs_gc_duration_seconds_sum\{[^}]*\} (\S+)$/gm)) gc += Number(m[1]);
  return {
    heap: one(/^nodejs_heap_size_used_bytes (\S+)$/m),
    old: one(/^nodejs_heap_space_size_used_bytes\{space="old"\} (\S+)$/m),
    gc,
  };
}

/** This process's soft limit on open files; the balancer and the generators inherit it. */
function openFilesLimit(): number {
  const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
  return line === undefined || line === 'unlimited' ? Number.POSITIVE_INFINITY : Number(line);
}

/** One process serving `count` loopback ports: "ok" to every request. */
async function startPortsBackend(count: number) {
  const ports: number[] = [];
  while (ports.length < count) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const http = require('node:http');
       for (const p of ${JSON.stringify(ports)}) {
         const s = http.createServer((q, r) => { q.resume(); r.setHeader('content-type', 'text/plain'); r.end('ok'); });
         s.keepAliveTimeout = 60000;
         s.listen(p, '127.0.0.1');
       }`,
    ],
    { stdio: 'ignore' },
  );
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  await waitFor(async () => (await fetch(urls.at(-1)!)).ok, { timeoutMs: 10_000 });
  return { urls, child };
}

interface LoadOutcome {
  held: number;
  ok: number;
  failed: number;
  lost: number;
  why: Record<string, number>;
  holdOk: number;
  holdLatencies: number[];
  holdMs: number;
}

/**
 * Runs the generator processes: once every connection of every one is open (or, failing that,
 * `rampMs` + 60 s after the start), holds them all `holdMs`, then stops them. `onHolding` is
 * called when the hold starts and ends.
 */
async function runGenerators(
  port: number,
  connections: number,
  services: number,
  workers: number,
  periodMs: number,
  holdMs: number,
  onHolding: (holding: boolean) => void,
): Promise<LoadOutcome> {
  const hosts = Array.from({ length: services }, (_, k) => ({ host: host(k), path: `/k${k}` }));
  const last: WorkerReport[] = [];
  const holdLatencies: number[] = [];
  const openDuringHold: number[] = [];
  let holding = false;
  let holdStartOk = 0;
  let holdOk = 0;
  let holdFrom = 0;
  let holdTo = 0;
  const sum = (f: (r: WorkerReport) => number) => last.reduce((a, r) => a + f(r), 0);
  // the whole ramp at ~500 connections/s: 20 s for 10,000
  const openPerSecond = Math.max(1, Math.round(500 / workers));
  const rampMs = (connections / workers / openPerSecond) * 1000;
  const children = Array.from({ length: workers }, (_, w) => {
    const share = Math.floor(connections / workers) + (w < connections % workers ? 1 : 0);
    const cfg: WorkerConfig = {
      port,
      // worker w's connection i goes to host (w + i * workers) mod services: every host gets
      // connections / services of the total
      hosts: Array.from({ length: services }, (_, i) => hosts[(w + i * workers) % services]!),
      connections: share,
      openPerSecond,
      periodMs,
      timeoutMs: 30_000,
    };
    return spawn(
      process.execPath,
      [new URL('../lib/conn-worker.ts', import.meta.url).pathname, JSON.stringify(cfg)],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
  });
  let endHold: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    endHold = resolve;
  });
  const startHold = () => {
    if (holding || holdTo) return;
    holding = true;
    holdStartOk = sum((x) => x.ok);
    holdFrom = performance.now();
    onHolding(true);
    setTimeout(endHold, holdMs);
  };
  const fallback = setTimeout(startHold, rampMs + 60_000);
  const exits = children.map((child, w) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let r: WorkerReport;
      try {
        r = JSON.parse(line) as WorkerReport;
      } catch {
        return;
      }
      last[w] = r;
      if (holding) {
        holdLatencies.push(...r.latencies);
        openDuringHold.push(sum((x) => x.open));
      }
      if (last.length === workers && last.every((x) => x?.allOpen)) startHold();
    });
    return new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', () => resolve());
    });
  });
  await Promise.race([held, Promise.all(exits)]);
  clearTimeout(fallback);
  if (holding) {
    holdOk = sum((x) => x.ok) - holdStartOk;
    holdTo = performance.now();
    holding = false;
    onHolding(false);
  }
  for (const child of children) child.stdin!.end();
  await Promise.all(exits);
  const why: Record<string, number> = {};
  for (const r of last) for (const [k, v] of Object.entries(r.why)) why[k] = (why[k] ?? 0) + v;
  return {
    held: openDuringHold.length ? Math.min(...openDuringHold) : 0,
    ok: sum((r) => r.ok),
    failed: sum((r) => r.failed),
    lost: sum((r) => r.lost),
    why,
    holdOk,
    holdLatencies,
    holdMs: holdTo > holdFrom ? holdTo - holdFrom : holdMs,
  };
}

export async function heapCap(
  seconds: number,
  caps: readonly number[] = [96, 192],
  connections = 10_000,
  services = 50,
  // one request per connection every 30 s: ~330 req/s at 10,000, which the shared 2-core
  // machine serves; at 10 s (1,000 req/s offered) its overload control shed thousands (503)
  periodMs = 30_000,
  workers = 4,
): Promise<HeapCapResult> {
  const perService = 2;
  // the balancer holds every client connection and its upstream pools; each generator a quarter
  const needed = connections + 2048;
  if (openFilesLimit() < needed) {
    throw new Error(
      `heap-cap needs ${needed} open files per process (the balancer holds ${connections} connections); the limit here is ${openFilesLimit()}: raise it (\`ulimit -n ${needed}\`, or \`prlimit --nofile=${needed} --pid $$\`) and run again`,
    );
  }
  const backend = await startPortsBackend(services * perService);
  const rows: HeapCapRow[] = [];
  try {
    const backends = backend.urls.map(
      (u, i) => `${u}#service=cap${Math.floor(i / perService)}&host=${host(Math.floor(i / perService))}`,
    );
    for (const capMiB of caps) {
      const lb = await startHeadroom({
        DISCOVERY: 'static',
        BACKENDS: backends.join(','),
        METRICS_SOURCE: 'none',
        BALANCER_MODE: 'resource-aware',
        HEALTH_INTERVAL_MS: '5000',
        NODE_OPTIONS: `--max-semi-space-size=8 --max-old-space-size=${capMiB}`,
      });
      try {
        await waitFor(async () => (await healthyBackends(lb.admin)) === services * perService, {
          timeoutMs: 30_000,
        });
        const before = await metric(lb.admin);
        let peakHeap = before.heap;
        let peakOld = before.old;
        let lastGc = before.gc;
        let holding = false;
        let holdFloor = Number.POSITIVE_INFINITY;
        const timer = setInterval(() => {
          metric(lb.admin)
            .then((m) => {
              peakHeap = Math.max(peakHeap, m.heap);
              peakOld = Math.max(peakOld, m.old);
              if (holding) holdFloor = Math.min(holdFloor, m.heap);
              lastGc = m.gc;
            })
            .catch(() => undefined);
        }, 500);
        const load = await runGenerators(
          Number(new URL(lb.proxy).port),
          connections,
          services,
          workers,
          periodMs,
          seconds * 1000,
          (h) => {
            holding = h;
          },
        );
        clearInterval(timer);
        const survived = lb.proc.child.exitCode === null && lb.proc.child.signalCode === null;
        const after = survived ? await metric(lb.admin).catch(() => undefined) : undefined;
        rows.push({
          capMiB,
          survived,
          exit: survived
            ? null
            : `${lb.proc.child.exitCode ?? lb.proc.child.signalCode}: ${lb.proc.output().slice(-300)}`,
          heldConnections: load.held,
          rps: load.holdOk / (load.holdMs / 1000),
          ok: load.ok,
          errors: load.failed,
          lost: load.lost,
          errorKinds: load.why,
          p99Ms: quantile(load.holdLatencies, 0.99),
          idleHeapUsedMiB: before.heap,
          peakRssMiB: survived ? peakRssMiB(lb.pid) : Number.NaN,
          peakHeapUsedMiB: peakHeap,
          holdHeapFloorMiB: Number.isFinite(holdFloor) ? holdFloor : Number.NaN,
          peakOldSpaceMiB: peakOld,
          gcSeconds: (after?.gc ?? lastGc) - before.gc,
        });
        process.stdout.write(`  cap ${capMiB} MiB: ${JSON.stringify(rows.at(-1))}\n`);
      } finally {
        await lb.stop();
      }
    }
    return { connections, services, backendsPerService: perService, seconds, periodMs, workers, rows };
  } finally {
    await stopProcess(backend.child);
  }
}
