// Plain data placement works on: one engine's capacity and what is already booked on it
// (derived from the engine's live containers), and what one new replica asks for.

export interface HostState {
  /** The engine as configured (a DOCKER_HOSTS entry). */
  id: string;
  reachable: boolean;
  /** CPU cores of the host. */
  cpuCapacity: number;
  memoryCapacity: number;
  /** Disk of the engine's data root; undefined when the engine does not tell. */
  diskCapacity?: number | undefined;
  /** Sum of the CPU limits (cores) of the containers on the engine, owned and not. */
  cpuBooked: number;
  /** Sum of the memory limits (bytes) of the containers on the engine. */
  memoryBooked: number;
  /**
   * CPU (cores) the engine's running containers were measured using, limited or not;
   * undefined when not measured. Placement counts the larger of this and cpuBooked, so a
   * host busy with containers that book nothing (no limit) still looks busy.
   */
  cpuUsed?: number | undefined;
  diskUsed?: number | undefined;
}

export interface ReplicaRequest {
  cpu: number;
  memory: number;
  disk?: number | undefined;
}

export interface PlacementSettings {
  cpuOvercommit: number;
  memoryReserve: number;
  diskReserve: number;
}

/**
 * CPU (cores) a host has given away: the larger of what limits book and what is measured in
 * use. Booked alone misses a container with no limit burning cores; measured alone misses a
 * replica that was just started and is idle but may use its limit any moment.
 */
export function cpuTaken(host: HostState): number {
  return Math.max(host.cpuBooked, host.cpuUsed ?? 0);
}

/** The host after the replica was placed on it: placing several replicas in a row never books the same room twice. */
export function book(host: HostState, req: ReplicaRequest): HostState {
  return {
    ...host,
    cpuBooked: host.cpuBooked + req.cpu,
    // the new replica is counted as using its limit until the next measurement sees it
    cpuUsed: host.cpuUsed === undefined ? undefined : host.cpuUsed + req.cpu,
    memoryBooked: host.memoryBooked + req.memory,
    diskUsed: host.diskUsed === undefined ? undefined : host.diskUsed + (req.disk ?? 0),
  };
}

/** The host with a booking taken back: a replica placed on it that was not started (rolled back). */
export function unbook(host: HostState, req: ReplicaRequest): HostState {
  return {
    ...host,
    cpuBooked: Math.max(0, host.cpuBooked - req.cpu),
    cpuUsed: host.cpuUsed === undefined ? undefined : Math.max(0, host.cpuUsed - req.cpu),
    memoryBooked: Math.max(0, host.memoryBooked - req.memory),
    diskUsed: host.diskUsed === undefined ? undefined : Math.max(0, host.diskUsed - (req.disk ?? 0)),
  };
}
