// The backends/ stage: removing a backend registered by hand (DELETE /api/backends/:id) is a
// drain first: it takes no new requests, its in-flight ones finish, then it leaves the static
// list. Discovered backends are not removable here (their container or task decides). The
// drain ends when nothing is in flight, or at DRAIN_TIMEOUT_MS, when what is left is cut
// (reported as a warn `drain-timeout`: those requests fail). The poll's decision is pure
// (drainStep, table-tested); StaticDrain owns the timers.
import type { BackendTransition } from '../balancing/balancer-core.js';
import type { BackendSpec } from '../model/backend-spec.js';

/** One poll of a drain: wait on, done (nothing in flight), or out of time with requests left. */
export type DrainStep = 'wait' | 'complete' | 'timeout';

export function drainStep(inFlight: number, now: number, deadline: number): DrainStep {
  if (inFlight === 0) return 'complete';
  return now >= deadline ? 'timeout' : 'wait';
}

export type RemoveResult = 'removing' | 'not-found' | 'not-removable';

export interface StaticDrainDeps {
  /** The backend in force (discovered or static), by id. */
  spec(id: string): BackendSpec | undefined;
  /** Registered by hand (the static list), so removable here. */
  isStatic(id: string): boolean;
  /** Leaves the static list (its next set no longer has it). */
  removeStatic(id: string): void;
  services: {
    setDraining(id: string, draining: boolean, now: number, why?: string): boolean;
    inFlight(id: string): number;
  };
  transitions: { record(t: BackendTransition): void };
  /** Cuts the requests still in flight on a backend (its pool is destroyed). */
  cut(id: string, why: string): void;
  drainTimeoutMs: number;
  /** How often in-flight is looked at (50 ms: the drain ends within that of its last request). */
  pollMs?: number;
  now?: () => number;
}

export class StaticDrain {
  private readonly polls = new Map<string, NodeJS.Timeout>();
  private readonly now: () => number;

  constructor(private readonly d: StaticDrainDeps) {
    this.now = d.now ?? Date.now;
  }

  /** Starts draining a static backend (again: it is already on its way out). */
  remove(id: string): RemoveResult {
    const spec = this.d.spec(id);
    if (spec === undefined) return 'not-found';
    if (!this.d.isStatic(id)) return 'not-removable';
    if (this.polls.has(id)) return 'removing';
    const started = this.now();
    this.d.services.setDraining(id, true, started);
    const deadline = started + this.d.drainTimeoutMs;
    const poll = setInterval(() => {
      const left = this.d.services.inFlight(id);
      const now = this.now();
      const step = drainStep(left, now, deadline);
      if (step === 'wait') return;
      clearInterval(poll);
      this.polls.delete(id);
      // drained with or without requests left: the second is a warn, those requests get cut
      this.d.transitions.record({
        id,
        name: spec.name,
        from: 'draining',
        to: 'drained',
        code: step === 'complete' ? 'drain-complete' : 'drain-timeout',
        reason:
          step === 'complete'
            ? 'no request left in flight'
            : `DRAIN_TIMEOUT_MS (${this.d.drainTimeoutMs} ms) passed with ${left} request(s) in flight`,
        at: now,
      });
      // the drain already waited DRAIN_TIMEOUT_MS: what is left is cut now, not after a second wait
      if (step === 'timeout') this.d.cut(id, `backend ${id} removed: drain timed out`);
      this.d.removeStatic(id);
    }, this.d.pollMs ?? 50);
    // a drain in progress does not keep a stopping process up (shutdown has its own grace)
    poll.unref();
    this.polls.set(id, poll);
    return 'removing';
  }

  /** The drains in progress (ids). */
  draining(): string[] {
    return [...this.polls.keys()];
  }

  stop(): void {
    for (const poll of this.polls.values()) clearInterval(poll);
    this.polls.clear();
  }
}
