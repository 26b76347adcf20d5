// Is the soak's heap growth a leak? (issue #27). The balancer with 10 services behind host
// routes, a little traffic (one request every 20 ms round the services), and backend churn
// through the admin API as fast as it goes: a backend added to a routed service with its routes
// every ~0.4 s and, past 10, the oldest added one removed (DELETE). Through the balancer's
// inspector: the heap left after a forced full GC, and a heap snapshot, after a 30-cycle warm-up
// and after each of two 150 s phases of churn; the kinds of object that grew between them
// (bench/src/lib/heap-snapshot.ts). A structure keyed by backend that is never cleaned grows
// in both phases in step with the cycles; a bounded one (a history of N points, timers kept
// for a while) stops growing once full. Snapshots stay in /tmp/heapsnap when
// PROBE_KEEP_SNAPSHOTS=1 (for a retainer analysis).
// Run: flock /work/wt/bench.lock ./dev --filter @headroom/bench exec tsx src/probes/churn-heap.ts
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BALANCER_NODE_OPTIONS } from '@headroom/shared';
import { Agent, request } from 'undici';
import { growth, type HeapSnapshotJson, summarize } from '../lib/heap-snapshot.js';
import { connectInspector } from '../lib/inspector.js';
import { freePort, healthyBackends, startHeadroom, waitFor } from '../lib/procs.js';

async function tiny(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
mkdirSync('/tmp/heapsnap', { recursive: true });
const services = 10;
const host = (k: number) => `p${k}.probe.test`;
const base: string[] = [];
const servers: Server[] = [];
for (let k = 0; k < services; k++) {
  const b = await tiny();
  servers.push(b.server);
  base.push(`${b.url}#service=p${k}&host=${host(k)}`);
}
const ip = await freePort();
const lb = await startHeadroom({
  DISCOVERY: 'static',
  BACKENDS: base.join(','),
  METRICS_SOURCE: 'none',
  HEALTH_INTERVAL_MS: '500',
  NODE_OPTIONS: `${BALANCER_NODE_OPTIONS} --inspect=127.0.0.1:${ip}`,
});
await waitFor(async () => (await healthyBackends(lb.admin)) === services, { timeoutMs: 20000 });
const insp = await connectInspector(ip);
const agent = new Agent({ connections: 8 });
let stopLoad = false;
let okN = 0;
let bad = 0;
const loader = (async () => {
  let i = 0;
  while (!stopLoad) {
    const k = i++ % services;
    try {
      const r = await request(`${lb.proxy}/x`, { dispatcher: agent, headers: { host: host(k) } });
      await r.body.dump();
      if (r.statusCode === 200) okN++;
      else bad++;
    } catch {
      bad++;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
})();
const churned: Array<{ id: string; server: Server }> = [];
let cycle = 0;
async function churn(n: number, ms = Number.POSITIVE_INFINITY) {
  const until = performance.now() + ms;
  for (let c = 0; c < n && performance.now() < until; c++) {
    const k = cycle++ % services;
    const b = await tiny();
    const res = await fetch(`${lb.admin}/api/backends`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: b.url, service: `p${k}`, routes: { hosts: [host(k)] } }),
    });
    const v = (await res.json()) as { id: string };
    churned.push({ id: v.id, server: b.server });
    await new Promise((r) => setTimeout(r, 400));
    if (churned.length > services) {
      const old = churned.shift()!;
      await fetch(`${lb.admin}/api/backends/${old.id}`, { method: 'DELETE' });
      old.server.closeAllConnections();
      old.server.close();
    }
  }
}
async function snap(name: string) {
  const p = `/tmp/heapsnap/${name}.heapsnapshot`;
  await insp.writeSnapshot(p);
  const s = summarize(JSON.parse(readFileSync(p, 'utf8')) as HeapSnapshotJson);
  if (process.env.PROBE_KEEP_SNAPSHOTS !== '1') rmSync(p, { force: true });
  return s;
}
await churn(30);
const live0 = await insp.liveHeapMiB();
const a = await snap('a');
process.stdout.write(`${['after warm-up', cycle, 'live', live0.toFixed(2)].join(' ')}\n`);
await churn(1e9, 150_000);
const live1 = await insp.liveHeapMiB();
const b = await snap('b');
process.stdout.write(`${['after', cycle, 'live', live1.toFixed(2)].join(' ')}\n`);
await churn(1e9, 150_000);
const live2 = await insp.liveHeapMiB();
const c = await snap('c');
process.stdout.write(`${['after', cycle, 'live', live2.toFixed(2), 'ok', okN, 'bad', bad].join(' ')}\n`);
const show = (g: ReturnType<typeof growth>) =>
  g
    .map(
      (x) =>
        `${x.kind}: ${x.countBefore}->${x.countAfter} (${((x.bytesAfter - x.bytesBefore) / 1024).toFixed(0)} KiB)`,
    )
    .join('\n');
process.stdout.write(`${['--- a->b\n' + show(growth(a, b, 20))].join(' ')}\n`);
process.stdout.write(`${['--- b->c\n' + show(growth(b, c, 20))].join(' ')}\n`);
stopLoad = true;
await loader;
insp.close();
await lb.stop();
await agent.close();
for (const s of [...servers, ...churned.map((x) => x.server)]) {
  s.closeAllConnections();
  s.close();
}
process.exit(0);
