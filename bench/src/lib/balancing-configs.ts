// What the balancing scenarios share: the configurations they compare (Headroom's four modes,
// HAProxy leastconn, NGINX least_conn in front of the same backends, BENCH_ONLY to keep some),
// the configurations of the overload level (limits and queues) and the median of each
// configuration's runs.
import { loadBalancerConfigSchema } from '@headroom/shared';
import { startHaproxy } from '../competitors/haproxy.js';
import { startNginx } from '../competitors/nginx.js';
import type { ConfigResult } from '../scenarios/balancing.js';
import { type Fill, median, type PacedResult, quantile } from './load.js';
import { classifyRejects, goodput, type Spread, spreadOf } from './overload.js';
import { type Lb, setMode, startHeadroom } from './procs.js';

export const MODES = ['round-robin', 'least-connections', 'resource-aware', 'latency'] as const;

export interface Config {
  name: string;
  url: string;
  before?: () => Promise<void>;
  /** The proxy's process, whose CPU the overload level reports. */
  pid?: number;
  /** Headroom's admin URL: the overload level reads each backend's limit from it mid-run. */
  admin?: string;
}

/** Each backend's concurrency limit now, by name, from Headroom's admin API. */
export async function limitsOf(admin: string): Promise<Record<string, number>> {
  const body = (await (await fetch(`${admin}/api/backends`)).json()) as {
    backends: Array<{ name: string; limit?: number }>;
  };
  return Object.fromEntries(body.backends.map((b) => [b.name, b.limit ?? Number.NaN]));
}

/** Every configuration in front of `urls`; what it starts is stopped by the functions pushed on `stops`. */
export async function balancingConfigs(
  lb: Lb,
  urls: string[],
  stops: Array<() => unknown>,
): Promise<{ configs: Config[]; missing: string[] }> {
  const configs: Config[] = MODES.map((m) => ({
    name: `headroom ${m}`,
    url: lb.proxy,
    before: () => setMode(lb.admin, m),
  }));
  const missing: string[] = [];
  const haproxy = await startHaproxy(urls, 'leastconn');
  if (haproxy) {
    configs.push({ name: 'haproxy leastconn', url: haproxy.url });
    stops.push(() => haproxy.stop());
  } else missing.push('haproxy');
  const nginx = await startNginx(urls, 'least_conn');
  if (nginx) {
    configs.push({ name: 'nginx least_conn', url: nginx.url });
    stops.push(() => nginx.stop());
  } else missing.push('nginx');
  // BENCH_ONLY=a,b keeps the configurations whose name contains one of them (for quick probes)
  const only = process.env.BENCH_ONLY?.split(',').filter(Boolean);
  return { configs: only ? configs.filter((c) => only.some((o) => c.name.includes(o))) : configs, missing };
}

/** The balancer's defaults: the queue deadline every configuration of the overload level gets. */
const LB_DEFAULTS = loadBalancerConfigSchema.parse({});
export const QUEUE_TIMEOUT_MS = LB_DEFAULTS.QUEUE_TIMEOUT_MS;
/** The overload level, as a fraction of the scenario's measured capacity. */
export const OVERLOAD = 1.2;
/**
 * N: the static per-backend limit that Headroom (its limit pinned at N), HAProxy (`maxconn N`) and
 * NGINX (`max_conns=N`) share at the overload level. 4: a FIFO backend with 4 in flight answers
 * within 4 service times, and a parallel container a few CPU slices; BENCH_MAXCONN overrides.
 */
export const MAXCONN = Number(process.env.BENCH_MAXCONN ?? 4);

export const OVERLOAD_DEFAULT = 'headroom resource-aware, adaptive limit (default)';
export const overloadStaticName = (n: number) => `headroom resource-aware, limit ${n}`;
export const overloadHaproxyName = (n: number) => `haproxy leastconn, maxconn ${n}, timeout queue`;
export const overloadNginxName = (n: number) => `nginx least_conn, max_conns=${n} (no queue)`;

