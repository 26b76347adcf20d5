// The raw figures behind a replica's CPU and memory fractions, as the engine reports them
// (cumulative CPU time, the cores and memory it may use, its working set), kept per backend
// for the replica signals the balancer exports (headroom_lb_replica_*). The fractions the
// balancing core steers by are computed from the same stats; these are the counters
// Prometheus rates over its own window.
import type { ResourceSample } from './resource-sample.js';

export interface UsageFigures {
  /** Cumulative CPU time of the container, seconds. */
  cpuSeconds?: number | undefined;
  /** Cores it may use: its limit, else the host's online cores. */
  cpuLimitCores?: number | undefined;
  /** Working set, bytes. */
  memoryBytes?: number | undefined;
  /** Memory it may use: its limit, else the host's memory, bytes. */
  memoryLimitBytes?: number | undefined;
}

export class ReplicaUsage {
  private readonly byId = new Map<string, UsageFigures>();

  /** Keeps a sample's raw figures, when it carries any. */
  record(sample: ResourceSample): void {
    if (sample.usage !== undefined) this.byId.set(sample.id, sample.usage);
  }

  get(id: string): UsageFigures | undefined {
    return this.byId.get(id);
  }

  forget(id: string): void {
    this.byId.delete(id);
  }
}
