// Scenarios for the signals resource-aware mode claims to use, on uncontained processes
// (static discovery, the balancer reading each backend's /metrics), each backend a FIFO
// server with a known service time (lib/queue-backend.mjs):
//  unequal-30 / unequal-80: service times 4, 4 and 12 ms, open-loop at 30 % and 80 % of the
//    total capacity: the case least-connections loses at low load (ties at 0-1 in-flight
//    send the slow backend its 1/N).
//  io-slow: three 4 ms backends at 50 %; a third of the way in, one turns 16 ms without any
//    CPU (waiting on I/O): a CPU signal alone cannot see it.
//  hot-cpu: three 4 ms backends at 50 %; one runs a real burner thread at 90 % of a core
//    the whole time while its answers stay as fast as the others': it must not be starved.
// Every configuration (Headroom's four modes, HAProxy leastconn, NGINX least_conn) gets the
// same arrival schedule, in rotating order, several runs; medians are reported.
// Then the overload level (not in unequal-30: unequal's runs at 120 % with unequal-80): 120 % of
// the capacity measured in the same run, closed loop straight to each backend.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import {
  balancingConfigs,
  type Config,
  medianRows,
  type OverloadResult,
  QUEUE_TIMEOUT_MS,
} from '../lib/balancing-configs.js';
import { type Fill, type PacedResult, paced, quantile } from '../lib/load.js';
import { freePort, type Lb, startHeadroom, stopProcess, waitFor } from '../lib/procs.js';
import { type ConfigResult, FILL_SECONDS, overloadLevel } from './balancing.js';

export const SIGNAL_SCENARIOS = ['unequal-30', 'unequal-80', 'io-slow', 'hot-cpu'] as const;
export type SignalScenario = (typeof SIGNAL_SCENARIOS)[number];

const QUEUE_BACKEND = fileURLToPath(new URL('../lib/queue-backend.mjs', import.meta.url));

interface Plan {
  serviceMs: number[];
  load: number;
  cpuVisible: boolean;
  burnDuty: number[];
  /** io-slow: the third backend's service time from a third of the run on. */
  slowTo?: number;
  description: string;
}

const PLANS: Record<SignalScenario, Plan> = {
  'unequal-30': {
    serviceMs: [4, 4, 12],
    load: 0.3,
    cpuVisible: true,
    burnDuty: [0, 0, 0],
    description: 'service times 4, 4, 12 ms (busy time shown as CPU), 30 % of capacity',
  },
  'unequal-80': {
    serviceMs: [4, 4, 12],
    load: 0.8,
    cpuVisible: true,
    burnDuty: [0, 0, 0],
    description: 'service times 4, 4, 12 ms (busy time shown as CPU), 80 % of capacity',
  },
  'io-slow': {
    serviceMs: [4, 4, 4],
    load: 0.5,
    cpuVisible: false,
    burnDuty: [0, 0, 0],
    slowTo: 16,
    description: 'three 4 ms backends at 50 %; one turns 16 ms a third of the way in, with no CPU (I/O wait)',
  },
  'hot-cpu': {
    serviceMs: [4, 4, 4],
    load: 0.5,
    cpuVisible: true,
    burnDuty: [0, 0, 0.9],
    description:
      'three 4 ms backends at 50 %; one runs a real burner thread at 90 % of a core, its answers as fast',
  },
};

export interface SignalResult {
  scenario: SignalScenario;
  description: string;
  serviceMs: number[];
  capacityRps: number;
  offeredRps: number;
  seconds: number;
  runs: number;
  missing: string[];
  /** Backend names, in the order of serviceMs. */
  names: string[];
  results: ConfigResult[];
  /** Seconds of warm-up before each measured run (3 before 2026-12-07). */
  warmupSeconds?: number;
  /** Closed loop straight to each backend, summed (req/s); capacityRps is the nominal 1000 ÷ service time. */
  measuredCapacityRps?: number;
  /** io-slow: the same once the third backend is slow. */
  measuredCapacityAfterRps?: number;
  /** 120 % of the measured capacity (not in unequal-30; results before 2026-12-07 do not have it). */
  overload?: OverloadResult;
}

