// `pnpm bench heap-cap` (issue #27): what the balancer image's V8 old-space cap
// (BALANCER_NODE_OPTIONS, --max-old-space-size) does to a large pool with many connections.
// 50 services behind host routes, two backends each (one small node:http process serving all
// 100 ports: the balancer's memory is what is measured), and autocannon holding 10,000
// keep-alive connections spread over the 50 hosts, requests back to back, for `seconds`. The
// balancer runs once per cap, fresh each time; every 500 ms its resident memory, V8 heap in use
// and old space in use are sampled, and its GC time is read from /metrics before and after.
// A cap too small shows as a crash (V8's "heap out of memory"), errors, or GC eating the CPU.
import { type ChildProcess, spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { freePort, healthyBackends, startHeadroom, stopProcess, waitFor } from '../lib/procs.js';
import { peakRssMiB } from '../lib/rss.js';

export interface HeapCapRow {
  /** --max-old-space-size in MiB. */
  capMiB: number;
  /** The balancer still ran when the load ended. */
  survived: boolean;
  exit: string | null;
  rps: number;
  errors: number;
  peakRssMiB: number;
  peakHeapUsedMiB: number;
  peakOldSpaceMiB: number;
  /** Seconds of GC pauses during the load (nodejs_gc_duration_seconds, every kind). */
  gcSeconds: number;
  /** autocannon's counts: connection errors, non-2xx answers (of which 4xx, 5xx), timeouts. */
  errorKinds?: Record<string, number>;
}

export interface HeapCapResult {
  connections: number;
  services: number;
  backendsPerService: number;
  seconds: number;
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

/** One process serving `count` loopback ports: "ok" to every request. */
async function startPortsBackend(count: number): Promise<{ urls: string[]; child: ChildProcess }> {
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

export async function heapCap(
  seconds: number,
  caps: readonly number[] = [96, 192],
  connections = 10_000,
  services = 50,
): Promise<HeapCapResult> {
  const perService = 2;
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
        const timer = setInterval(() => {
          metric(lb.admin)
            .then((m) => {
              peakHeap = Math.max(peakHeap, m.heap);
              peakOld = Math.max(peakOld, m.old);
              lastGc = m.gc;
            })
            .catch(() => undefined);
        }, 500);
        const per = Math.floor(connections / services);
        const runs = await Promise.all(
          Array.from({ length: services }, (_, k) =>
            autocannon({
              url: `${lb.proxy}/k${k}`,
              headers: { host: host(k) },
              connections: per,
              duration: seconds,
              timeout: 30,
            }),
          ),
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
          rps: runs.reduce((a, r) => a + r.requests.average, 0),
          errors: runs.reduce((a, r) => a + r.errors + r.non2xx + r.timeouts, 0),
          errorKinds: {
            errors: runs.reduce((a, r) => a + r.errors, 0),
            non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
            timeouts: runs.reduce((a, r) => a + r.timeouts, 0),
            '5xx': runs.reduce((a, r) => a + r['5xx'], 0),
            '4xx': runs.reduce((a, r) => a + r['4xx'], 0),
          },
          peakRssMiB: survived ? peakRssMiB(lb.pid) : Number.NaN,
          peakHeapUsedMiB: peakHeap,
          peakOldSpaceMiB: peakOld,
          gcSeconds: (after?.gc ?? lastGc) - before.gc,
        });
        process.stdout.write(`  cap ${capMiB} MiB: ${JSON.stringify(rows.at(-1))}\n`);
      } finally {
        await lb.stop();
      }
    }
    return { connections, services, backendsPerService: perService, seconds, rows };
  } finally {
    await stopProcess(backend.child);
  }
}
