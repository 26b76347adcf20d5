// Replicas as the tasks of a Swarm service: the count is the service's Replicated.Replicas,
// updated with the service's version index so a concurrent change is not overwritten.
// Swarm picks which task a scale-down removes, so draining happens in the balancer's task
// watch and the backend's SIGTERM handling, not here. The tasks are observed by
// observe/swarm-observer.ts.
import type { Logger } from '@headroom/shared';
import type Docker from 'dockerode';
import type { Engine } from '../clients/docker-engines.js';
import type { ReplicaRecord } from '../model/replica.js';
import type { ReplicaActor } from './replica-runtime.js';

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
  ) {}

  async setCount(
    service: string,
    desired: number,
    replicas: readonly ReplicaRecord[],
  ): Promise<{ added: string[]; removed: string[] }> {
    const svc = this.engine.docker.getService(service);
    const info = await svc.inspect();
    const before = info.Spec?.Mode?.Replicated?.Replicas ?? replicas.length;
    await svc.update({ ...scaledSpec(info.Spec, desired), version: info.Version.Index });
    this.logger.info({ service, from: before, to: desired }, 'swarm service scaled');
    const delta = desired - before;
    const names = Array.from({ length: Math.abs(delta) }, (_, i) => `${service}.slot+${i + 1}`);
    return delta >= 0 ? { added: names, removed: [] } : { added: [], removed: names };
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
