// The hard filter: a host takes a replica only when reachable and the replica fits its CPU
// (× overcommit; booked or measured in use, whichever is more), its memory (minus a reserve) and, when known, its disk (minus a reserve).
import { cpuTaken, type HostState, type PlacementSettings, type ReplicaRequest } from './host-state.js';

export type RejectReason = 'unreachable' | 'cpu' | 'memory' | 'disk';

export function rejectReason(
  host: HostState,
  req: ReplicaRequest,
  s: PlacementSettings,
): RejectReason | null {
  if (!host.reachable) return 'unreachable';
  if (cpuTaken(host) + req.cpu > host.cpuCapacity * s.cpuOvercommit + 1e-9) return 'cpu';
  if (host.memoryBooked + req.memory > host.memoryCapacity - s.memoryReserve) return 'memory';
  if (host.diskCapacity !== undefined && host.diskUsed !== undefined) {
    if (host.diskUsed + (req.disk ?? 0) > host.diskCapacity - s.diskReserve) return 'disk';
  }
  return null;
}
