// The one interface between act and whatever runs replicas (Docker engines, a Swarm service,
// local child processes): the primitives a plan's steps call. Nothing here lists, decides or
// places: observe/ saw the replicas, policy/ and placement/ chose what to do.
import type { ReplicaRecord } from '../model/replica.js';
import type { ReplicaTemplate } from '../model/replica-template.js';

export interface ReplicaActor {
  readonly kind: 'docker' | 'swarm' | 'local';
  /** Creates and starts one replica of `service` on `host`; returns its name. */
  create(service: string, host: string, template: ReplicaTemplate | undefined): Promise<string>;
  /**
   * Starts the stopped container a sleep kept (`wake`), or one an earlier autoscaler created and
   * never started (`adopt`); returns its name.
   */
  startKept(replica: ReplicaRecord, why?: 'wake' | 'adopt'): Promise<string>;
  /** Drains (when `drain`), stops, and removes an owned replica, or keeps it stopped (`keep`). */
  remove(replica: ReplicaRecord, opts: { drain: boolean; keep: boolean }): Promise<void>;
  /** Swarm: sets the service's count (Swarm picks the tasks). */
  setCount?(
    service: string,
    count: number,
    replicas: readonly ReplicaRecord[],
  ): Promise<{ added: string[]; removed: string[] }>;
  /** CLEANUP_ON_EXIT: drain, stop and remove every owned replica of these services. */
  cleanup(services: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export type { ReplicaRecord, ReplicaState } from '../model/replica.js';
export { EngineUnavailableError } from '../model/replica.js';
