// Pure: which replicas a scale-in removes, which stopped container a sleep kept, which dead
// ones are reaped.
import type { ReplicaRecord } from '../model/replica.js';

/** Which owned replicas a scale-in removes: not-ready ones first (they serve nothing), then the highest n. */
export function pickVictims<
  T extends { owned: boolean; ready?: boolean | undefined; index?: number | undefined; state: string },
>(replicas: readonly T[], count: number): T[] {
  return replicas
    .filter((r) => r.owned && r.state !== 'exited')
    .sort((a, b) => Number(a.ready ?? false) - Number(b.ready ?? false) || (b.index ?? 0) - (a.index ?? 0))
    .slice(0, Math.max(0, count));
}

/**
 * The owned stopped container a sleep kept (the lowest n), only while no replica of the
 * service runs: nothing marks it but that, so an autoscaler restarted meanwhile finds it again.
 */
export function keptContainer<T extends ReplicaRecord>(replicas: readonly T[]): T | undefined {
  if (replicas.some((r) => r.state !== 'exited')) return undefined;
  return replicas
    .filter((r) => r.owned && r.state === 'exited')
    .sort((a, b) => (a.index ?? Number.MAX_SAFE_INTEGER) - (b.index ?? Number.MAX_SAFE_INTEGER))[0];
}

/**
 * Owned replicas created and never started: an autoscaler killed between its create and start
 * calls left them. A create is followed by its start within one step and ticks are serialized,
 * so at planning time every such container is a leftover, counted as a replica and serving
 * nothing until it is started (adopted).
 */
export function strandedReplicas<T extends ReplicaRecord>(replicas: readonly T[]): T[] {
  return replicas.filter((r) => r.owned && r.neverStarted === true);
}

/** Owned replicas that died: removed, and replaced through the normal count. A kept one waits for a wake. */
export function deadReplicas<T extends ReplicaRecord>(replicas: readonly T[], keepOneOnSleep: boolean): T[] {
  const kept = keepOneOnSleep ? keptContainer(replicas) : undefined;
  return replicas.filter((r) => r.owned && r.state === 'exited' && r !== kept);
}