/** Before each measured run at the scenario's own load (the balancer learns after a mode switch). */
const WARMUP_SECONDS = 2;

/** Whether the scenario runs the overload level: unequal's is run once, with unequal-80. */
export const hasOverload = (kind: SignalScenario) => kind !== 'unequal-30';

/** Seconds one run of every configuration takes, both levels (for the estimate printed at start). */
export function signalRunSeconds(kind: SignalScenario, seconds: number): number {
  const recover = kind === 'io-slow' ? 2 : 0;
  const base = 6 * (WARMUP_SECONDS + seconds + recover);
  return base + (hasOverload(kind) ? 4 * (FILL_SECONDS + seconds + recover + QUEUE_TIMEOUT_MS / 1000) : 0);
}
/** Backends, the balancer, capacity and the first warm-up of each configuration (both levels), once per scenario. */
export const SIGNAL_SETUP_SECONDS = 57;

async function capacityOf(url: string): Promise<number> {
  const r = await autocannon({ url, connections: 4, duration: 3 });
  return r.requests.average;
}

function sharesOf(r: PacedResult, names: string[], fromMs = 0): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  let total = 0;
  for (const [t, who] of r.log) {
    if (t < fromMs) continue;
    counts[who] = (counts[who] ?? 0) + 1;
    total++;
  }
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / Math.max(1, total)]));
}

