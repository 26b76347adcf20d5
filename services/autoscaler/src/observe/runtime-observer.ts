// What observing a runtime yields, per service: its replicas (owned or not), what a new replica
// would copy and ask for, and the labels its autoscale settings come from. Runtimes of every
// kind (Docker engines, a Swarm, local processes) answer with this shape once per tick.
import type { BackendView } from '@headroom/shared';
import type { ReplicaRecord } from '../model/replica.js';
import type { ReplicaTemplate } from '../model/replica-template.js';
import type { HostState, ReplicaRequest } from '../placement/host-state.js';

export interface LabelSource {
  /** Container name, or the Swarm service's name. */
  name: string;
  labels: Readonly<Record<string, string>>;
}

export interface ServiceRecords {
  service: string;
  records: ReplicaRecord[];
  /** Containers (or the Swarm service) carrying `autoscale.enable=true`, user's first, by name. */
  labelSources: LabelSource[];
  /** Docker: what a new replica is created from; undefined when there is nothing to copy. */
  template?: ReplicaTemplate | undefined;
  /** What one new replica books on a host; undefined: unknown (no template). */
  request?: ReplicaRequest | undefined;
}

export interface RuntimeObservation {
  services: ServiceRecords[];
  /** Every host's capacity for placement (unreachable ones included, marked so); absent: no placement (Swarm). */
  hosts?: HostState[] | undefined;
  /** Engines of several that did not answer this tick; the others are still scaled. */
  unreachable: { id: string; error: string }[];
}

export interface ObserveContext {
  /** The balancer's backends from this tick's one GET /api/backends; undefined when it did not answer. */
  backends?: readonly BackendView[] | undefined;
}

/** Implemented per runtime. Throws EngineUnavailableError only when no engine answers. */
export interface RuntimeObserver {
  readonly kind: 'docker' | 'swarm' | 'local';
  observe(ctx: ObserveContext): Promise<RuntimeObservation>;
}
