// Replicas as the tasks of a Swarm service: the count is the service's Replicated.Replicas,
// updated with the service's version index so a concurrent change is not overwritten. The
// tasks are observed by observe/swarm-observer.ts.
// Swarm picks which task a scale-down removes and has no call to remove a given one; its rule
// is known (swarm-leaving.ts), so a scale-in drains the tasks that will go at the balancer and
// waits for their in-flight requests (up to DRAIN_TIMEOUT_MS) before it lowers the count, as
// the Docker runtime drains a container before it stops it. After the update the prediction is
// checked against the tasks Swarm really stopped: a drained task that stayed is taken back into
// rotation, and one that left unpredicted is drained at once (its SIGTERM handling does the rest).
import type { Logger } from '@headroom/shared';
import type Docker from 'dockerode';
import type { Engine } from '../clients/docker-engines.js';
import type { ReplicaRecord } from '../model/replica.js';
import type { DrainClient } from './drain-client.js';
import type { ReplicaActor } from './replica-runtime.js';
import { type SwarmTaskPlace, swarmLeavingTasks } from './swarm-leaving.js';

interface SwarmTask {
  ID: string;
  Slot?: number;
  NodeID?: string;
  Status?: { State?: string };
}

/** The id the balancer's Swarm discovery gives a task (its first 12 characters). */
export const taskBackendId = (taskId: string) => taskId.slice(0, 12);

/** What a scale-in needs from the balancer: drain and wait, and take back a task that stayed. */
export interface SwarmDrain {
  drain: Pick<DrainClient, 'drain'>;
  undrain(backendId: string): Promise<unknown>;
}

/** Pure: the update body that sets the replica count, keeping the rest of the spec. */
export function scaledSpec(spec: Docker.ServiceSpec, replicas: number): Docker.ServiceSpec {
  if (!spec.Mode?.Replicated) throw new Error('the Swarm service is not in replicated mode');
  return { ...spec, Mode: { ...spec.Mode, Replicated: { ...spec.Mode.Replicated, Replicas: replicas } } };
}

export class SwarmRuntime implements ReplicaActor {
  readonly kind = 'swarm' as const;

  constructor(
    private readonly engine: Engine,
    private readonly logger: Logger,
    /** The balancer's drain (LB_ADMIN_URL); without it a scale-in only lowers the count. */
    private readonly drain?: SwarmDrain | undefined,
    /** How long to look for the tasks Swarm stops after an update. */
    private readonly settleMs = 5_000,
  ) {}

  private async tasks(service: string): Promise<SwarmTask[]> {
    return (await this.engine.docker.listTasks({
      filters: { service: [service], 'desired-state': ['running'] },
    })) as SwarmTask[];
  }

  async setCount(
    service: string,
    desired: number,
    replicas: readonly ReplicaRecord[],
  ): Promise<{ added: string[]; removed: string[] }> {
    const svc = this.engine.docker.getService(service);
    let info = await svc.inspect();
    const before = info.Spec?.Mode?.Replicated?.Replicas ?? replicas.length;
    let drained: SwarmTaskPlace[] = [];
    let tasks: SwarmTask[] = [];
    if (desired < before && this.drain) {
      tasks = await this.tasks(service);
      drained = swarmLeavingTasks(
        tasks.map((t) => ({
          id: t.ID,
          slot: t.Slot ?? 0,
          node: t.NodeID,
          running: t.Status?.State === 'running',
        })),
        desired,
      );
      const drain = this.drain.drain;
      const outcomes = await Promise.all(drained.map((t) => drain.drain(taskBackendId(t.id))));
      this.logger.info(
        { service, tasks: drained.map((t) => `${service}.${t.slot}`), outcomes },
        'swarm scale-in: drained the tasks that will go',
      );
      // the drain can take DRAIN_TIMEOUT_MS: the version index read before it is likely stale
      info = await svc.inspect();
    }
    await svc.update({ ...scaledSpec(info.Spec, desired), version: info.Version.Index });
    this.logger.info({ service, from: before, to: desired }, 'swarm service scaled');
    if (drained.length > 0) await this.checkPrediction(service, drained, tasks, desired);
    const delta = desired - before;
    if (drained.length > 0 && delta < 0)
      return { added: [], removed: drained.map((t) => `${service}.${t.slot}`) };
    const names = Array.from({ length: Math.abs(delta) }, (_, i) => `${service}.slot+${i + 1}`);
    return delta >= 0 ? { added: names, removed: [] } : { added: [], removed: names };
  }

  /**
   * The tasks Swarm really took out (desired state no longer running) against the prediction:
   * a drained task that stays goes back into rotation, an unpredicted one is drained now.
   */
  private async checkPrediction(
    service: string,
    drained: readonly SwarmTaskPlace[],
    before: readonly SwarmTask[],
    desired: number,
  ): Promise<void> {
    const deadline = Date.now() + this.settleMs;
    let staying = await this.tasks(service);
    // Swarm records the new desired states within moments of the update
    while (staying.length > desired && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      staying = await this.tasks(service);
    }
    const stayingIds = new Set(staying.map((t) => t.ID));
    const predicted = new Set(drained.map((t) => t.id));
    const kept = drained.filter((t) => stayingIds.has(t.id));
    const unpredicted = before.filter((t) => !stayingIds.has(t.ID) && !predicted.has(t.ID));
    if (kept.length === 0 && unpredicted.length === 0) return;
    this.logger.warn(
      {
        service,
        predicted: drained.map((t) => t.slot),
        kept: kept.map((t) => t.slot),
        removedInstead: unpredicted.map((t) => t.Slot),
      },
      'swarm scale-in: Swarm removed other tasks than predicted; the kept ones go back into rotation',
    );
    const drain = this.drain;
    if (!drain) return;
    await Promise.all([
      ...kept.map((t) => drain.undrain(taskBackendId(t.id)).catch(() => undefined)),
      // marked at once (they are already being stopped); the wait is their SIGTERM handling's
      ...unpredicted.map((t) => drain.drain.drain(taskBackendId(t.ID)).catch(() => undefined)),
    ]);
  }

  async create(): Promise<string> {
    throw new Error('a Swarm service is scaled by its count');
  }

  async startKept(): Promise<string> {
    throw new Error('a Swarm service is scaled by its count');
  }

  async remove(): Promise<void> {
    throw new Error('a Swarm service is scaled by its count: Swarm picks the task');
  }

  async cleanup(): Promise<void> {
    // The Swarm service belongs to the stack, not to us: nothing to remove.
  }

  async close(): Promise<void> {}
}
