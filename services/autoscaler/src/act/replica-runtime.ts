// The one interface between the loop and whatever runs replicas (Docker engines, a Swarm
// service, local child processes). Runtimes list what exists and converge to a count.
import type { HostState } from '../placement/host-state.js';

export type ReplicaState = 'starting' | 'running' | 'exited';

/** One replica as the runtime sees it; readiness is settled by observe/replica-census.ts. */
export interface ReplicaRecord {
  /** Container id (full), Swarm task id, or local process id. */
  id: string;
  name: string;
  /** n of `<service>-<n>` for owned replicas. */
  index?: number | undefined;
  /** Created by this autoscaler for this SERVICE: the only replicas it may stop. */
  owned: boolean;
  state: ReplicaState;
  /** Engine it runs on (a DOCKER_HOSTS entry), or 'local' / 'swarm'. */
  host: string;
  /** Docker HEALTHCHECK status when the container defines one. */
  health?: 'starting' | 'healthy' | 'unhealthy' | undefined;
  /** Where to probe readiness when nothing better is known. */
  healthUrl?: string | undefined;
  /** The id the balancer knows it by (12-hex container id, or the id registration returned). */
  backendId?: string | undefined;
  /** Set when the runtime itself knows readiness (Swarm task state, local probe). */
  ready?: boolean | undefined;
  /** Its `lb.idle.after` label (container, or Swarm service spec) as given, when it has one. */
  idleAfter?: string | undefined;
}

export interface ScaleOutcome {
  added: string[];
  removed: string[];
  /** Set when the runtime could not do all it was asked. */
  shortfall?:
    | { reason: 'HostCapacityExhausted' | 'NothingToRemove' | 'ScaleFailed'; detail: string }
    | undefined;
}

/** One tick's observation of a runtime with several engines: what list() returns plus the engines' state. */
export interface RuntimeObservation {
  records: ReplicaRecord[];
  /** Capacity of every engine for placement (unreachable ones included, marked so). */
  hosts?: HostState[] | undefined;
  /** Engines that did not answer this tick; the others are still scaled. */
  unreachable: { id: string; error: string }[];
}

export interface ScaleOptions {
  sleep?: boolean;
}

export interface ReplicaRuntime {
  readonly kind: 'docker' | 'swarm' | 'local';
  /** Everything of the SERVICE, owned or not. Throws EngineUnavailableError when the engine is gone. */
  list(): Promise<ReplicaRecord[]>;
  /**
   * Optional: list() plus the engines' capacity, read once per tick. Throws
   * EngineUnavailableError only when no engine answers.
   */
  observe?(): Promise<RuntimeObservation>;
  /** Adds or removes replicas (one at a time, draining before each stop) until `desired` run. */
  scaleTo(
    desired: number,
    replicas: readonly ReplicaRecord[],
    observation?: RuntimeObservation,
    /** `sleep`: scale to zero (issue #19): the docker runtime keeps one stopped container for a fast wake. */
    opts?: ScaleOptions,
  ): Promise<ScaleOutcome>;
  /** Removes owned replicas that died (exited): they are replaced through the normal count. */
  reap(replicas: readonly ReplicaRecord[]): Promise<string[]>;
  /** CLEANUP_ON_EXIT: drain, stop and remove every owned replica. */
  cleanup(): Promise<void>;
  close(): Promise<void>;
}

export class EngineUnavailableError extends Error {
  readonly code = 'AS_ERR_ENGINE_UNAVAILABLE';
  constructor(message: string) {
    super(message);
    this.name = 'EngineUnavailableError';
  }
}
