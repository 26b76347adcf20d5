// One engine's capacity and bookings, observed once per tick for placement: cores and memory
// from `docker info`, bookings from the limits of its running containers (owned or not), and
// the free disk of its data root when that directory is visible from here.
import { statfsSync } from 'node:fs';
import type Docker from 'dockerode';
import type { Engine } from '../act/docker-engines.js';
import type { HostState } from '../placement/host-state.js';

/** Pure: the CPU (cores) and memory (bytes) a container's limits book. */
export function bookedBy(hc: Pick<Docker.HostConfig, 'NanoCpus' | 'CpuQuota' | 'CpuPeriod' | 'Memory'>): {
  cpu: number;
  memory: number;
} {
  const cpu = hc.NanoCpus ? hc.NanoCpus / 1e9 : hc.CpuQuota && hc.CpuPeriod ? hc.CpuQuota / hc.CpuPeriod : 0;
  return { cpu, memory: hc.Memory ?? 0 };
}

/**
 * Disk of the engine's data root: only for an engine on a local socket whose DockerRootDir
 * this process can see (the Docker API has no call for free disk). A tcp:// engine is another
 * machine: a path of the same name here would describe the wrong disk, so it stays unknown
 * (and DISK_RESERVE_MB is not applied to it; placement logs that once per engine).
 */
export function diskOf(
  engine: Engine,
  rootDir: string | undefined,
): { capacity: number; used: number } | undefined {
  if (!rootDir || !(engine.id.startsWith('unix://') || engine.id.startsWith('/'))) return undefined;
  try {
    const s = statfsSync(rootDir);
    const capacity = s.blocks * s.bsize;
    // bavail: what unprivileged writers get; the reserve is kept on top of the root-only blocks
    return { capacity, used: capacity - s.bavail * s.bsize };
  } catch {
    return undefined;
  }
}

export async function readHostState(engine: Engine): Promise<HostState> {
  const info = await engine.docker.info();
  const running = await engine.docker.listContainers();
  let cpuBooked = 0;
  let memoryBooked = 0;
  for (const c of running) {
    try {
      const b = bookedBy((await engine.docker.getContainer(c.Id).inspect()).HostConfig);
      cpuBooked += b.cpu;
      memoryBooked += b.memory;
    } catch (err) {
      // removed between list and inspect: it books nothing any more
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
  }
  const disk = diskOf(engine, (info as { DockerRootDir?: string }).DockerRootDir);
  return {
    id: engine.id,
    reachable: true,
    cpuCapacity: info.NCPU,
    memoryCapacity: info.MemTotal,
    cpuBooked,
    memoryBooked,
    diskCapacity: disk?.capacity,
    diskUsed: disk?.used,
  };
}

export function unreachableHost(id: string): HostState {
  return { id, reachable: false, cpuCapacity: 0, memoryCapacity: 0, cpuBooked: 0, memoryBooked: 0 };
}