async function startQueueBackend(
  name: string,
  serviceMs: number,
  cpuVisible: boolean,
  burnDuty: number,
): Promise<{ name: string; url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [QUEUE_BACKEND], {
    env: {
      ...process.env,
      PORT: String(port),
      NAME: name,
      SERVICE_MS: String(serviceMs),
      CPU_VISIBLE: cpuVisible ? '1' : '0',
      BURN_DUTY: String(burnDuty),
    },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/health`)).ok, { timeoutMs: 10_000 });
  return { name, url, child };
}

export async function signals(kind: SignalScenario, runs: number, seconds: number): Promise<SignalResult> {
  const plan = PLANS[kind];
  const backends = await Promise.all(
    plan.serviceMs.map((ms, i) =>
      startQueueBackend(`${kind}-${i + 1}`, ms, plan.cpuVisible, plan.burnDuty[i] ?? 0),
    ),
  );
  const names = backends.map((b) => b.name);
  const urls = backends.map((b) => b.url);
  const stops: Array<() => Promise<unknown>> = backends.map((b) => () => stopProcess(b.child));
  try {
    const lbEnv = {
      DISCOVERY: 'static',
      BACKENDS: urls.join(','),
      METRICS_SOURCE: 'backend',
      METRICS_INTERVAL_MS: '1000',
      HEALTH_INTERVAL_MS: '1000',
    };
    const lb = await startHeadroom(lbEnv);
    stops.push(() => lb.stop());
    const ready = async (x: Lb): Promise<void> => {
      await waitFor(
        async () => {
          const body = (await (await fetch(`${x.admin}/api/backends`)).json()) as {
            backends: Array<{ state: string }>;
          };
          return body.backends.filter((b) => b.state === 'healthy').length === urls.length;
        },
        { timeoutMs: 20_000 },
      );
    };
    await ready(lb);
    const capacity = plan.serviceMs.reduce((a, ms) => a + 1000 / ms, 0);
    const offered = Math.round(capacity * plan.load);
    // what the backends really complete (timers, the hand-off), the overload level's 100 %
    const perBackend: number[] = [];
    for (const u of urls) perBackend.push(await capacityOf(u));
    const measured = perBackend.reduce((a, b) => a + b, 0);
    let measuredAfter: number | undefined;
    if (hasOverload(kind) && plan.slowTo !== undefined) {
      await fetch(`${urls[2]}/service?ms=${plan.slowTo}`, { method: 'POST' }).then((r) => r.body?.cancel());
      measuredAfter = measured - perBackend[2]! + (await capacityOf(urls[2]!));
      await fetch(`${urls[2]}/service?ms=${plan.serviceMs[2]}`, { method: 'POST' }).then((r) =>
        r.body?.cancel(),
      );
    }
    process.stdout.write(
      `  ${kind}: capacity ${capacity.toFixed(0)} req/s (measured ${measured.toFixed(0)}${measuredAfter === undefined ? '' : `, ${measuredAfter.toFixed(0)} once slow`}), offering ${offered} req/s\n`,
    );

    const { configs, missing } = await balancingConfigs(lb, urls, stops);
    const setService = (ms: number) =>
      fetch(`${urls[2]}/service?ms=${ms}`, { method: 'POST' }).then((r) => r.body?.cancel());
    // every process warm (JIT, pools) before the first measured run, not only the one that runs first
    for (const cfg of configs) await paced(cfg.url, offered, 3);
    /** One measured run: the scenario's schedule (io-slow: the third backend slow a third in). */
    const slowAt = (seconds * 1000) / 3;
    const measure = async (cfg: Config, rate: number, connections?: number, fill?: Fill) => {
      const timer =
        plan.slowTo === undefined
          ? undefined
          : setTimeout(
              () => void setService(plan.slowTo!).catch(() => {}),
              slowAt + (fill ? fill.seconds * 1000 : 0),
            );
      const result = await paced(cfg.url, rate, seconds, 10_000, connections, cfg.pid, fill);
      if (timer) clearTimeout(timer);
      if (plan.slowTo !== undefined) {
        await setService(plan.serviceMs[2]!);
        // the next configuration starts from a recovered backend: let estimates settle
        await paced(cfg.url, offered, 2);
      }
      return { result };
    };
    const raw: Record<string, ConfigResult[]> = {};
    for (let run = 0; run < runs; run++) {
      for (let i = 0; i < configs.length; i++) {
        const cfg = configs[(i + run) % configs.length]!;
        await cfg.before?.();
        await paced(cfg.url, offered, WARMUP_SECONDS); // warm-up (the balancer learns), discarded
        const { result } = await measure(cfg, offered);
        const row: ConfigResult = {
          config: cfg.name,
          p50: quantile(result.latencies, 0.5),
          p99: quantile(result.latencies, 0.99),
          errors: result.errors,
          shares: sharesOf(result, names, plan.slowTo === undefined ? 0 : slowAt + 2000),
        };
        const rows = raw[cfg.name] ?? [];
        raw[cfg.name] = rows;
        rows.push(row);
        process.stdout.write(
          `  ${kind} run ${run + 1}/${runs} ${cfg.name}: p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms, share of ${names[2]} ${((row.shares[names[2]!] ?? 0) * 100).toFixed(1)} %, errors ${row.errors}\n`,
        );
      }
    }
    const overload = hasOverload(kind)
      ? await overloadLevel({
          kind,
          lb,
          env: lbEnv,
          urls,
          names,
          stops,
          capacity: measured,
          capacityDuring: measuredAfter === undefined ? measured : measured / 3 + (2 * measuredAfter) / 3,
          offeredBase: offered,
          runs,
          seconds,
          measure: (cfg, rate, connections, fill) => measure(cfg, rate, connections, fill),
          warm: (cfg) => paced(cfg.url, offered, 3).then(() => {}),
          ready,
        })
      : undefined;
    const results = medianRows(raw, names);
    return {
      scenario: kind,
      description: plan.description,
      serviceMs: plan.serviceMs,
      capacityRps: capacity,
      offeredRps: offered,
      seconds,
      runs,
      missing,
      names,
      results,
      warmupSeconds: WARMUP_SECONDS,
      measuredCapacityRps: measured,
      ...(measuredAfter === undefined ? {} : { measuredCapacityAfterRps: measuredAfter }),
      ...(overload ? { overload } : {}),
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  }
}
