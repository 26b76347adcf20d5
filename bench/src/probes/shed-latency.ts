// Probe (not a scenario): how long the client waits for a 503 shed on arrival, against a bare
// node:http server that answers 503 at once (the floor this machine's client measures).
//   ./dev --filter @headroom/bench exec tsx src/probes/shed-latency.ts
// Two slow backends (20 ms each, any concurrency) behind Headroom with every limit pinned at 2
// (capacity ~200 req/s), 400 req/s offered for 6 s, paced; the targets alternate, RUNS pairs
// (default 3). Prints each window's p50/p99 of the 503s rejected on arrival (`full`,
// `predicted-wait`; not `timeout`) and the client process's own event-loop delay p99. GC_WATCH=1
// adds the balancer's garbage collections and event-loop delay every 6 s.
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { BALANCER_NODE_OPTIONS } from '@headroom/shared';
import { paced, quantile } from '../lib/load.js';
import { freePort, startHeadroom } from '../lib/procs.js';

const slow = (ms: number) =>
  new Promise<number>((resolve) => {
    const s = createServer((_q, r) => setTimeout(() => r.end('ok'), ms));
    s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port));
  });
const [b1, b2] = [await slow(20), await slow(20)];
const barePort = await freePort();
createServer((_q, r) => {
  r.writeHead(503, { 'retry-after': '1' });
  r.end('{}');
}).listen(barePort, '127.0.0.1');
// GC_WATCH=1: the balancer also reports its garbage collections and event-loop delay (gc-watch.cjs)
const gcWatch = process.env.GC_WATCH === '1';
const lb = await startHeadroom({
  ...(gcWatch
    ? {
        NODE_OPTIONS: `${BALANCER_NODE_OPTIONS} --require ${fileURLToPath(new URL('./gc-watch.cjs', import.meta.url))}`,
      }
    : {}),
  DISCOVERY: 'static',
  BACKENDS: `http://127.0.0.1:${b1},http://127.0.0.1:${b2}`,
  LIMIT_MIN: '2',
  LIMIT_MAX: '2',
  METRICS_SOURCE: 'none',
});
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const runs = Number(process.env.RUNS ?? 3);
for (let i = 0; i < runs; i++)
  for (const [name, url] of [
    ['bare 503', `http://127.0.0.1:${barePort}/`],
    ['headroom', `${lb.proxy}/`],
  ] as const) {
    loop.reset();
    const r = await paced(url, 400, 6, 10_000, 1024);
    const atOnce = r.rejects.filter((x) => x.cause !== 'timeout').map((x) => x.ms);
    process.stdout.write(
      `run ${i + 1} ${name}: ${atOnce.length} rejected on arrival, p50 ${quantile(atOnce, 0.5).toFixed(1)} ms, p99 ${quantile(atOnce, 0.99).toFixed(1)} ms (client loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms)\n`,
    );
  }
if (gcWatch)
  process.stdout.write(
    `${lb.proc
      .output()
      .split('\n')
      .filter((l) => l.startsWith('GCWATCH'))
      .join('\n')}\n`,
  );
await lb.stop();
process.exit(0);
