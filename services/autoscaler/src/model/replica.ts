// Plain data every step of the tick shares: one replica as a runtime sees it. Lives apart from
// observe/ and act/ so that neither imports the other, and policy/ and placement/ import neither.
import { AS_ERROR_CODES } from '../errors.js';

export type ReplicaState = 'starting' | 'running' | 'exited';

/** One replica as the runtime sees it; readiness is settled by observe/replica-census.ts. */
export interface ReplicaRecord {
  /** Container id (full), Swarm task id, or local process id. */
  id: string;
  name: string;
  /** n of `<service>-<n>` for owned replicas. */
  index?: number | undefined;
  /** Created by this autoscaler for this service: the only replicas it may stop. */
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
  /** Its labels (containers and Swarm services): where `autoscale.*` settings are read from. */
  labels?: Readonly<Record<string, string>> | undefined;
  /**
   * Docker: created and never started. Only an autoscaler stopped between its create and start
   * calls (SIGKILL, a crash) leaves one; the next one adopts it (plan step `adopt`).
   */
  neverStarted?: boolean | undefined;
}

/** Thrown by an observer or an actor when no engine answers (the whole runtime is gone). */
export class EngineUnavailableError extends Error {
  readonly code = AS_ERROR_CODES.engineUnavailable;
  constructor(message: string) {
    super(message);
    this.name = 'EngineUnavailableError';
  }
}
