// Scenario 1: what the balancer costs. One trivial backend; the same closed-loop load
// (wrk, same connections and duration) straight to it and through each proxy, in
// rotating order, several runs; then p99 at half of Headroom's own maximum rate.
import { startCaddy } from '../competitors/caddy.js';
import { startHaproxy } from '../competitors/haproxy.js';
import { startMinimalProxy } from '../competitors/minimal-proxy.js';
import { startNginx } from '../competitors/nginx.js';
import { startReplyFrom } from '../competitors/reply-from.js';
import { autocannonAtRate, type MaxRate, median, wrkMaxRate } from '../lib/load.js';
import { healthyBackends, startHeadroom, startTrivialBackend, waitFor } from '../lib/procs.js';

export interface OverheadResult {
  connections: number;
  seconds: number;
  runs: number;
  medians: Record<string, MaxRate>;
  missing: string[];
  halfRate: { rate: number; directP99: number; headroomP99: number; addedP99Ms: number };
  /** Each target's req/s per run, in run order (results before 2026-12-07 do not have it). */
  samples?: Record<string, number[]>;
  ratios: { vsHaproxy: number | null; vsReplyFrom: number; vsMinimal?: number };
}

/**
 * Headroom with limits that never bind: LIMIT_MIN = LIMIT_MAX = 100000 (the largest the config
 * takes). No setting turns the limits off: the per-answer limit update still runs, but no
 * request ever waits in the queue. Against the default (adaptive limits from 20, the queue),
 * the cost of the limits on the warm path.
 */
export const LIMITS_OFF = 'headroom, limits never bind (LIMIT_MIN=LIMIT_MAX=100000)';

/** node:http + one undici Pool and nothing else: the ceiling for a Node proxy on this machine. */
export const MINIMAL = 'minimal node proxy (node:http + undici Pool)';

export async function proxyOverhead(
  runs: number,
  seconds: number,
  connections = 32,
): Promise<OverheadResult> {
  const backend = await startTrivialBackend();
  const lb = await startHeadroom({
    DISCOVERY: 'static',
    BACKENDS: backend.url,
    METRICS_SOURCE: 'none',
    BALANCER_MODE: 'round-robin',
  });
  const stops: Array<() => unknown> = [() => backend.stop(), () => lb.stop()];
  try {
    await waitFor(async () => (await healthyBackends(lb.admin)) === 1, { timeoutMs: 10_000 });
    const unlimited = await startHeadroom({
      DISCOVERY: 'static',
      BACKENDS: backend.url,
      METRICS_SOURCE: 'none',
      BALANCER_MODE: 'round-robin',
      LIMIT_MIN: '100000',
      LIMIT_MAX: '100000',
    });
    stops.push(() => unlimited.stop());
    await waitFor(async () => (await healthyBackends(unlimited.admin)) === 1, { timeoutMs: 10_000 });
    const targets: Array<[string, string]> = [
      ['direct', backend.url],
      ['headroom', lb.proxy],
      [LIMITS_OFF, unlimited.proxy],
    ];
    const missing: string[] = [];
    const haproxy = await startHaproxy([backend.url], 'roundrobin');
    if (haproxy) {
      targets.push(['haproxy (1 thread)', haproxy.url]);
      stops.push(() => haproxy.stop());
    } else missing.push('haproxy');
    const nginx = await startNginx([backend.url], 'round_robin');
    if (nginx) {
      targets.push(['nginx (1 worker)', nginx.url]);
      stops.push(() => nginx.stop());
    } else missing.push('nginx');
    const caddy = await startCaddy(backend.url);
    if (caddy) {
      targets.push(['caddy (GOMAXPROCS=1)', caddy.url]);
      stops.push(() => caddy.stop());
    } else missing.push('caddy');
    const minimal = await startMinimalProxy(backend.url);
    targets.push([MINIMAL, minimal.url]);
    stops.push(() => minimal.stop());
    const replyFrom = await startReplyFrom(backend.url);
    targets.push(['@fastify/reply-from', replyFrom.url]);
    stops.push(() => replyFrom.stop());

    const samples: Record<string, MaxRate[]> = {};
    for (let run = 0; run < runs; run++) {
      // rotate the order so no target always runs first (or last) on a warm/cold box
      const order = targets.map((_, i) => targets[(i + run) % targets.length]!);
      for (const [name, url] of order) {
        wrkMaxRate(url, connections, 1); // warm the pools
        const list = samples[name] ?? [];
        samples[name] = list;
        list.push(wrkMaxRate(url, connections, seconds));
        process.stdout.write(
          `  proxy-overhead run ${run + 1}/${runs} ${name}: ${samples[name]!.at(-1)!.rps.toFixed(0)} req/s\n`,
        );
      }
    }
    const medians: Record<string, MaxRate> = {};
    for (const [name, list] of Object.entries(samples)) {
      medians[name] = {
        rps: median(list.map((s) => s.rps)),
        p50: median(list.map((s) => s.p50)),
        p99: median(list.map((s) => s.p99)),
        errors: list.reduce((a, s) => a + s.errors, 0),
      };
    }
    const rate = Math.round(medians.headroom!.rps / 2);
    const direct: number[] = [];
    const through: number[] = [];
    for (let run = 0; run < runs; run++) {
      direct.push((await autocannonAtRate(backend.url, rate, connections, seconds)).p99);
      through.push((await autocannonAtRate(lb.proxy, rate, connections, seconds)).p99);
    }
    const halfRate = {
      rate,
      directP99: median(direct),
      headroomP99: median(through),
      addedP99Ms: median(through) - median(direct),
    };
    return {
      connections,
      seconds,
      runs,
      medians,
      missing,
      halfRate,
      samples: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.map((x) => x.rps)])),
      ratios: {
        vsHaproxy: medians['haproxy (1 thread)']
          ? medians.headroom!.rps / medians['haproxy (1 thread)']!.rps
          : null,
        vsReplyFrom: medians.headroom!.rps / medians['@fastify/reply-from']!.rps,
        vsMinimal: medians.headroom!.rps / medians[MINIMAL]!.rps,
      },
    };
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}
