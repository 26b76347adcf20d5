// The parts the two autoscaler-reaction scenarios share, as a user runs them: the balancer
// (docker discovery), a real Prometheus with the repository's recording rules finding the
// replicas through Docker service discovery, one stress-backend replica at --cpus 0.5 (the
// template the autoscaler copies), and autoscalers (docker runtime, default policy) started on
// demand. The scenarios differ only in what they measure and in Prometheus' intervals.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LB_LABELS } from '@headroom/shared';
import {
  dockerSdScrapeConfig,
  type RunningPrometheus,
  type ServiceProcess,
  spawnService,
  startPrometheus,
} from '@headroom/testkit';
import {
  ensureBackendImage,
  freePort,
  type Lb,
  removeBenchContainers,
  repoRoot,
  startBackendContainer,
  startHeadroom,
} from './procs.js';

/** CPU per request (`/load?ms=`): the one replica serves about 40 req/s at --cpus 0.5. */
export const LOAD_MS = 10;
export const REPLICA_CPUS = 0.5;
/** The low phase, well within one replica, and the step, beyond it. */
export const LOW_RPS = 8;
export const STEP_RPS = 45;

export interface ReactionStackOptions {
  service: string;
  /** Prometheus' intervals, and the balancer's own job when `balancerScrapeSeconds` is set. */
  scrape: {
    backendsSeconds: number;
    evaluationSeconds: number;
    refreshSeconds: number;
    balancerScrapeSeconds?: number;
  };
  /** Labels on the first replica beside the balancer's three. */
  labels?: Record<string, string>;
}

export interface ReactionStack {
  lb: Lb;
  prom: RunningPrometheus;
  /** The first replica (the autoscaler's template). */
  first: { name: string; url: string };
  /** `/load` through the balancer. */
  url: string;
  /** The service's container names (`all`: stopped ones too). */
  replicas(all?: boolean): string[];
  /** A fresh autoscaler on the service (MIN 1, MAX 4; `env` on top). */
  startScaler(env?: Record<string, string>): Promise<{ proc: ServiceProcess; admin: string }>;
  stop(): Promise<void>;
}

export async function startReactionStack(opts: ReactionStackOptions): Promise<ReactionStack> {
  const { service, scrape } = opts;
  ensureBackendImage();
  removeBenchContainers();
  const lb = await startHeadroom({
    DISCOVERY: 'docker',
    LB_SERVICE: service,
    DOCKER_ADDRESS: 'network',
    METRICS_SOURCE: 'docker',
    HEALTH_INTERVAL_MS: '1000',
    SLOW_START_MS: '5000',
  });
  const balancerJob =
    scrape.balancerScrapeSeconds === undefined
      ? ''
      : `  - job_name: headroom-balancer
    scrape_interval: ${scrape.balancerScrapeSeconds}s
    scrape_timeout: ${Math.round(Math.max(0.5, scrape.balancerScrapeSeconds * 0.8) * 1000)}ms
    static_configs:
      - targets: ['127.0.0.1:${new URL(lb.admin).port}']
`;
  const rules = readFileSync(join(repoRoot, 'prometheus', 'rules', 'headroom.rules.yml'), 'utf8');
  const prom = await startPrometheus({
    scrapeConfigsYaml: `${dockerSdScrapeConfig(service, scrape.refreshSeconds)}${balancerJob}`,
    rules: [rules],
    scrapeIntervalSeconds: scrape.backendsSeconds,
    evaluationIntervalSeconds: scrape.evaluationSeconds,
  });
  const first = await startBackendContainer(`${service}-1`, REPLICA_CPUS, {
    [LB_LABELS.enable]: 'true',
    [LB_LABELS.service]: service,
    [LB_LABELS.port]: '3000',
    ...opts.labels,
  });
  const replicas = (all = false) =>
    execFileSync('docker', [
      'ps',
      ...(all ? ['-a'] : []),
      '--filter',
      `label=${LB_LABELS.service}=${service}`,
      '--format',
      '{{.Names}}',
    ])
      .toString()
      .split('\n')
      .filter(Boolean);
  return {
    lb,
    prom,
    first,
    url: `${lb.proxy}/load?ms=${LOAD_MS}`,
    replicas,
    async startScaler(env = {}) {
      const port = await freePort();
      const proc = spawnService('autoscaler', {
        RUNTIME: 'docker',
        SERVICE: service,
        PROMETHEUS_URL: prom.url,
        MIN_REPLICAS: '1',
        MAX_REPLICAS: '4',
        ADMIN_PORT: String(port),
        HOST: '127.0.0.1',
        LB_ADMIN_URL: lb.admin,
        ...env,
      });
      return { proc, admin: `http://127.0.0.1:${port}` };
    },
    async stop() {
      await lb.stop();
      await prom.stop();
      // replicas the autoscaler created carry the template's labels, the bench marker among them
      removeBenchContainers();
    },
  };
}
