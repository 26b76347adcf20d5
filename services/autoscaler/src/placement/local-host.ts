// Pure: the local runtime's one host as placement sees it (each replica books LOCAL_CPU_QUOTA
// against the host's cores × CPU_OVERCOMMIT), and why one more does not fit.
import { chooseHost } from './choose-host.js';
import type { HostState } from './host-state.js';

/** This host with `replicas` local replicas of `quota` cores each. */
export function localHostState(hostCores: number, replicas: number, quota: number): HostState {
  return {
    id: 'local',
    reachable: true,
    cpuCapacity: hostCores,
    cpuBooked: replicas * quota,
    // memory is not booked for local replicas (no limit is set on them)
    memoryCapacity: Number.POSITIVE_INFINITY,
    memoryBooked: 0,
  };
}

/** Why one more replica does not fit on this host, or null when it does. */
export function localCapacityShortfall(
  hostCores: number,
  replicas: number,
  quota: number,
  overcommit: number,
): string | null {
  const placed = chooseHost(
    [localHostState(hostCores, replicas, quota)],
    { cpu: quota, memory: 0 },
    { cpuOvercommit: overcommit, memoryReserve: 0, diskReserve: 0 },
  );
  if (placed.ok) return null;
  return `local host: ${replicas} replicas × ${quota} cores booked, one more needs ${
    Math.round((replicas + 1) * quota * 100) / 100
  } > ${hostCores} cores × CPU_OVERCOMMIT ${overcommit}`;
}