/**
 * The configurations of the overload level in front of `urls`: Headroom's default (adaptive
 * limits, the queue at its defaults) on `lb`; a second balancer with the same discovery (`env`)
 * whose limit is pinned at N; HAProxy leastconn with `maxconn N` per server and `timeout queue`
 * = QUEUE_TIMEOUT_MS; NGINX least_conn with `max_conns=N` (open-source NGINX has no queue).
 *
 * The pinned limit is LIMIT_MIN = LIMIT_MAX = N, not `lb.maxconn=N`: the label is per container,
 * and the static scenarios' backends are processes without labels, the container scenarios'
 * containers are shared with the adaptive balancer. Both give every backend a limit of exactly N
 * (currentLimit in concurrency-limit.ts: the adaptive limit is clamped to [LIMIT_MIN, LIMIT_MAX]).
 */
export async function overloadConfigs(
  lb: Lb,
  env: Record<string, string>,
  urls: string[],
  stops: Array<() => unknown>,
  waitReady: (lb: Lb) => Promise<void>,
): Promise<{ configs: Config[]; missing: string[] }> {
  const n = MAXCONN;
  const pinned = await startHeadroom({ ...env, LIMIT_MIN: String(n), LIMIT_MAX: String(n) });
  stops.push(() => pinned.stop());
  await waitReady(pinned);
  const configs: Config[] = [
    {
      name: OVERLOAD_DEFAULT,
      url: lb.proxy,
      pid: lb.pid,
      admin: lb.admin,
      before: () => setMode(lb.admin, 'resource-aware'),
    },
    { name: overloadStaticName(n), url: pinned.proxy, pid: pinned.pid, admin: pinned.admin },
  ];
  const missing: string[] = [];
  const haproxy = await startHaproxy(urls, 'leastconn', { maxconn: n, queueTimeoutMs: QUEUE_TIMEOUT_MS });
  if (haproxy) {
    configs.push({ name: overloadHaproxyName(n), url: haproxy.url, pid: haproxy.pid });
    stops.push(() => haproxy.stop());
  } else missing.push('haproxy');
  const nginx = await startNginx(urls, 'least_conn', { maxConns: n });
  if (nginx) {
    configs.push({ name: overloadNginxName(n), url: nginx.url, pid: nginx.pid });
    stops.push(() => nginx.stop());
  } else missing.push('nginx');
  const only = process.env.BENCH_ONLY?.split(',').filter(Boolean);
  return { configs: only ? configs.filter((c) => only.some((o) => c.name.includes(o))) : configs, missing };
}

/**
 * Goodput counts from this far into the measured phase: answers the fill phase's load delayed
 * (backends and proxies lag on a busy machine) still arrive at its start; with them, every
 * configuration read 1.10x capacity in a real run, more than the backends can serve.
 */
export const GOODPUT_FROM_MS = 1000;

/** One configuration's run at the overload level. */
export interface OverloadRun {
  config: string;
  goodput: number;
  servedP99: number;
  served: number;
  rejected: number;
  failed: number;
  /** p99 of the time from sending to a rejection answered at once (ms); NaN without one. */
  atOnceP99: number;
  atOnceCount: number;
  /** p99 of how late a rejection at the deadline came after QUEUE_TIMEOUT_MS (ms); NaN without one. */
  lateP99: number;
  lateCount: number;
  byKind: Record<string, number>;
  shares: Record<string, number>;
  /** The proxy process's CPU over the run, in cores (NaN when not measured). */
  cpuCores: number;
  /** Headroom: the limits of the backends two thirds into the run, in backend order. */
  limits?: number[];
}

