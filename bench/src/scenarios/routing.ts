// `pnpm bench routing` (issue #24): what the front door costs.
//  1. TLS: one trivial backend behind Headroom's TLS listener, the minimal node:https +
//     undici Pool proxy, and HAProxy, NGINX and Caddy terminating TLS with the same P-256
//     certificate; wrk (1 thread) over keep-alive connections, then with `Connection: close`
//     so every request is a new TLS handshake (wrk does not resume sessions). Targets take
//     turns in a rotating order, each figure is the median of the runs.
//  2. Plain-HTTP routing: Headroom with one catch-all service against Headroom with 50
//     services and 200 host routes (static discovery, routes in the BACKENDS fragments),
//     requests for one of the routed hosts; alternating, medians.
//  3. The route lookup alone (the routing room's RouteTable, in this process) at 1, 50
//     and 500 routes: nanoseconds per lookup over a mix of hosts and paths.
// Parts 2 and 3 need the routing room (services/load-balancer/src/routing); without it
// they are reported as skipped, with the reason.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startCaddy } from '../competitors/caddy.js';
import { startHaproxy } from '../competitors/haproxy.js';
import { startMinimalProxy } from '../competitors/minimal-proxy.js';
import { startNginx } from '../competitors/nginx.js';
import { makeBenchCert } from '../lib/bench-cert.js';
import { treeCpuSeconds } from '../lib/cpu.js';
import { type MaxRate, median, wrkMaxRate } from '../lib/load.js';
import {
  freePort,
  healthyBackends,
  probe,
  repoRoot,
  startHeadroom,
  startTrivialBackend,
  stopProcess,
  waitFor,
} from '../lib/procs.js';

export const TLS_MINIMAL = 'minimal node:https + undici Pool';

export interface RoutingResult {
  connections: number;
  seconds: number;
  runs: number;
  tls: {
    keepAlive: Record<string, MaxRate>;
    handshakes: Record<string, MaxRate>;
    missing: string[];
    /** Keep-alive: CPU microseconds each target's process spent per request (median of the runs). */
    cpuUs?: Record<string, number>;
    /** The same with a new handshake per request. */
    handshakeCpuUs?: Record<string, number>;
    /** Headroom's keep-alive req/s over the minimal node:https proxy's. */
    vsMinimal: number;
    /** Headroom's keep-alive requests per CPU second over the minimal proxy's (its CPU per request over Headroom's). */
    cpuVsMinimal?: number;
  };
  plain:
    | { services: number; routes: number; single: MaxRate; routed: MaxRate; ratio: number }
    | { skipped: string };
  lookup: Array<{ routes: number; nsPerLookup: number }> | { skipped: string };
}

const ROUTE_TABLE = join(repoRoot, 'services/load-balancer/src/routing/route-table.ts');

export async function routing(runs: number, seconds: number, connections = 32): Promise<RoutingResult> {
  const tls = await tlsPart(runs, seconds, connections);
  const routingRoom = existsSync(ROUTE_TABLE);
  const plain = routingRoom
    ? await plainRoutingPart(runs, seconds, connections)
    : { skipped: 'no routing room (services/load-balancer/src/routing) in this tree' };
  const lookup = routingRoom
    ? await lookupPart()
    : { skipped: 'no routing room (services/load-balancer/src/routing) in this tree' };
  return { connections, seconds, runs, tls, plain, lookup };
}

/** A target: its name, URL and the process whose CPU time it spends (with its children). */
type Target = [name: string, url: string, pid: number];

interface Medians {
  /** Per shape, per target. */
  rates: Record<string, Record<string, MaxRate>>;
  /** Per shape, per target: CPU microseconds the target's process spent per request (median of the runs). */
  cpuUs: Record<string, Record<string, number>>;
}

