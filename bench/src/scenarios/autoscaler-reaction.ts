// Scenario 4: autoscaler reaction, on the real parts a user runs. A real Prometheus finds
// the replicas through Docker service discovery (5 s scrape and refresh, the repository's
// recording rules, as prometheus/ ships them); the autoscaler (docker runtime, default
// policy: target 60 % CPU, 5 s interval, 60 s scale-down window) scales a stress backend
// with --cpus 0.5; the balancer (docker discovery) serves whatever replicas exist.
// Open-loop traffic through the balancer: a low phase, a step to more than one replica
// can serve (held long enough to see whether the count flaps), then low again until the
// autoscaler has drained and removed what it added. Reported: seconds from the step to
// the first response from a new replica, the replica count every second, how often it
// changed under steady load, and failed requests during scale-in.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LB_LABELS } from '@headroom/shared';
import { dockerSdScrapeConfig, spawnService, startPrometheus } from '@headroom/testkit';
import { type PacedResult, paced } from '../lib/load.js';
import {
  ensureBackendImage,
  freePort,
  healthyBackends,
  removeBenchContainers,
  repoRoot,
  startBackendContainer,
  startHeadroom,
  waitFor,
} from '../lib/procs.js';

const LOAD_MS = 10;

export interface AutoscalerResult {
  cpus: number;
  lowRps: number;
  stepRps: number;
  phases: { lowSeconds: number; stepSeconds: number; afterSeconds: number };
  /** Seconds from the step to the first response from a replica that was not there before it. */
  reactionSeconds: number | null;
  /** Seconds from the step to the autoscaler starting the first new replica. */
  decisionSeconds: number | null;
  peakReplicas: number;
  /** Replica-count changes in the second half of the step (steady load): 0 = no flapping. */
  changesUnderSteadyLoad: number;
  /** Seconds from the load dropping until the count is back to one. */
  scaleInSeconds: number | null;
  failedDuringScaleIn: number;
  requestsDuringScaleIn: number;
  failedTotal: number;
  requestsTotal: number;
  /** [s since the step, running replicas, replicas healthy at the balancer], every second. */
  timeline: Array<[number, number, number]>;
}

function runningReplicas(service: string): string[] {
  return execFileSync('docker', [
    'ps',
    '--filter',
    `label=${LB_LABELS.service}=${service}`,
    '--format',
    '{{.Names}}',
  ])
    .toString()
    .split('\n')
    .filter(Boolean);
}

export async function autoscalerReaction(
  lowSeconds = 20,
  stepSeconds = 90,
  afterSeconds = 150,
): Promise<AutoscalerResult> {
  const cpus = 0.5;
  const service = `bench-autoscale-${process.pid}`;
  ensureBackendImage();
  removeBenchContainers();
  const rules = readFileSync(join(repoRoot, 'prometheus', 'rules', 'headroom.rules.yml'), 'utf8');
  const prom = await startPrometheus({
    scrapeConfigsYaml: dockerSdScrapeConfig(service, 5),
    rules: [rules],
    scrapeIntervalSeconds: 5,
  });
  const first = await startBackendContainer(`${service}-1`, cpus, {
    [LB_LABELS.enable]: 'true',
    [LB_LABELS.service]: service,
    [LB_LABELS.port]: '3000',
  });
  const lb = await startHeadroom({
    DISCOVERY: 'docker',
    LB_SERVICE: service,
    DOCKER_ADDRESS: 'network',
    METRICS_SOURCE: 'docker',
    HEALTH_INTERVAL_MS: '1000',
    SLOW_START_MS: '5000',
  });
  const scalerPort = await freePort();
  const scaler = spawnService('autoscaler', {
    RUNTIME: 'docker',
    SERVICE: service,
    PROMETHEUS_URL: prom.url,
    MIN_REPLICAS: '1',
    MAX_REPLICAS: '4',
    ADMIN_PORT: String(scalerPort),
    HOST: '127.0.0.1',
    LB_ADMIN_URL: lb.admin,
    LOG_LEVEL: 'info',
  });
  const timeline: Array<[number, number, number]> = [];
  try {
    await waitFor(async () => (await healthyBackends(lb.admin)) === 1, { timeoutMs: 20_000 });
    // the single replica's capacity at 10 ms of CPU per request is about 40 req/s
    const lowRps = 8;
    const stepRps = 45;
    const url = `${lb.proxy}/load?ms=${LOAD_MS}`;
    process.stdout.write(`  low ${lowRps} req/s for ${lowSeconds} s\n`);
    const low = await paced(url, lowRps, lowSeconds);
    const before = new Set(runningReplicas(service)); // the first replica only
    const stepAt = performance.now();
    let decisionSeconds: number | null = null;
    const sampler = setInterval(async () => {
      const running = runningReplicas(service);
      const t = (performance.now() - stepAt) / 1000;
      if (decisionSeconds === null && running.some((n) => !before.has(n))) decisionSeconds = t;
      timeline.push([Math.round(t), running.length, await healthyBackends(lb.admin).catch(() => -1)]);
    }, 1000);
    process.stdout.write(`  step to ${stepRps} req/s for ${stepSeconds} s\n`);
    const step = await paced(url, stepRps, stepSeconds);
    const dropAt = (performance.now() - stepAt) / 1000;
    process.stdout.write(`  back to ${lowRps} req/s for ${afterSeconds} s\n`);
    const after = await paced(url, lowRps, afterSeconds);
    clearInterval(sampler);

    const firstNew = step.log.find(([, who]) => who !== '?' && who !== first.name);
    const steady = timeline.filter(([t]) => t >= stepSeconds / 2 && t < dropAt);
    let changes = 0;
    for (let i = 1; i < steady.length; i++) if (steady[i]![1] !== steady[i - 1]![1]) changes++;
    const backToOne = timeline.find(([t, n]) => t > dropAt && n === 1);
    const all: PacedResult[] = [low, step, after];
    return {
      cpus,
      lowRps,
      stepRps,
      phases: { lowSeconds, stepSeconds, afterSeconds },
      reactionSeconds: firstNew ? firstNew[0] / 1000 : null,
      decisionSeconds,
      peakReplicas: Math.max(...timeline.map(([, n]) => n)),
      changesUnderSteadyLoad: changes,
      scaleInSeconds: backToOne ? backToOne[0] - dropAt : null,
      failedDuringScaleIn: after.errors,
      requestsDuringScaleIn: after.sent,
      failedTotal: all.reduce((a, r) => a + r.errors, 0),
      requestsTotal: all.reduce((a, r) => a + r.sent, 0),
      timeline,
    };
  } finally {
    await scaler.stop();
    await lb.stop();
    await prom.stop();
    // replicas the autoscaler created carry the template's labels, the bench marker among them
    removeBenchContainers();
  }
}
