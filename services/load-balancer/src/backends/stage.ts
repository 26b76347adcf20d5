// The backends/ stage between discovery and its consumers (issue #24 item 5): the set the
// engine watch (or DOCKER_HOSTS' merge) publishes and the static list's set come in; the
// registry is their merge by id (merge.ts); each new registry is handed on as one diff
// (apply.ts) to the core, pools, prober and resources; a backend that left is reported as a
// `removed` transition; every service's hold learns its backend count; and a container being
// stopped is drained while its stop grace runs. main.ts only wires sources to it.
import type { BackendState } from '@headroom/shared';
import type { BackendTransition } from '../balancing/balancer-core.js';
import type { BackendSet, BackendSpec } from '../model/backend-spec.js';
import { applyBackendSet, type SetConsumers } from './apply.js';
import { mergeSets } from './merge.js';

/** What the stage needs of the services beyond the core's setBackends. */
export interface StageServices {
  setBackends: SetConsumers['core']['setBackends'];
  runtime(now: number): ReadonlyArray<{ spec: { id: string }; state: BackendState }>;
  setDraining(id: string, draining: boolean, now: number, why?: string): boolean;
  units(): ReadonlyArray<{ key: string; hold: { setBackends(n: number): void } }>;
  backendCount(key: string): number;
}

export interface StageDeps extends Omit<SetConsumers, 'core'> {
  services: StageServices;
  transitions: { record(t: BackendTransition): void };
  /** Every new registry, before it is applied (the recorder learns names and services). */
  onSet?: (set: BackendSet) => void;
  now?: () => number;
}

export class BackendStage {
  private discovered: BackendSet = [];
  private statics: BackendSet = [];
  private current = new Map<string, BackendSpec>();
  /** Backends drained because their container is stopping (lifted if it starts again). */
  private readonly drainedForStop = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly d: StageDeps) {
    this.now = d.now ?? Date.now;
  }

  /** Discovery's set (Docker, DOCKER_HOSTS, Swarm): replaces the last one. */
  readonly publishDiscovered = (set: BackendSet): void => {
    this.discovered = set;
    this.apply();
  };

  /** The static list's set (BACKENDS, POST /api/backends): replaces the last one. */
  readonly publishStatic = (set: BackendSet): void => {
    this.statics = set;
    this.apply();
  };

  /** The backend in force, by id. */
  spec(id: string): BackendSpec | undefined {
    return this.current.get(id);
  }

  /**
   * `docker stop` (or a kill) of a container: drain its backends while its stop grace runs,
   * instead of sending them requests until it exits; lifted if it starts again (a restart
   * keeps its id).
   */
  readonly containerStopping = (containerId: string, stopping: boolean, why: string): void => {
    for (const spec of this.current.values()) {
      if (spec.containerId !== containerId) continue;
      if (stopping && !this.drainedForStop.has(spec.id)) {
        this.drainedForStop.add(spec.id);
        this.d.services.setDraining(spec.id, true, this.now(), why);
      } else if (!stopping && this.drainedForStop.delete(spec.id))
        this.d.services.setDraining(
          spec.id,
          false,
          this.now(),
          `container ${spec.name} started again: back in rotation`,
        );
    }
  };

  private apply(): void {
    const merged = mergeSets(this.discovered, this.statics);
    const previous = this.current;
    const now = this.now();
    const services = this.d.services;
    const before = new Map(services.runtime(now).map((r) => [r.spec.id, r.state]));
    this.current = merged;
    const set = [...merged.values()];
    this.d.onSet?.(set);
    // the whole diff goes to pools, prober and resources; a removed backend's metric series
    // go once its pool has closed, i.e. once its in-flight requests have been counted
    const diff = applyBackendSet(set, previous, now, { ...this.d, core: services });
    for (const id of this.drainedForStop) if (!merged.has(id)) this.drainedForStop.delete(id);
    // hold-and-wake: a service with no backend and nothing known of it holds its requests
    for (const u of services.units()) u.hold.setBackends(services.backendCount(u.key));
    for (const id of diff.removed) {
      const spec = previous.get(id);
      this.d.transitions.record({
        id,
        name: spec?.name ?? id,
        from: before.get(id) ?? 'unhealthy',
        to: 'removed',
        code: 'left-discovery',
        reason: `no longer published by ${spec?.source ?? 'discovery'} discovery`,
        at: now,
      });
    }
  }
}
