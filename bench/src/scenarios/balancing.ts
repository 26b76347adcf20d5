// Scenarios 2 and 3: balancing quality on real containers with real CPU limits.
//  heterogeneous: --cpus 0.5, 0.5, 0.125 running CPU-bound /load at ~80 % of the
//    measured total capacity.
//  noisy-neighbour: three equal containers at ~65 % of capacity; a third of the way in,
//    the CPU burner is switched on in one of them.
// Each configuration gets the same open-loop arrival schedule; latency counts from each
// request's due time. Headroom's modes and HAProxy/NGINX take turns, several runs.
import { LB_LABELS } from '@headroom/shared';
import autocannon from 'autocannon';
import { balancingConfigs, medianRows } from '../lib/balancing-configs.js';
import { median, type PacedResult, paced, quantile } from '../lib/load.js';
import {
  ensureBackendImage,
  healthyBackends,
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
}

async function capacityOf(url: string): Promise<number> {
  const r = await autocannon({ url: `${url}/load?ms=${LOAD_MS}`, connections: 4, duration: 4 });
  return r.requests.average;
}

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
  const lb = await startHeadroom({
    DISCOVERY: 'docker',
    LB_SERVICE: service,
    DOCKER_ADDRESS: 'published',
    METRICS_SOURCE: 'docker',
    HEALTH_INTERVAL_MS: '1000',
  });
  const stops: Array<() => unknown> = [() => lb.stop()];
  try {
    await waitFor(async () => (await healthyBackends(lb.admin)) === 3, { timeoutMs: 20_000 });
    let capacity = 0;
    for (const c of containers) capacity += await capacityOf(c.url);
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
    // every process warm (JIT, pools) before the first measured run, not only the one that runs first
    for (const cfg of configs) await paced(`${cfg.url}/load?ms=${LOAD_MS}`, offered, 3);
    const raw: Record<string, ConfigResult[]> = {};
    for (let run = 0; run < runs; run++) {
      for (let i = 0; i < configs.length; i++) {
        const cfg = configs[(i + run) % configs.length]!;
        await cfg.before?.();
        await paced(`${cfg.url}/load?ms=${LOAD_MS}`, offered, 2); // warm-up, discarded
        let result: PacedResult;
        let moveAwaySeconds: number | null | undefined;
        if (kind === 'noisy-neighbour') {
          const at = (seconds * 1000) / 3;
          // a failed switch must not crash the run past its cleanup (containers, HAProxy, NGINX)
          const timer = setTimeout(
            () =>
              burner(true).catch((err: Error) =>
                process.stdout.write(`  could not switch the burner on: ${err.message}\n`),
              ),
            at,
          );
          result = await paced(`${cfg.url}/load?ms=${LOAD_MS}`, offered, seconds);
          clearTimeout(timer);
          await burner(false);
          moveAwaySeconds = moveAway(result, noisy.name, at);
          // let the container's CPU settle before the next configuration
          await new Promise((r) => setTimeout(r, 2000));
        } else {
          result = await paced(`${cfg.url}/load?ms=${LOAD_MS}`, offered, seconds);
        }
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
    };
  } finally {
    for (const stop of stops.reverse()) await stop();
    removeBenchContainers();
  }
}
