// One engine's capacity and bookings, observed once per tick for placement: cores and memory
// from `docker info`, bookings from the limits of its running containers (owned or not), the
// CPU those containers were measured using (one stats sample each, limited or not), and the
// free disk of its data root when that directory is visible from here.
//
// Measured CPU comes from the engine's own stats API rather than a Prometheus node query: every
// engine answers it (standalone or Swarm node, local socket or tcp://) with no node exporter or
// cAdvisor to deploy, and it is per engine by construction (no label mapping of hosts to series).
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

/** The parts of one `GET /containers/{id}/stats?stream=false` answer the CPU reading uses. */
export interface CpuSample {
  cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
}

/**
 * Pure: the cores a container was busy on between the engine's two samples in one stats
 * answer (container CPU time over host CPU time, times the host's cores: what `docker stats`
 * shows as a percentage, divided by 100). undefined when the answer has no earlier sample.
 */
export function coresBusy(s: CpuSample): number | undefined {
  const total = s.cpu_stats?.cpu_usage?.total_usage;
  const preTotal = s.precpu_stats?.cpu_usage?.total_usage;
  const system = s.cpu_stats?.system_cpu_usage;
  const preSystem = s.precpu_stats?.system_cpu_usage;
  const cpus = s.cpu_stats?.online_cpus;
  if (total === undefined || preTotal === undefined || !system || !preSystem || !cpus) return undefined;
  const dSystem = system - preSystem;
  if (dSystem <= 0) return undefined;
  return Math.max(0, ((total - preTotal) / dSystem) * cpus);
}

/** How long one observe waits for the engine's stats; a container that answers later counts as idle. */
export const STATS_TIMEOUT_MS = 3000;

/**
 * Cores the engine's running containers use now: one stats answer per container, all at once
 * (the engine takes about a second per answer to have two samples), each bounded by
 * STATS_TIMEOUT_MS. undefined when no container gave a reading (nothing running, or the
 * engine does not answer stats): placement then counts bookings only.
 */
export async function measureCpuUsed(
  docker: Docker,
  ids: readonly string[],
  timeoutMs = STATS_TIMEOUT_MS,
): Promise<number | undefined> {
  const readings = await Promise.all(
    ids.map(async (id) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeoutMs);
      });
      try {
        const sample = docker
          .getContainer(id)
          .stats({ stream: false })
          .then((s) => coresBusy(s as CpuSample))
          .catch(() => undefined); // gone between list and stats: it uses nothing
        return await Promise.race([sample, late]);
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const known = readings.filter((r): r is number => r !== undefined);
  return known.length === 0 ? undefined : known.reduce((a, b) => a + b, 0);
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
  // started now, read after the bookings: the engine's one-second sampling overlaps the inspects
  const cpuUsed = measureCpuUsed(
    engine.docker,
    running.map((c) => c.Id),
  );
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
    cpuUsed: await cpuUsed,
    diskCapacity: disk?.capacity,
    diskUsed: disk?.used,
  };
}

export function unreachableHost(id: string): HostState {
  return { id, reachable: false, cpuCapacity: 0, memoryCapacity: 0, cpuBooked: 0, memoryBooked: 0 };
}