export function overloadRun(
  config: string,
  r: PacedResult,
  seconds: number,
  capacityRps: number,
  names: string[],
): OverloadRun {
  const c = classifyRejects(r.rejects, QUEUE_TIMEOUT_MS);
  const counts: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  let total = 0;
  for (const [t, who] of r.log) {
    if (t < 0) continue; // the fill phase's answers
    counts[who] = (counts[who] ?? 0) + 1;
    total++;
  }
  return {
    config,
    goodput: goodput(
      r.log.map(([t]) => t),
      seconds * 1000,
      capacityRps,
      GOODPUT_FROM_MS,
    ),
    servedP99: quantile(r.latencies, 0.99),
    served: r.ok,
    rejected: c.count,
    failed: r.failed,
    atOnceP99: quantile(c.atOnce, 0.99),
    atOnceCount: c.atOnce.length,
    lateP99: quantile(c.lateAfterDeadline, 0.99),
    lateCount: c.lateAfterDeadline.length,
    byKind: c.byKind,
    shares: Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / Math.max(1, total)])),
    cpuCores: r.cpuCores ?? Number.NaN,
  };
}

/** One configuration at the overload level, over its runs. */
export interface OverloadRow {
  config: string;
  goodput: Spread;
  servedP99: Spread;
  rejected: Spread;
  /** Per run: p99 of time-to-reject of those rejected at once; runs without any are NaN. */
  atOnceP99: Spread;
  atOnceCount: number;
  lateP99: Spread;
  lateCount: number;
  failed: number;
  /** Rejections by status (and Headroom's cause), summed over the runs. */
  byKind: Record<string, number>;
  shares: Record<string, number>;
  /** The proxy's CPU over the run, in cores (results before 2026-12-07 06:00 do not have it). */
  cpuCores?: Spread;
  /** Headroom: each run's backend limits two thirds in, in backend order. */
  limits?: number[][];
}

export function overloadRows(raw: Record<string, OverloadRun[]>, names: string[]): OverloadRow[] {
  return Object.entries(raw).map(([config, rows]) => {
    const byKind: Record<string, number> = {};
    for (const r of rows) for (const [k, v] of Object.entries(r.byKind)) byKind[k] = (byKind[k] ?? 0) + v;
    return {
      config,
      goodput: spreadOf(rows.map((r) => r.goodput)),
      servedP99: spreadOf(rows.map((r) => r.servedP99)),
      rejected: spreadOf(rows.map((r) => r.rejected)),
      atOnceP99: spreadOf(rows.map((r) => r.atOnceP99)),
      atOnceCount: rows.reduce((a, r) => a + r.atOnceCount, 0),
      lateP99: spreadOf(rows.map((r) => r.lateP99)),
      lateCount: rows.reduce((a, r) => a + r.lateCount, 0),
      failed: rows.reduce((a, r) => a + r.failed, 0),
      byKind,
      shares: Object.fromEntries(names.map((n) => [n, median(rows.map((r) => r.shares[n] ?? 0))])),
      cpuCores: spreadOf(rows.map((r) => r.cpuCores)),
      ...(rows.some((r) => r.limits) ? { limits: rows.map((r) => r.limits ?? []) } : {}),
    };
  });
}

/** The overload level of a scenario, as stored in its result. */
export interface OverloadResult {
  load: number;
  capacityRps: number;
  offeredRps: number;
  /** The unmeasured phase before each run that builds the backlog (results before 06:10 do not have it). */
  fill?: Fill;
  seconds: number;
  runs: number;
  maxconn: number;
  queueTimeoutMs: number;
  missing: string[];
  rows: OverloadRow[];
}

/** Per configuration: the median of its runs' p50, p99 and shares (each run's p99 kept too); errors summed. */
export function medianRows(raw: Record<string, ConfigResult[]>, names: string[]): ConfigResult[] {
  return Object.entries(raw).map(([config, rows]) => ({
    config,
    p50: median(rows.map((r) => r.p50)),
    p99: median(rows.map((r) => r.p99)),
    p99Runs: rows.map((r) => r.p99),
    p50Runs: rows.map((r) => r.p50),
    errors: rows.reduce((a, r) => a + r.errors, 0),
    shares: Object.fromEntries(names.map((n) => [n, median(rows.map((r) => r.shares[n] ?? 0))])),
  }));
}