/** wrk rounds with `targets` taking turns in a rotating order; medians per target and per shape. */
function alternate(
  targets: Target[],
  shapes: Record<string, string[]>,
  runs: number,
  seconds: number,
  connections: number,
  label: string,
): Medians {
  const samples: Record<string, Record<string, MaxRate[]>> = {};
  const cpu: Record<string, Record<string, number[]>> = {};
  for (let run = 0; run < runs; run++) {
    const order = targets.map((_, i) => targets[(i + run) % targets.length]!);
    for (const [name, url, pid] of order) {
      for (const [shape, headers] of Object.entries(shapes)) {
        let r: MaxRate;
        let cpuSeconds: number;
        try {
          wrkMaxRate(url, connections, 1, headers); // warm up: pools, JIT, session caches
          const before = treeCpuSeconds(pid);
          r = wrkMaxRate(url, connections, seconds, headers);
          cpuSeconds = treeCpuSeconds(pid) - before;
        } catch (err) {
          // a failed round (wrk could not connect) is reported and left out, not the whole run
          process.stdout.write(
            `  ${label} run ${run + 1}/${runs} ${name} ${shape}: failed (${String(err).split('\n')[0]})\n`,
          );
          continue;
        }
        samples[shape] ??= {};
        const list = samples[shape][name] ?? [];
        samples[shape][name] = list;
        list.push(r);
        const us = r.requests ? (cpuSeconds * 1e6) / r.requests : Number.NaN;
        cpu[shape] ??= {};
        cpu[shape][name] = [...(cpu[shape][name] ?? []), us];
        process.stdout.write(
          `  ${label} run ${run + 1}/${runs} ${name} ${shape}: ${r.rps.toFixed(0)} req/s, ${us.toFixed(0)} µs CPU per request\n`,
        );
      }
    }
  }
  const rates: Record<string, Record<string, MaxRate>> = {};
  for (const [shape, byTarget] of Object.entries(samples)) {
    rates[shape] = {};
    for (const [name, list] of Object.entries(byTarget))
      rates[shape][name] = {
        rps: median(list.map((s) => s.rps)),
        p50: median(list.map((s) => s.p50)),
        p99: median(list.map((s) => s.p99)),
        errors: list.reduce((a, s) => a + s.errors, 0),
      };
  }
  const cpuUs: Record<string, Record<string, number>> = {};
  for (const [shape, byTarget] of Object.entries(cpu)) {
    cpuUs[shape] = {};
    for (const [name, list] of Object.entries(byTarget)) cpuUs[shape][name] = median(list);
  }
  return { rates, cpuUs };
}

async function tlsPart(runs: number, seconds: number, connections: number): Promise<RoutingResult['tls']> {
  const cert = makeBenchCert();
  const backend = await startTrivialBackend();
  const tlsPort = await freePort();
  const lb = await startHeadroom({
    DISCOVERY: 'static',
    BACKENDS: backend.url,
    METRICS_SOURCE: 'none',
    BALANCER_MODE: 'round-robin',
    TLS_PORT: String(tlsPort),
    TLS_CERT_DIR: cert.dir,
  });
  const stops: Array<() => unknown> = [() => backend.stop(), () => lb.stop()];
  try {
    await waitFor(async () => (await healthyBackends(lb.admin)) === 1, { timeoutMs: 10_000 });
    const headroom = `https://127.0.0.1:${tlsPort}`;
    await waitFor(async () => (await probe(headroom)) === 200, { timeoutMs: 10_000 });
    const targets: Target[] = [['headroom', headroom, lb.pid]];
    const missing: string[] = [];
    const minimal = await startMinimalProxy(backend.url, cert);
    targets.push([TLS_MINIMAL, minimal.url, minimal.pid]);
    stops.push(() => minimal.stop());
    const haproxy = await startHaproxy([backend.url], 'roundrobin', { tls: cert });
    if (haproxy) {
      targets.push(['haproxy (1 thread)', haproxy.url, haproxy.pid]);
      stops.push(() => haproxy.stop());
    } else missing.push('haproxy');
    const nginx = await startNginx([backend.url], 'round_robin', { tls: cert });
    if (nginx) {
      targets.push(['nginx (1 worker)', nginx.url, nginx.pid]);
      stops.push(() => nginx.stop());
    } else missing.push('nginx');
    const caddy = await startCaddy(backend.url, cert);
    if (caddy) {
      targets.push(['caddy (GOMAXPROCS=1)', caddy.url, caddy.pid]);
      stops.push(() => caddy.stop());
    } else missing.push('caddy');
    const m = alternate(
      targets,
      { 'keep-alive': [], 'new handshake': ['Connection: close'] },
      runs,
      seconds,
      connections,
      'routing tls',
    );
    const keepAlive = m.rates['keep-alive']!;
    const cpuUs = m.cpuUs['keep-alive'] ?? {};
    return {
      keepAlive,
      handshakes: m.rates['new handshake']!,
      cpuUs,
      handshakeCpuUs: m.cpuUs['new handshake'] ?? {},
      missing,
      vsMinimal: (keepAlive.headroom?.rps ?? Number.NaN) / (keepAlive[TLS_MINIMAL]?.rps ?? Number.NaN),
      cpuVsMinimal: (cpuUs[TLS_MINIMAL] ?? Number.NaN) / (cpuUs.headroom ?? Number.NaN),
    };
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

const SERVICES = 50;
const HOSTS_PER_SERVICE = 4;

/** One process answering "ok" on `n` ports: a backend per service without n processes. */
async function startMultiPortBackend(n: number): Promise<{ urls: string[]; stop(): Promise<void> }> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) ports.push(await freePort());
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-e',
      `const h = require('node:http'); for (const p of ${JSON.stringify(ports)}) h.createServer((q, s) => { s.setHeader('content-type', 'text/plain'); s.end('ok'); }).listen(p, '127.0.0.1')`,
    ],
    { stdio: 'ignore' },
  );
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  await waitFor(async () => (await probe(urls.at(-1)!)) === 200, { timeoutMs: 10_000 });
  return { urls, stop: () => stopProcess(child) };
}

