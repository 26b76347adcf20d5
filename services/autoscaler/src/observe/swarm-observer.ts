// Observes a Swarm once per tick: the tasks of every scaled Swarm service (SERVICE, and each
// service whose spec carries `autoscale.enable=true`), and the service labels its settings
// come from. The count is changed by act/swarm-runtime.ts.
import { AUTOSCALE_LABELS, LB_LABELS } from '@headroom/shared';
import type Docker from 'dockerode';
import type { Engine } from '../clients/docker-engines.js';
import { EngineUnavailableError, type ReplicaState } from '../model/replica.js';
import type { RuntimeObservation, RuntimeObserver, ServiceRecords } from './runtime-observer.js';

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

export class SwarmObserver implements RuntimeObserver {
  readonly kind = 'swarm' as const;

  constructor(
    private readonly engine: Engine,
    /** SERVICE: the only service scaled, labelled or not (see scaledServices); undefined: the labelled ones. */
    private readonly service: string | undefined,
  ) {}

  private unavailable(err: unknown, what: string): EngineUnavailableError {
    return new EngineUnavailableError(`${what}: ${(err as Error).message}`);
  }

  async observe(): Promise<RuntimeObservation> {
    let labelled: Docker.Service[];
    try {
      labelled = await this.engine.docker.listServices({
        filters: { label: [`${AUTOSCALE_LABELS.enable}=true`] },
      });
    } catch (err) {
      throw this.unavailable(err, `docker engine ${this.engine.id}`);
    }
    const byName = new Map<string, Docker.Service | undefined>();
    if (this.service !== undefined) byName.set(this.service, undefined);
    for (const s of labelled)
      if (s.Spec?.Name && (this.service === undefined || s.Spec.Name === this.service))
        byName.set(s.Spec.Name, s);
    if (byName.size === 0) byName.set('backend', undefined);
    const services: ServiceRecords[] = [];
    for (const [name, spec] of byName) {
      let tasks: SwarmTask[];
      try {
        tasks = (await this.engine.docker.listTasks({
          filters: { service: [name], 'desired-state': ['running'] },
        })) as SwarmTask[];
      } catch (err) {
        // The configured service missing (404) or the node not a manager (503): no engine to scale with.
        throw this.unavailable(err, `swarm service ${name}`);
      }
      const labels = spec?.Spec?.Labels ?? {};
      services.push({
        service: name,
        records: tasks.map((t) => ({
          id: String(t.ID),
          name: `${name}.${t.Slot ?? t.ID}`,
          // The service as a whole is scaled; no single task is ever stopped by us.
          owned: false,
          state: taskState(t.Status?.State),
          ready: t.Status?.State === 'running',
          host: String(t.NodeID ?? 'swarm'),
          backendId: String(t.ID),
          idleAfter: labels[LB_LABELS.idleAfter],
        })),
        labelSources: spec ? [{ name, labels }] : [],
      });
    }
    return { services, unreachable: [] };
  }
}
