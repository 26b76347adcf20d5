// The plan: what placement hands act for one service in one tick, as plain steps in order.
// Act runs them and nothing else; it reports what happened (ActOutcome), and policy/settle.ts
// turns that into the decision's final reason.
import type { ReplicaRecord } from './replica.js';
import type { ReplicaTemplate } from './replica-template.js';

export type PlanStep =
  /** Remove an owned replica found dead (it is replaced through the normal count). */
  | { do: 'reap'; replica: ReplicaRecord }
  /**
   * Start an owned replica an earlier autoscaler created and never started (killed between the
   * two calls); one that cannot start is removed, and replaced through the normal count.
   */
  | { do: 'adopt'; replica: ReplicaRecord }
  /**
   * Tell the balancer the service sleeps (before the last replicas drain, so it holds requests)
   * or is awake again. A refused `sleeping` with `required` stops the plan: nothing is removed.
   */
  | { do: 'announce'; state: 'sleeping' | 'awake'; reason: string; required: boolean }
  /** Start the stopped container a sleep kept (a wake); if that fails, create on `orCreateOn`. */
  | { do: 'start-kept'; replica: ReplicaRecord; orCreateOn?: string | undefined }
  /** Create and start one replica on a host (a DOCKER_HOSTS engine, or 'local'). */
  | { do: 'create'; host: string }
  /** Drain at the balancer, stop, and remove (or keep stopped, for a fast wake) one owned replica. */
  | { do: 'remove'; replica: ReplicaRecord; keep: boolean }
  /** Swarm: set the service's replica count (Swarm picks the tasks). */
  | { do: 'set-count'; count: number; replicas: readonly ReplicaRecord[] };

export interface Plan {
  service: string;
  steps: PlanStep[];
  /** Run when a step fails part-way (a sleep that left replicas: the balancer routes to them again). */
  onAbort: PlanStep[];
  /** What a new replica is created from (docker); absent for local and swarm. */
  template?: ReplicaTemplate | undefined;
  /** Known before acting: why fewer replicas than asked will be added or removed. */
  shortfall?: Shortfall | undefined;
}

export interface Shortfall {
  reason: 'HostCapacityExhausted' | 'NothingToRemove' | 'ScaleFailed';
  detail: string;
}

export interface ActOutcome {
  added: string[];
  removed: string[];
  reaped: string[];
  /** Replicas created and never started by an earlier autoscaler, started now. */
  adopted: string[];
  /** The step that failed (the plan stopped there) and why. */
  failed?: { step: string; detail: string } | undefined;
  /** A required `announce sleeping` was refused: nothing was removed. */
  sleepRefused?: boolean | undefined;
  /** Hosts of `create` steps that did not produce a replica (failed or not run): their bookings are released. */
  notCreatedOn: string[];
}

export function emptyOutcome(): ActOutcome {
  return { added: [], removed: [], reaped: [], adopted: [], notCreatedOn: [] };
}