async function plainRoutingPart(
  runs: number,
  seconds: number,
  connections: number,
): Promise<Exclude<RoutingResult['plain'], { skipped: string }>> {
  const backends = await startMultiPortBackend(SERVICES);
  const common = { DISCOVERY: 'static', METRICS_SOURCE: 'none', BALANCER_MODE: 'round-robin' };
  // the same backend behind both; the routed balancer also has 49 other services, 4 hosts each
  const single = await startHeadroom({ ...common, BACKENDS: backends.urls[0]! });
  const entries = backends.urls.map((url, i) => {
    const hosts = Array.from({ length: HOSTS_PER_SERVICE }, (_, h) => `host=app${i}-${h}.bench.test`);
    return `${url}#service=app${i}&${hosts.join('&')}`;
  });
  const routed = await startHeadroom({ ...common, BACKENDS: entries.join(',') });
  try {
    await waitFor(async () => (await healthyBackends(single.admin)) === 1, { timeoutMs: 10_000 });
    await waitFor(async () => (await healthyBackends(routed.admin)) === SERVICES, { timeoutMs: 20_000 });
    // a host in the middle of the table, so the lookup is not the first entry it tries
    const host = `app${SERVICES / 2}-${HOSTS_PER_SERVICE - 1}.bench.test`;
    const m = alternate(
      [
        ['single service', single.proxy, single.pid],
        [`${SERVICES} services, ${SERVICES * HOSTS_PER_SERVICE} routes`, routed.proxy, routed.pid],
      ],
      { plain: [`Host: ${host}`] },
      runs,
      seconds,
      connections,
      'routing plain',
    ).rates.plain!;
    const one = m['single service']!;
    const many = m[`${SERVICES} services, ${SERVICES * HOSTS_PER_SERVICE} routes`]!;
    if (many.errors > 0)
      process.stdout.write(`  routing plain: ${many.errors} errors through the routed balancer\n`);
    return {
      services: SERVICES,
      routes: SERVICES * HOSTS_PER_SERVICE,
      single: one,
      routed: many,
      ratio: many.rps / one.rps,
    };
  } finally {
    await routed.stop();
    await single.stop();
    await backends.stop();
  }
}

interface RouteTableModule {
  buildRouteTable(rules: Array<{ service: string; host: string; path: string; strip: boolean }>): {
    table: { lookup(host: string | undefined, url: string): unknown };
  };
}

const PATHS = ['/', '/api', '/static', '/v1/admin'];

/** `n` rules: hosts app<k>.bench.test with four path prefixes each (one rule when n = 1: the catch-all). */
function rulesOf(n: number) {
  if (n === 1) return [{ service: 's0', host: '', path: '/', strip: false }];
  return Array.from({ length: n }, (_, i) => ({
    service: `s${Math.floor(i / PATHS.length)}`,
    host: `app${Math.floor(i / PATHS.length)}.bench.test`,
    path: PATHS[i % PATHS.length]!,
    strip: false,
  }));
}

async function lookupPart(): Promise<RoutingResult['lookup']> {
  const mod = (await import(pathToFileURL(ROUTE_TABLE).href)) as RouteTableModule;
  const out: Array<{ routes: number; nsPerLookup: number }> = [];
  for (const n of [1, 50, 500]) {
    const { table } = mod.buildRouteTable(rulesOf(n));
    const hosts = Math.max(1, n / PATHS.length);
    // 1,024 requests spread over the table's hosts and paths (and some unknown hosts)
    const reqs = Array.from({ length: 1024 }, (_, i) => ({
      host: i % 16 === 0 ? 'unknown.bench.test' : `app${(i * 7919) % hosts}.bench.test:8080`,
      url: `${PATHS[i % PATHS.length]}/item/${i}?q=${i}`,
    }));
    let sink = 0;
    const lookups = 2_000_000;
    const samples: number[] = [];
    for (let round = 0; round < 6; round++) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < lookups; i++) {
        const r = reqs[i & 1023]!;
        if (table.lookup(r.host, r.url) !== undefined) sink++;
      }
      const ns = Number(process.hrtime.bigint() - start) / lookups;
      if (round > 0) samples.push(ns); // the first round warms the JIT
    }
    if (sink === 0) process.stdout.write('  (no lookup matched)\n');
    out.push({ routes: n, nsPerLookup: median(samples) });
    process.stdout.write(`  routing lookup ${n} routes: ${median(samples).toFixed(0)} ns\n`);
  }
  return out;
}
