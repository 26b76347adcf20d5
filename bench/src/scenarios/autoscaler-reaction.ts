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
import { type PacedResult, paced } from '../lib/load.js';
import { healthyBackends, waitFor } from '../lib/procs.js';
import { LOW_RPS, REPLICA_CPUS, STEP_RPS, startReactionStack } from '../lib/reaction-stack.js';

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

export async function autoscalerReaction(
  lowSeconds = 20,
  stepSeconds = 90,
  afterSeconds = 150,
): Promise<AutoscalerResult> {
  const cpus = REPLICA_CPUS;
  const service = `bench-autoscale-${process.pid}`;
  const stack = await startReactionStack({
    service,
    scrape: { backendsSeconds: 5, evaluationSeconds: 5, refreshSeconds: 5 },
  });
  const { lb, first, url } = stack;
  const runningReplicas = () => stack.replicas();
  const { proc: scaler } = await stack.startScaler({ LOG_LEVEL: 'info' });
  const timeline: Array<[number, number, number]> = [];
  try {
    await waitFor(async () => (await healthyBackends(lb.admin)) === 1, { timeoutMs: 20_000 });
    const lowRps = LOW_RPS;
    const stepRps = STEP_RPS;
    process.stdout.write(`  low ${lowRps} req/s for ${lowSeconds} s\n`);
    const low = await paced(url, lowRps, lowSeconds);
    const before = new Set(runningReplicas()); // the first replica only
    const stepAt = performance.now();
    let decisionSeconds: number | null = null;
    const sampler = setInterval(async () => {
      const running = runningReplicas();
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
    await stack.stop();
  }
}
