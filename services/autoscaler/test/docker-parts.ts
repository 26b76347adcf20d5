// Test helper: the Docker runtime's observe → plan → act round for one service, with the real
// observer, the pure plan and the real actor (what the loop runs each tick, without decide):
// `scaleTo(n)` converges to n replicas, `reap()` removes dead owned ones, `hostStates()` reads
// every engine's capacity.
import type { Logger } from '@headroom/shared';
import { DockerRuntime } from '../src/act/docker-runtime.js';
import { runPlan } from '../src/act/run-plan.js';
import type { Engine } from '../src/clients/docker-engines.js';
import type { ReplicaRecord } from '../src/model/replica.js';
import { type FallbackSettings, templateFromSettings } from '../src/model/replica-template.js';
import { DockerObserver } from '../src/observe/docker-observer.js';
import type { PlacementSettings } from '../src/placement/host-state.js';
import { planService } from '../src/placement/plan-tick.js';

export function dockerParts(o: {
  service: string;
  engines: Engine[];
  placement: PlacementSettings;
  fallback: FallbackSettings;
  stopGraceSeconds: number;
  logger: Logger;
  keepOneOnSleep?: boolean;
}) {
  const observer = new DockerObserver({ service: o.service, engines: o.engines, fallback: o.fallback });
  const lister = new DockerObserver({
    service: o.service,
    engines: o.engines,
    fallback: o.fallback,
    capacity: false,
  });
  const actor = new DockerRuntime({
    engines: o.engines,
    stopGraceSeconds: o.stopGraceSeconds,
    logger: o.logger,
  });

  async function observe() {
    const obs = await observer.observe();
    const s = obs.services.find((x) => x.service === o.service)!;
    return { ...s, hosts: obs.hosts ?? [], unreachable: obs.unreachable };
  }

  async function list(): Promise<ReplicaRecord[]> {
    const obs = await lister.observe();
    return obs.services.find((x) => x.service === o.service)?.records ?? [];
  }

  async function run(
    intent: Parameters<typeof planService>[0]['intent'],
    records?: readonly ReplicaRecord[],
  ) {
    const obs = await observe();
    // Replicas given explicitly (as if none ran): the template is what they offer, else REPLICA_* settings.
    const template =
      records === undefined || records.some((r) => r.state === 'running')
        ? obs.template
        : templateFromSettings(o.service, o.fallback);
    const planned = planService({
      service: o.service,
      runtime: 'docker',
      intent,
      why: 'test',
      replicas: records ?? obs.records,
      template,
      request: template ? { cpu: template.nanoCpus / 1e9, memory: template.memory } : undefined,
      hosts: obs.hosts,
      settings: o.placement,
      deaths: [],
      now: Date.now(),
      keepOneOnSleep: o.keepOneOnSleep ?? false,
      dryRun: false,
    });
    const outcome = await runPlan(planned.plan, actor, undefined, o.logger);
    return { ...outcome, shortfall: planned.plan.shortfall };
  }

  return {
    observer,
    actor,
    observe,
    list,
    hostStates: async () => (await observe()).hosts,
    scaleTo: (desired: number, records?: readonly ReplicaRecord[]) =>
      run({ kind: 'scale', desired }, records),
    sleep: () => run({ kind: 'sleep' }),
    reap: async () => (await run({ kind: 'none' })).reaped,
  };
}
