// Soak (issue #8, and the "no upward trend" half of benchmark scenario 5): the real balancer
// under a steady open-loop load for `seconds`, while backends come and go through the
// admin API: every `churnSeconds` a new stress backend is started and registered, and the
// oldest added one is removed, alternately the graceful way (DELETE: drained, then
// forgotten) and the hard way (SIGKILL with requests in flight, DELETE afterwards). The
// balancing mode rotates every fourth churn (every minute at the default 15 s). Every failed request is counted with its reason;
// the balancer's resident memory is sampled every 5 s.
// Issue #27: `services` more services behind host routes (half of them also behind a path
// prefix, stripped), two small backends each (plain node:http servers in this process: the
// balancer's memory is what is measured, not the backends'), a quarter of all requests over
// the TLS listener, and churn on them too: every churn one routed service gets a new backend
// through the admin API (with its routes) and loses its oldest added one (DELETE).
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BALANCER_NODE_OPTIONS } from '@headroom/shared';
import { type RunningBackend, startBackend } from '@headroom/testkit';
import { Agent, request } from 'undici';
import { makeBenchCert } from '../lib/bench-cert.js';
import { growth, type HeapSnapshotJson, type KindGrowth, summarize } from '../lib/heap-snapshot.js';
import { connectInspector, type Inspector } from '../lib/inspector.js';
import { quantile } from '../lib/load.js';
import { freePort, healthyBackends, setMode, startHeadroom, waitFor } from '../lib/procs.js';
import { rssMiB, slope } from '../lib/rss.js';

const MODES = ['resource-aware', 'least-connections', 'latency', 'round-robin'] as const;

export interface SoakResult {
  seconds: number;
  rate: number;
  churnSeconds: number;
  sent: number;
  ok: number;
  failed: number;
  failures: Record<string, number>;
  p50: number;
  p99: number;
  added: number;
  removedGracefully: number;
  killed: number;
  modeSwitches: number;
  /** [s since start, RSS MiB] every 5 s. */
  rss: Array<[number, number]>;
  /** After the first fifth (warm-up): least-squares RSS slope, MiB per 10 minutes. */
  rssSlopeMiBPer10Min: number;
  /** Medians of the second and last thirds of the run. */
  rssMiddleMiB: number;
  rssEndMiB: number;
  /** V8 heap in use (from the balancer's /metrics) every 5 s, MiB: it includes garbage not yet collected. */
  heap: Array<[number, number]>;
  /** Slope of the per-minute minimum of heap in use after warm-up, MiB per 10 min: the live set's trend. */
  heapFloorSlopeMiBPer10Min: number;
  /**
   * Heap in use right after a forced full GC (through the balancer's inspector), MiB, every
   * `liveHeapEverySeconds`: the live set itself, garbage excluded (absent in older results).
   */
  liveHeap?: Array<[number, number]>;
  /** Least-squares slope of liveHeap after the first fifth, MiB per 10 min. */
  liveHeapSlopeMiBPer10Min?: number;
  /** With snapshots: the kinds of object that grew most between the first fifth and the end. */
  snapshotGrowth?: { fromSeconds: number; toSeconds: number; kinds: KindGrowth[] };
  /** Routed services besides the default one (0 in results before issue #27). */
  services?: number;
  /** Requests sent over the TLS listener. */
  tlsSent?: number;
  /** Backends added to and removed from routed services through the admin API. */
  routedAdded?: number;
  routedRemoved?: number;
}

