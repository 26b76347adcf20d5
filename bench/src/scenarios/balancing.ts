// Scenarios 2 and 3: balancing quality on real containers with real CPU limits.
//  heterogeneous: --cpus 0.5, 0.5, 0.125 running CPU-bound /load at ~80 % of the
//    measured total capacity.
//  noisy-neighbour: three equal containers at ~65 % of capacity; a third of the way in,
//    the CPU burner is switched on in one of them.
// Each configuration gets the same open-loop arrival schedule; latency counts from each
// request's due time. Headroom's modes and HAProxy/NGINX take turns, several runs. Then the
// overload level: 120 % of the measured capacity, Headroom with its limits and queue against
// HAProxy and NGINX with maxconn (lib/balancing-configs.ts, overloadConfigs).
import { LB_LABELS } from '@headroom/shared';
import autocannon from 'autocannon';
import {
  balancingConfigs,
  type Config,
  limitsOf,
  MAXCONN,
  medianRows,
  OVERLOAD,
  type OverloadResult,
  type OverloadRun,
  overloadConfigs,
  overloadRows,
  overloadRun,
  QUEUE_TIMEOUT_MS,
} from '../lib/balancing-configs.js';
import { type Fill, median, type PacedResult, paced, quantile } from '../lib/load.js';
import {
  ensureBackendImage,
  healthyBackends,
  type Lb,
  removeBenchContainers,
  startBackendContainer,
  startHeadroom,
  waitFor,
} from '../lib/procs.js';

const LOAD_MS = 10;

export interface ConfigResult {
  config: string;
  p50: number;
  p99: number;
  /** Each run's p99, in run order (results from 2026-12-01 23:16 and earlier do not have it). */
  p99Runs?: number[];
  /** Each run's p50, in run order (results before the overload level do not have it). */
  p50Runs?: number[];
  errors: number;
  shares: Record<string, number>;
  /** noisy-neighbour: seconds from the burner switching on until the noisy backend's share halves. */
  moveAwaySeconds?: number | null;
}

export interface BalancingResult {
  scenario: 'heterogeneous' | 'noisy-neighbour';
  cpus: number[];
  capacityRps: number;
  offeredRps: number;
  seconds: number;
  runs: number;
  missing: string[];
  results: ConfigResult[];
  /** 120 % of the measured capacity (results before 2026-12-07 do not have it). */
  overload?: OverloadResult;
  /** noisy-neighbour: the capacity with the burner on in the third container (req/s). */
  capacityAfterRps?: number;
}

/** Closed loop straight to one container, nothing else running: what it completes per second. */
async function capacityOf(url: string): Promise<number> {
  const r = await autocannon({ url: `${url}/load?ms=${LOAD_MS}`, connections: 4, duration: 4 });
  return r.requests.average;
}

/** Seconds one run of every configuration takes, both levels (for the estimate printed at start). */
export function balancingRunSeconds(kind: 'heterogeneous' | 'noisy-neighbour', seconds: number): number {
  const settle = kind === 'noisy-neighbour' ? 2 : 0;
  // base: 6 configurations, 2 s warm-up; overload: 4, the fill, the queues' last deadline
  return 6 * (2 + seconds + settle) + 4 * (FILL_SECONDS + seconds + settle + QUEUE_TIMEOUT_MS / 1000);
}
/** Containers, capacity and the first warm-up of each configuration (both levels), once per scenario. */
export const BALANCING_SETUP_SECONDS = 72;

function sharesOf(r: PacedResult, names: string[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const [, who] of r.log) counts[who] = (counts[who] ?? 0) + 1;
  const total = r.log.length || 1;
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / total]));
}

function moveAway(r: PacedResult, noisy: string, atMs: number): number | null {
  const before = r.log.filter(([t]) => t < atMs);
  const pre = before.filter(([, w]) => w === noisy).length / Math.max(1, before.length);
  for (let t = atMs; t < atMs + 60_000; t += 500) {
    const win = r.log.filter(([at]) => at >= t && at < t + 1000);
    if (win.length < 5) continue;
    if (win.filter(([, w]) => w === noisy).length / win.length <= pre / 2) return (t + 1000 - atMs) / 1000;
  }
  return null;
}

