// A service whose load a test sets by hand, for the autoscaler's Docker tests: labelled replicas
// (a `node -e` server on the base image) that expose a settable `test_cpu_utilization` gauge, and
// a real Prometheus that finds the service's containers through Docker service discovery, as
// the deploy config does. `dockerScalerEnv` is the autoscaler configuration those tests share.
import { LB_LABELS } from '@headroom/shared';
import { dockerSdScrapeConfig, type RunningPrometheus, startPrometheus } from '../prometheus.js';
import { waitFor } from '../wait-for.js';
import { containerIp, hostDocker } from './engine.js';
import { ensureBaseImage } from './images.js';
import {
  type LabelledContainer,
  type LabelledOptions,
  lbLabels,
  removeRun,
  runNodeScript,
} from './labelled.js';

/** A replica: /health, / (identity), /metrics with test_cpu_utilization, /set?v= to change it. */
export const GAUGE_REPLICA_SCRIPT = `
const http = require('http');
let v = Number(process.env.CPU ?? '0');
http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  if (u.pathname === '/set') { v = Number(u.searchParams.get('v')); res.end('ok'); return; }
  if (u.pathname === '/metrics') { res.setHeader('content-type', 'text/plain; version=0.0.4'); res.end('test_cpu_utilization ' + (Number.isNaN(v) ? 'NaN' : String(v)) + '\\n'); return; }
  if (u.pathname === '/health') { res.end('ok'); return; }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ instance: require('os').hostname() }));
}).listen(3000, '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
`;

/** The PromQL of a gauge service's utilization (what PROMQL_CPU is set to). */
export const gaugeQuery = (service: string) => `test_cpu_utilization{service="${service}"}`;

export interface GaugeReplicaOptions extends Pick<LabelledOptions, 'run' | 'name' | 'docker' | 'network'> {
  service: string;
  /** The gauge's first value (default '0'). */
  cpu?: string;
  /** Labels beside the balancer's three (lb.idle.after, …). */
  labels?: Record<string, string>;
  /** `docker create` only: a stopped replica. */
  createOnly?: boolean;
  /** Its CPU limit (default 0.25: what placement books for it). */
  cpus?: number;
}

/** One replica of `service` (0.25 CPU unless `cpus`, 64 MiB), labelled for the balancer and the test run. */
export function runGaugeReplica(opts: GaugeReplicaOptions): LabelledContainer {
  const { service, cpu = '0', labels = {}, cpus = 0.25, ...rest } = opts;
  return runNodeScript({
    ...rest,
    labels: lbLabels(service, 3000, labels),
    env: { CPU: cpu },
    flags: ['--cpus', String(cpus), '--memory', '64m'],
    script: GAUGE_REPLICA_SCRIPT,
  });
}

/** Sets a replica's gauge (through its address on the engine's network). */
export async function setGauge(replica: LabelledContainer | string, v: string): Promise<void> {
  const ip = typeof replica === 'string' ? containerIp(replica) : replica.ip();
  const res = await fetch(`http://${ip}:3000/set?v=${v}`);
  if (!res.ok) throw new Error(`set ${typeof replica === 'string' ? replica : replica.name}: ${res.status}`);
}

export interface GaugeService {
  prom: RunningPrometheus;
  /** The template replica `<service>-tmpl` the autoscaler copies. */
  template: LabelledContainer;
  /** Removes the run's containers and every container of the service (the replicas it made), stops Prometheus. */
  stop(): Promise<void>;
}

/**
 * Prometheus (Docker SD on the service's label) and the template replica with the gauge at
 * `cpu`; resolves once Prometheus has scraped it.
 */
export async function startGaugeService(opts: {
  run: string;
  service: string;
  cpu: string;
}): Promise<GaugeService> {
  ensureBaseImage();
  const prom = await startPrometheus({ scrapeConfigsYaml: dockerSdScrapeConfig(opts.service) });
  const stop = async () => {
    removeRun(opts.run);
    // owned replicas carry the run marker through the template; belt and braces by service
    removeServiceContainers(opts.service);
    await prom.stop();
  };
  try {
    const template = runGaugeReplica({ ...opts, name: `${opts.service}-tmpl` });
    await waitFor(async () => (await prom.query(gaugeQuery(opts.service))).length === 1, {
      timeoutMs: 30_000,
      message: 'prometheus scrapes the template replica',
    });
    return { prom, template, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Removes every container labelled as one of `service`'s backends. */
export function removeServiceContainers(service: string): void {
  const ids = hostDocker('ps', '-aq', '--filter', `label=${LB_LABELS.service}=${service}`)
    .split('\n')
    .filter(Boolean);
  if (ids.length > 0) hostDocker('rm', '-f', ...ids);
}

/** The autoscaler's set-up for a gauge service on the host engine (RUNTIME=docker); `extra` on top. */
export function dockerScalerEnv(
  service: string,
  prom: RunningPrometheus,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    RUNTIME: 'docker',
    // Placement applies to the one engine too: other tests' containers book this shared 2-core
    // engine's CPU at the same time, and these tests are not about capacity.
    CPU_OVERCOMMIT: '16',
    SERVICE: service,
    PROMETHEUS_URL: prom.url,
    PROMQL_CPU: gaugeQuery(service),
    MIN_REPLICAS: '1',
    TARGET_CPU_UTILIZATION: '0.5',
    ...extra,
  };
}