/** A small backend in this process: "ok" to everything (the TCP health check connects). */
async function tinyBackend(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    res.setHeader('content-type', 'text/plain');
    res.end('ok');
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const svcName = (k: number) => `soak${k}`;
const svcHost = (k: number) => `soak${k}.soak.test`;
/** Odd services sit behind a path prefix too (stripped before forwarding). */
const svcRoutes = (k: number) =>
  k % 2 === 1 ? { hosts: [svcHost(k)], path: '/api', strip: true } : { hosts: [svcHost(k)] };
const svcFragment = (k: number) =>
  `#service=${svcName(k)}&host=${svcHost(k)}${k % 2 === 1 ? '&path=/api&strip=true' : ''}`;

async function heapUsedMiB(adminUrl: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const m = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
  return m ? Number(m[1]) / 1024 ** 2 : Number.NaN;
}

interface BackendsBody {
  backends: Array<{ id: string; url: string; state: string }>;
}

async function admin(base: string, method: string, path: string, body?: unknown): Promise<Response> {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res;
}

const listBackends = async (base: string) =>
  ((await (await admin(base, 'GET', '/api/backends')).json()) as BackendsBody).backends;

export interface SoakProbes {
  /** Force a full GC through the inspector and record the heap left this often (0: never). */
  liveHeapEverySeconds?: number;
  /** Write heap snapshots here at the first fifth and at the end, and compare them. */
  snapshotDir?: string;
}

async function snapshotSummary(inspector: Inspector, path: string) {
  await inspector.writeSnapshot(path);
  const summary = summarize(JSON.parse(readFileSync(path, 'utf8')) as HeapSnapshotJson);
  rmSync(path, { force: true });
  return summary;
}

export async function soak(
  seconds: number,
  rate = 100,
  churnSeconds = 15,
  services = 10,
  probes: SoakProbes = { liveHeapEverySeconds: 60 },
): Promise<SoakResult> {
  const stable = await Promise.all([1, 2].map((i) => startBackend({ instance: `soak-stable-${i}` })));
  const tiny: Server[] = [];
  const routed: string[] = [];
  for (let k = 0; k < services; k++) {
    for (let j = 0; j < 2; j++) {
      const b = await tinyBackend();
      tiny.push(b.server);
      routed.push(`${b.url}${svcFragment(k)}`);
    }
  }
  const cert = makeBenchCert();
  const tlsPort = await freePort();
  const inspectPort = await freePort();
  const inspecting = (probes.liveHeapEverySeconds ?? 0) > 0 || probes.snapshotDir !== undefined;
  const lb = await startHeadroom({
    // the image's heap settings, and the inspector on loopback for the forced GCs and snapshots
    ...(inspecting ? { NODE_OPTIONS: `${BALANCER_NODE_OPTIONS} --inspect=127.0.0.1:${inspectPort}` } : {}),
    DISCOVERY: 'static',
    BACKENDS: [...stable.map((b) => b.url), ...routed].join(','),
    METRICS_SOURCE: 'backend',
    BALANCER_MODE: MODES[0],
    HEALTH_INTERVAL_MS: '500',
    TLS_PORT: String(tlsPort),
    TLS_CERT_DIR: cert.dir,
  });
  const tlsBase = `https://127.0.0.1:${tlsPort}`;
  const routedChurn: Array<{ server: Server; id: string; service: number }> = [];
  let tlsSent = 0;
  let routedAdded = 0;
  let routedRemoved = 0;
  const churn: Array<{ backend: RunningBackend; id: string }> = [];
  const failures: Record<string, number> = {};
  const latencies: number[] = [];
  const rss: Array<[number, number]> = [];
  const heap: Array<[number, number]> = [];
  const liveHeap: Array<[number, number]> = [];
  let inspector: Inspector | undefined;
  let sent = 0;
  let ok = 0;
  let added = 0;
  let removedGracefully = 0;
  let killed = 0;
  let modeSwitches = 0;
  const fail = (why: string) => {
    failures[why] = (failures[why] ?? 0) + 1;
  };
  try {
    await waitFor(async () => (await healthyBackends(lb.admin)) === 2 + 2 * services, { timeoutMs: 30_000 });
    const agent = new Agent({ connections: 256, headersTimeout: 10_000, bodyTimeout: 10_000 });
    // the bench certificate is self-signed: this client is not what is tested
    const tlsAgent = new Agent({
      connections: 64,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
      connect: { rejectUnauthorized: false },
    });
    const start = performance.now();
    const endAt = start + seconds * 1000;
    let crashed: string | undefined;
    const rssTimer = setInterval(() => {
      const t = (performance.now() - start) / 1000;
      if (lb.proc.child.exitCode !== null || lb.proc.child.signalCode !== null) {
        crashed ??= `the balancer exited (${lb.proc.child.exitCode ?? lb.proc.child.signalCode}) at ${t.toFixed(0)} s:\n${lb.proc.output().slice(-3000)}`;
        return;
      }
      rss.push([t, rssMiB(lb.pid)]);
      heapUsedMiB(lb.admin)
        .then((v) => heap.push([t, v]))
        .catch(() => undefined);
    }, 5000);
    rss.push([0, rssMiB(lb.pid)]);
    if (inspecting) inspector = await connectInspector(inspectPort);
    // forced GCs and snapshots, one at a time
    const probing = (async () => {
      if (!inspector) return undefined;
      const every = (probes.liveHeapEverySeconds ?? 0) * 1000;
      const snapAt = start + (seconds * 1000) / 5;
      let first: { t: number; summary: Awaited<ReturnType<typeof snapshotSummary>> } | undefined;
      let nextLive = start + every;
      while (performance.now() < endAt - 1000) {
        await new Promise((r) => setTimeout(r, 500));
        const now = performance.now();
        if (every > 0 && now >= nextLive) {
          nextLive += every;
          liveHeap.push([(now - start) / 1000, await inspector.liveHeapMiB()]);
        }
        if (probes.snapshotDir && !first && now >= snapAt)
          first = {
            t: (now - start) / 1000,
            summary: await snapshotSummary(inspector, `${probes.snapshotDir}/soak-1.heapsnapshot`),
          };
      }
      if (!probes.snapshotDir || !first) return undefined;
      const t = (performance.now() - start) / 1000;
      const last = await snapshotSummary(inspector, `${probes.snapshotDir}/soak-2.heapsnapshot`);
      return { fromSeconds: first.t, toSeconds: t, kinds: growth(first.summary, last) };
    })();

    // open loop: request i is due at start + i / rate, whatever happened to the others
    const inflight = new Set<Promise<void>>();
    const load = (async () => {
      for (let i = 0; ; i++) {
        const due = start + (i * 1000) / rate;
        if (due >= endAt) break;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        sent++;
        // request i: the default service (stress backends) or routed service k, every 4th over TLS
        const k = (i % (services + 1)) - 1;
        const tls = i % 4 === 3;
        if (tls) tlsSent++;
        const base = tls ? tlsBase : lb.proxy;
        const path = k < 0 ? '/load?ms=2' : k % 2 === 1 ? `/api/r${i % 7}` : `/r${i % 7}`;
        const p: Promise<void> = request(`${base}${path}`, {
          dispatcher: tls ? tlsAgent : agent,
          ...(k < 0 ? {} : { headers: { host: svcHost(k) } }),
        })
          .then(async (res) => {
            await res.body.dump();
            if (res.statusCode === 200) {
              ok++;
              latencies.push(performance.now() - due);
            } else fail(`HTTP ${res.statusCode}`);
          })
          .catch((err: Error & { code?: string }) => fail(err.code ?? err.message))
          .finally(() => inflight.delete(p));
        inflight.add(p);
      }
      await Promise.all(inflight);
    })();

    const churner = (async () => {
      let tick = 0;
      while (performance.now() + churnSeconds * 1000 < endAt) {
        await new Promise((r) => setTimeout(r, churnSeconds * 1000));
        tick++;
        const backend = await startBackend({ instance: `soak-churn-${tick}` });
        const view = (await (
          await admin(lb.admin, 'POST', '/api/backends', { url: backend.url })
        ).json()) as {
          id: string;
        };
        churn.push({ backend, id: view.id });
        added++;
        await waitFor(
          async () => (await listBackends(lb.admin)).some((b) => b.id === view.id && b.state === 'healthy'),
          { timeoutMs: 10_000, message: `${view.id} healthy` },
        );
        if (churn.length > 1) {
          const old = churn.shift()!;
          if (tick % 2 === 0) {
            await admin(lb.admin, 'DELETE', `/api/backends/${old.id}`);
            await waitFor(async () => !(await listBackends(lb.admin)).some((b) => b.id === old.id), {
              timeoutMs: 30_000,
              message: `${old.id} drained and removed`,
            });
            await old.backend.stop();
            removedGracefully++;
          } else {
            old.backend.child.kill('SIGKILL');
            await old.backend.exited;
            killed++;
            await new Promise((r) => setTimeout(r, 1000));
            await admin(lb.admin, 'DELETE', `/api/backends/${old.id}`);
          }
        }
        if (services > 0) {
          // a routed service gets a new backend with its routes, and loses its oldest added one
          const k = tick % services;
          const b = await tinyBackend();
          const view = (await (
            await admin(lb.admin, 'POST', '/api/backends', {
              url: b.url,
              service: svcName(k),
              routes: svcRoutes(k),
            })
          ).json()) as { id: string };
          routedChurn.push({ server: b.server, id: view.id, service: k });
          routedAdded++;
          await waitFor(
            async () => (await listBackends(lb.admin)).some((x) => x.id === view.id && x.state === 'healthy'),
            { timeoutMs: 10_000, message: `${view.id} healthy` },
          );
          if (routedChurn.length > services) {
            const old = routedChurn.shift()!;
            await admin(lb.admin, 'DELETE', `/api/backends/${old.id}`);
            await waitFor(async () => !(await listBackends(lb.admin)).some((x) => x.id === old.id), {
              timeoutMs: 30_000,
              message: `${old.id} drained and removed`,
            });
            old.server.closeAllConnections();
            old.server.close();
            routedRemoved++;
          }
        }
        if (tick % 4 === 0) {
          await setMode(lb.admin, MODES[modeSwitches % MODES.length]!);
          modeSwitches++;
        }
      }
    })();

    const [, , snapshotGrowth] = await Promise.all([load, churner, probing]);
    clearInterval(rssTimer);
    if (crashed) throw new Error(crashed);
    rss.push([(performance.now() - start) / 1000, rssMiB(lb.pid)]);
    await agent.close();
    await tlsAgent.close();

    const settled = rss.filter(([t]) => t >= seconds / 5);
    const third = (k: number) =>
      quantile(
        rss.filter(([t]) => t >= (k * seconds) / 3 && t < ((k + 1) * seconds) / 3 + 1).map(([, v]) => v),
        0.5,
      );
    const floors: Array<[number, number]> = [];
    for (let from = seconds / 5; from < seconds; from += 60) {
      const win = heap.filter(([t]) => t >= from && t < from + 60).map(([, v]) => v);
      if (win.length > 0) floors.push([from + 30, Math.min(...win)]);
    }
    return {
      seconds,
      rate,
      churnSeconds,
      sent,
      ok,
      failed: sent - ok,
      failures,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      added,
      removedGracefully,
      killed,
      modeSwitches,
      rss,
      rssSlopeMiBPer10Min: slope(settled) * 600,
      rssMiddleMiB: third(1),
      rssEndMiB: third(2),
      heap,
      heapFloorSlopeMiBPer10Min: slope(floors) * 600,
      ...(liveHeap.length
        ? {
            liveHeap,
            liveHeapSlopeMiBPer10Min: slope(liveHeap.filter(([t]) => t >= seconds / 5)) * 600,
          }
        : {}),
      ...(snapshotGrowth ? { snapshotGrowth } : {}),
      services,
      tlsSent,
      routedAdded,
      routedRemoved,
    };
  } finally {
    inspector?.close();
    await lb.stop();
    await Promise.all([...stable, ...churn.map((c) => c.backend)].map((b) => b.stop()));
    for (const server of [...tiny, ...routedChurn.map((c) => c.server)]) {
      server.closeAllConnections();
      server.close();
    }
  }
}