export async function balancing(
  kind: 'heterogeneous' | 'noisy-neighbour',
  runs: number,
  seconds: number,
): Promise<BalancingResult> {
  const cpus = kind === 'heterogeneous' ? [0.5, 0.5, 0.125] : [0.5, 0.5, 0.5];
  const service = `bench-${kind}-${process.pid}`;
  ensureBackendImage();
  removeBenchContainers();
  const containers = await Promise.all(
    cpus.map((c, i) =>
      startBackendContainer(`${service}-${i + 1}`, c, {
        [LB_LABELS.enable]: 'true',
        [LB_LABELS.service]: service,
        [LB_LABELS.port]: '3000',
      }),
    ),
  );
  const names = containers.map((c) => c.name);
  const lbEnv = {
    DISCOVERY: 'docker',
    LB_SERVICE: service,
    DOCKER_ADDRESS: 'published',
    METRICS_SOURCE: 'docker',
    HEALTH_INTERVAL_MS: '1000',
  };
  const lb = await startHeadroom(lbEnv);
  const stops: Array<() => unknown> = [() => lb.stop()];
  try {
    await waitFor(async () => (await healthyBackends(lb.admin)) === 3, { timeoutMs: 20_000 });
    const perContainer: number[] = [];
    for (const c of containers) perContainer.push(await capacityOf(c.url));
    const capacity = perContainer.reduce((a, b) => a + b, 0);
    const offered = Math.round(capacity * (kind === 'heterogeneous' ? 0.8 : 0.65));
    process.stdout.write(
      `  ${kind}: measured capacity ${capacity.toFixed(1)} req/s, offering ${offered} req/s\n`,
    );

    const urls = containers.map((c) => c.url);
    const { configs, missing } = await balancingConfigs(lb, urls, stops);
    const noisy = containers[2]!;
    const burner = (on: boolean) =>
      fetch(`${noisy.url}/cpu/toggle`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ on, cores: 1, duty: 1 }),
      });
    // the capacity left once the neighbour is noisy: what goodput at the overload level is read against
    let capacityAfter: number | undefined;
    if (kind === 'noisy-neighbour') {
      await burner(true);
      await new Promise((r) => setTimeout(r, 1000));
      capacityAfter = capacity - perContainer[2]! + (await capacityOf(noisy.url));
      await burner(false);
      await new Promise((r) => setTimeout(r, 2000));
      process.stdout.write(`  ${kind}: with the burner on, capacity ${capacityAfter.toFixed(1)} req/s\n`);
    }
    /** One measured run: the scenario's schedule (noisy-neighbour: the burner on a third in). */
    const measure = async (
      cfg: Config,
      rate: number,
      connections?: number,
      fill?: Fill,
    ): Promise<{ result: PacedResult; moveAwaySeconds?: number | null }> => {
      const url = `${cfg.url}/load?ms=${LOAD_MS}`;
      if (kind !== 'noisy-neighbour')
        return { result: await paced(url, rate, seconds, 10_000, connections, cfg.pid, fill) };
      // a third into the measured phase (after the fill, if any)
      const at = (seconds * 1000) / 3;
      // a failed switch must not crash the run past its cleanup (containers, HAProxy, NGINX)
      const timer = setTimeout(
        () =>
          burner(true).catch((err: Error) =>
            process.stdout.write(`  could not switch the burner on: ${err.message}\n`),
          ),
        at + (fill ? fill.seconds * 1000 : 0),
      );
      const result = await paced(url, rate, seconds, 10_000, connections, cfg.pid, fill);
      clearTimeout(timer);
      await burner(false);
      // let the container's CPU settle before the next configuration
      await new Promise((r) => setTimeout(r, 2000));
      return { result, moveAwaySeconds: moveAway(result, noisy.name, at) };
    };
    // every process warm (JIT, pools) before the first measured run, not only the one that runs first
    for (const cfg of configs) await paced(`${cfg.url}/load?ms=${LOAD_MS}`, offered, 3);
    const raw: Record<string, ConfigResult[]> = {};
    for (let run = 0; run < runs; run++) {
      for (let i = 0; i < configs.length; i++) {
        const cfg = configs[(i + run) % configs.length]!;
        await cfg.before?.();
        await paced(`${cfg.url}/load?ms=${LOAD_MS}`, offered, 2); // warm-up, discarded
        const { result, moveAwaySeconds } = await measure(cfg, offered);
        const row: ConfigResult = {
          config: cfg.name,
          p50: quantile(result.latencies, 0.5),
          p99: quantile(result.latencies, 0.99),
          errors: result.errors,
          shares: sharesOf(result, names),
          ...(moveAwaySeconds === undefined ? {} : { moveAwaySeconds }),
        };
        const rows = raw[cfg.name] ?? [];
        raw[cfg.name] = rows;
        rows.push(row);
        process.stdout.write(
          `  ${kind} run ${run + 1}/${runs} ${cfg.name}: p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms, errors ${row.errors}\n`,
        );
      }
    }
    const overload = await overloadLevel({
      kind,
      lb,
      env: lbEnv,
      urls,
      names,
      stops,
      capacity,
      capacityDuring: capacityAfter === undefined ? capacity : capacity / 3 + (2 * capacityAfter) / 3,
      offeredBase: offered,
      runs,
      seconds,
      measure,
      warm: (cfg) => paced(`${cfg.url}/load?ms=${LOAD_MS}`, offered, 3).then(() => {}),
      ready: async (x) => {
        await waitFor(async () => (await healthyBackends(x.admin)) === 3, { timeoutMs: 20_000 });
      },
    });
    const results: ConfigResult[] = medianRows(raw, names).map((row) =>
      kind === 'noisy-neighbour'
        ? {
            ...row,
            moveAwaySeconds: median(
              raw[row.config]!.map((r) => r.moveAwaySeconds ?? Number.POSITIVE_INFINITY),
            ),
          }
        : row,
    );
    return {
      scenario: kind,
      cpus,
      capacityRps: capacity,
      offeredRps: offered,
      seconds,
      runs,
      missing,
      results,
      overload,
      ...(capacityAfter === undefined ? {} : { capacityAfterRps: capacityAfter }),
    };
  } finally {
    for (const stop of stops.reverse()) await stop();
    removeBenchContainers();
  }
}

