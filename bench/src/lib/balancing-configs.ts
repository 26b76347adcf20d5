// What the balancing scenarios share: the configurations they compare (Headroom's four modes,
// HAProxy leastconn, NGINX least_conn in front of the same backends, BENCH_ONLY to keep some)
// and the median of each configuration's runs.
import { startHaproxy } from '../competitors/haproxy.js';
import { startNginx } from '../competitors/nginx.js';
import type { ConfigResult } from '../scenarios/balancing.js';
import { median } from './load.js';
import { type Lb, setMode } from './procs.js';

export const MODES = ['round-robin', 'least-connections', 'resource-aware', 'latency'] as const;

export interface Config {
  name: string;
  url: string;
  before?: () => Promise<void>;
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

/** Per configuration: the median of its runs' p50, p99 and shares (each run's p99 kept too); errors summed. */
export function medianRows(raw: Record<string, ConfigResult[]>, names: string[]): ConfigResult[] {
  return Object.entries(raw).map(([config, rows]) => ({
    config,
    p50: median(rows.map((r) => r.p50)),
    p99: median(rows.map((r) => r.p99)),
    p99Runs: rows.map((r) => r.p99),
    errors: rows.reduce((a, r) => a + r.errors, 0),
    shares: Object.fromEntries(names.map((n) => [n, median(rows.map((r) => r.shares[n] ?? 0))])),
  }));
}
