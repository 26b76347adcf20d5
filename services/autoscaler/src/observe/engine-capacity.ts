// One engine's capacity and bookings, observed once per tick for placement: cores and memory
// from `docker info`, bookings from the limits of its running containers (owned or not), the
// CPU those containers were measured using between the last two rounds of stats answers
// (limited or not; the rounds run beside the ticks, never holding one up), and the
// free disk of its data root when that directory is visible from here.
//
// Measured CPU comes from the engine's own stats API rather than a Prometheus node query: every
// engine answers it (standalone or Swarm node, local socket or tcp://) with no node exporter or
// cAdvisor to deploy, and it is per engine by construction (no label mapping of hosts to series).
import { statfsSync } from 'node:fs';
import type Docker from 'dockerode';
import type { Engine } from '../clients/docker-engines.js';
import type { HostState } from '../placement/host-state.js';

/** Pure: the CPU (cores) and memory (bytes) a container's limits book. */
export function bookedBy(hc: Pick<Docker.HostConfig, 'NanoCpus' | 'CpuQuota' | 'CpuPeriod' | 'Memory'>): {
  cpu: number;
  memory: number;
} {
  const cpu = hc.NanoCpus ? hc.NanoCpus / 1e9 : hc.CpuQuota && hc.CpuPeriod ? hc.CpuQuota / hc.CpuPeriod : 0;
  return { cpu, memory: hc.Memory ?? 0 };
}

/** The parts of one `GET /containers/{id}/stats?stream=false&one-shot=true` answer the CPU reading uses. */
export interface CpuSample {
  cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
}

/** A container's cumulative CPU counters at one sample (ns of its CPU time, ns of host CPU time). */
export interface CpuCounters {
  total: number;
  system: number;
  cpus: number;
}

/** Pure: the counters of one stats answer; undefined when it has none (container stopped). */
export function countersOf(s: CpuSample): CpuCounters | undefined {
  const total = s.cpu_stats?.cpu_usage?.total_usage;
  const system = s.cpu_stats?.system_cpu_usage;
  const cpus = s.cpu_stats?.online_cpus;
  if (total === undefined || !system || !cpus) return undefined;
  return { total, system, cpus };
}

/**
 * Pure: the cores a container was busy on between two samples (its CPU time over the host's
 * CPU time, times the host's cores: what `docker stats` shows as a percentage, divided by 100).
 * undefined when no host time passed between them.
 */
export function coresBetween(prev: CpuCounters, cur: CpuCounters): number | undefined {
  const dSystem = cur.system - prev.system;
  if (dSystem <= 0) return undefined;
  // a restarted container's counter starts again from 0: busy 0, not negative
  return Math.max(0, ((cur.total - prev.total) / dSystem) * cur.cpus);
}

/** How long one observe waits for a container's stats; one that answers later gives no reading. */
export const STATS_TIMEOUT_MS = 3000;

/**
 * Cores the engine's running containers used since the previous call: one one-shot stats
 * answer per container, all at once, each bounded by STATS_TIMEOUT_MS, against the counters
 * `previous` kept from the last call (updated here; containers gone are dropped). One-shot,
 * because a plain stats answer waits about 2 s for a second sample of its own, on every tick;
 * so the window is the time between two observes (the tick). A container seen for the first
 * time gives no reading yet. undefined when no container gave one: placement then counts
 * bookings only.
 */
export async function measureCpuUsed(
  docker: Docker,
  ids: readonly string[],
  previous: Map<string, CpuCounters>,
  timeoutMs = STATS_TIMEOUT_MS,
): Promise<number | undefined> {
  const readings = await Promise.all(
    ids.map(async (id) => {
      let cur: CpuCounters | undefined;
      try {
        const s = await docker.getContainer(id).stats({
          stream: false,
          'one-shot': true,
          abortSignal: AbortSignal.timeout(timeoutMs),
        } as {
          stream: false;
        });
        cur = countersOf(s as CpuSample);
      } catch {
        // gone between list and stats, or later than the bound: no reading this time
        return undefined;
      }
      const prev = previous.get(id);
      if (cur) previous.set(id, cur);
      return prev && cur ? coresBetween(prev, cur) : undefined;
    }),
  );
  for (const id of previous.keys()) if (!ids.includes(id)) previous.delete(id);
  const known = readings.filter((r): r is number => r !== undefined);
  return known.length === 0 ? undefined : known.reduce((a, b) => a + b, 0);
}

/**
 * One engine's CPU measurement between observes: the counters of its containers at the last
 * round (the start of the next window), the reading of the last round that finished, and the
 * round still running, if any.
 */
interface CpuMeasurement {
  counters: Map<string, CpuCounters>;
  last: number | undefined;
  running: Promise<void> | undefined;
}

/** Per engine id. */
const measurements = new Map<string, CpuMeasurement>();

/**
 * The cores the engine's running containers used, as of the last finished round of stats
 * answers, and a new round started when none is running. Never awaited by the tick: a stats
 * answer takes about a second even one-shot (measured: ~1 s for 3 containers, and up to
 * STATS_TIMEOUT_MS on a loaded engine), and a tick that waited for it took that much longer to
 * create the replica it decided on (docs/benchmarks.md, where the reaction time goes). The
 * reading is one round older instead: the use between the two last rounds, not up to now.
 * Placement takes the larger of bookings and use, so a replica added since is still counted
 * by its booking.
 */
export function cpuUsedSoFar(
  engine: Engine,
  ids: readonly string[],
  timeoutMs = STATS_TIMEOUT_MS,
): number | undefined {
  let m = measurements.get(engine.id);
  if (!m) {
    m = { counters: new Map(), last: undefined, running: undefined };
    measurements.set(engine.id, m);
  }
  const state = m;
  if (!state.running) {
    state.running = measureCpuUsed(engine.docker, ids, state.counters, timeoutMs)
      .then((v) => {
        state.last = v;
      })
      .catch(() => {
        state.last = undefined;
      })
      .finally(() => {
        state.running = undefined;
      });
  }
  return state.last;
}

/** Tests: waits for the engine's stats round in flight, if any. */
export async function settledCpuRound(engineId: string): Promise<void> {
  await measurements.get(engineId)?.running;
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
  const cpuUsed = cpuUsedSoFar(
    engine,
    running.map((c) => c.Id),
  );
  // all at once rather than one after another: the tick waits for the slowest only
  const booked = await Promise.all(
    running.map(async (c) => {
      try {
        return bookedBy((await engine.docker.getContainer(c.Id).inspect()).HostConfig);
      } catch (err) {
        // removed between list and inspect: it books nothing any more
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
        return { cpu: 0, memory: 0 };
      }
    }),
  );
  let cpuBooked = 0;
  let memoryBooked = 0;
  for (const b of booked) {
    cpuBooked += b.cpu;
    memoryBooked += b.memory;
  }
  const disk = diskOf(engine, (info as { DockerRootDir?: string }).DockerRootDir);
  return {
    id: engine.id,
    reachable: true,
    cpuCapacity: info.NCPU,
    memoryCapacity: info.MemTotal,
    cpuBooked,
    memoryBooked,
    cpuUsed,
    diskCapacity: disk?.capacity,
    diskUsed: disk?.used,
  };
}

export function unreachableHost(id: string): HostState {
  return { id, reachable: false, cpuCapacity: 0, memoryCapacity: 0, cpuBooked: 0, memoryBooked: 0 };
}
