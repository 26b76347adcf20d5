// Replicas as the tasks of a Swarm service: the count is the service's Replicated.Replicas,
// updated with the service's version index so a concurrent change is not overwritten.
// Swarm picks which task a scale-down removes, so draining happens in the balancer's task
// watch and the backend's SIGTERM handling, not here.
import type { Logger } from '@headroom/shared';
import type Docker from 'dockerode';
import type { Engine } from './docker-engines.js';
import {
  EngineUnavailableError,
  type ReplicaRecord,
  type ReplicaRuntime,
  type ReplicaState,
  type ScaleOutcome,
} from './replica-runtime.js';

interface SwarmTask {
  ID: string;
  Slot?: number;
  NodeID?: string;
  Status?: { State?: string };
}

const STARTING = new Set([
  'new',
  'allocated',
  'pending',
  'assigned',
  'accepted',
  'preparing',
  'ready',
  'starting',
]);

export function taskState(state: string | undefined): ReplicaState {
  if (state === 'running') return 'running';
  if (state !== undefined && STARTING.has(state)) return 'starting';
  return 'exited';
}

/** Pure: the update body that sets the replica count, keeping the rest of the spec. */
export function scaledSpec(spec: Docker.ServiceSpec, replicas: number): Docker.ServiceSpec {
  if (!spec.Mode?.Replicated) throw new Error('the Swarm service is not in replicated mode');
  return { ...spec, Mode: { ...spec.Mode, Replicated: { ...spec.Mode.Replicated, Replicas: replicas } } };
}

export class SwarmRuntime implements ReplicaRuntime {
  readonly kind = 'swarm' as const;

  constructor(
    private readonly engine: Engine,
    private readonly service: string,
    private readonly logger: Logger,
  ) {}

  async list(): Promise<ReplicaRecord[]> {
    let tasks: SwarmTask[];
    try {
      tasks = (await this.engine.docker.listTasks({
        filters: { service: [this.service], 'desired-state': ['running'] },
      })) as SwarmTask[];
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404 || status === 503)
        throw new EngineUnavailableError(`swarm service ${this.service}: ${(err as Error).message}`);
      throw new EngineUnavailableError(`docker engine ${this.engine.id}: ${(err as Error).message}`);
    }
    return tasks.map((t) => ({
      id: String(t.ID),
      name: `${this.service}.${t.Slot ?? t.ID}`,
      // The service as a whole is scaled; no single task is ever stopped by us.
      owned: false,
      state: taskState(t.Status?.State),
      ready: t.Status?.State === 'running',
      host: String(t.NodeID ?? 'swarm'),
      backendId: String(t.ID),
    }));
  }

  async scaleTo(desired: number, replicas: readonly ReplicaRecord[]): Promise<ScaleOutcome> {
    const svc = this.engine.docker.getService(this.service);
    const info = await svc.inspect();
    const before = info.Spec?.Mode?.Replicated?.Replicas ?? replicas.length;
    await svc.update({ ...scaledSpec(info.Spec, desired), version: info.Version.Index });
    this.logger.info({ service: this.service, from: before, to: desired }, 'swarm service scaled');
    const delta = desired - before;
    const names = Array.from({ length: Math.abs(delta) }, (_, i) => `${this.service}.slot+${i + 1}`);
    return delta >= 0 ? { added: names, removed: [] } : { added: [], removed: names };
  }

  async reap(): Promise<string[]> {
    return [];
  }

  async cleanup(): Promise<void> {
    // The Swarm service belongs to the stack, not to us: nothing to remove.
  }

  async close(): Promise<void> {}
}