/** Seconds of the overload level's fill phase (see overloadLevel). */
export const FILL_SECONDS = 2;

/**
 * The overload level of a scenario: OVERLOAD × its measured capacity, offered to the overload
 * configurations in rotating order after a fill phase that builds the backlog of a long
 * overload, `runs` runs; the scenario's own schedule (a slowdown, a burner) runs in each. Goodput is read against
 * `capacityDuring`: the capacity over the run, where part of it is lost a third of the way in.
 */
export async function overloadLevel(o: {
  kind: string;
  lb: Lb;
  env: Record<string, string>;
  urls: string[];
  names: string[];
  stops: Array<() => unknown>;
  capacity: number;
  capacityDuring: number;
  offeredBase: number;
  runs: number;
  seconds: number;
  measure: (cfg: Config, rate: number, connections: number, fill: Fill) => Promise<{ result: PacedResult }>;
  /** Once per configuration before the first run: at the scenario's own load. */
  warm: (cfg: Config) => Promise<void>;
  ready: (lb: Lb) => Promise<void>;
}): Promise<OverloadResult> {
  const offered = Math.round(o.capacity * OVERLOAD);
  // At 120 % a queue grows by 0.2 × capacity per second: from empty it would take 10 s to reach
  // QUEUE_TIMEOUT_MS, longer than a run, and nothing would be shed or wait the deadline. The fill
  // phase adds that backlog first (QUEUE_TIMEOUT_MS of capacity over FILL_SECONDS, on top of the
  // 120 %), so the measured phase starts where a longer overload would be. It is not measured.
  const fill: Fill = {
    rate: Math.round(offered + (QUEUE_TIMEOUT_MS / 1000) * (o.capacity / FILL_SECONDS)),
    seconds: FILL_SECONDS,
  };
  // a queue holds up to QUEUE_TIMEOUT_MS of arrivals, each on its own client connection
  const connections = Math.ceil(fill.rate * (QUEUE_TIMEOUT_MS / 1000 + FILL_SECONDS)) + 256;
  const { configs, missing } = await overloadConfigs(o.lb, o.env, o.urls, o.stops, o.ready);
  process.stdout.write(
    `  ${o.kind} at ${Math.round(OVERLOAD * 100)} %: offering ${offered} req/s (measured capacity ${o.capacity.toFixed(1)}; over the run ${o.capacityDuring.toFixed(1)}), limit ${MAXCONN}\n`,
  );
  // every process warm (JIT, pools) before its first overload run, as at the scenario's own
  // level: the pinned balancer, HAProxy and NGINX are new here
  for (const cfg of configs) await o.warm(cfg);
  const raw: Record<string, OverloadRun[]> = {};
  for (let run = 0; run < o.runs; run++) {
    for (let i = 0; i < configs.length; i++) {
      const cfg = configs[(i + run) % configs.length]!;
      await cfg.before?.();
      // the limits two thirds in: where the adaptive one settles at overload
      let limits: number[] | undefined;
      const admin = cfg.admin;
      const probe = admin
        ? setTimeout(
            () =>
              void limitsOf(admin)
                .then((l) => {
                  // Docker backends are named after their container, static ones after host:port
                  limits = o.names.map((n, k) => l[n] ?? l[new URL(o.urls[k]!).host] ?? Number.NaN);
                })
                .catch(() => {}),
            (FILL_SECONDS + (o.seconds * 2) / 3) * 1000,
          )
        : undefined;
      const { result } = await o.measure(cfg, offered, connections, fill);
      if (probe) clearTimeout(probe);
      const row = {
        ...overloadRun(cfg.name, result, o.seconds, o.capacityDuring, o.names),
        ...(limits ? { limits } : {}),
      };
      const rows = raw[cfg.name] ?? [];
      raw[cfg.name] = rows;
      rows.push(row);
      process.stdout.write(
        `  ${o.kind} 120 % run ${run + 1}/${o.runs} ${cfg.name}: goodput ${row.goodput.toFixed(2)}, served p99 ${row.servedP99.toFixed(0)} ms, proxy CPU ${row.cpuCores.toFixed(2)} cores${limits ? `, limits ${limits.join('/')}` : ''}, rejected ${row.rejected} (at once ${row.atOnceCount}, p99 ${row.atOnceP99.toFixed(1)} ms; at the deadline ${row.lateCount}), no answer ${row.failed}\n`,
      );
    }
  }
  return {
    load: OVERLOAD,
    capacityRps: o.capacityDuring,
    offeredRps: offered,
    fill,
    seconds: o.seconds,
    runs: o.runs,
    maxconn: MAXCONN,
    queueTimeoutMs: QUEUE_TIMEOUT_MS,
    missing,
    rows: overloadRows(raw, o.names),
  };
}
