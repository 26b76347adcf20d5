// Pure: Docker stats JSON → CPU and memory use as fractions of the container's own
// limits (not of the host): a container at its --cpus 0.5 limit reads 1.0.
import type { UsageFigures } from './replica-usage.js';

export interface DockerStats {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
}

/** `cpuLimit` in cores (undefined = no limit: all online CPUs). */
export function cpuFraction(s: DockerStats, cpuLimit: number | undefined): number | null {
  const total = s.cpu_stats?.cpu_usage?.total_usage;
  const preTotal = s.precpu_stats?.cpu_usage?.total_usage;
  const system = s.cpu_stats?.system_cpu_usage;
  const preSystem = s.precpu_stats?.system_cpu_usage;
  const online = s.cpu_stats?.online_cpus ?? 0;
  if (
    total === undefined ||
    preTotal === undefined ||
    system === undefined ||
    preSystem === undefined ||
    online <= 0
  )
    return null;
  const dCpu = total - preTotal;
  const dSystem = system - preSystem;
  if (dSystem <= 0 || dCpu < 0) return null;
  // cores in use = share of all online CPUs' time × online CPUs
  const cores = (dCpu / dSystem) * online;
  const limit = cpuLimit !== undefined && cpuLimit > 0 ? Math.min(cpuLimit, online) : online;
  return cores / limit;
}

/** Working set (usage minus reclaimable page cache) over the memory limit. */
export function memoryFraction(s: DockerStats): number | null {
  const usage = s.memory_stats?.usage;
  const limit = s.memory_stats?.limit;
  if (usage === undefined || !limit) return null;
  const stats = s.memory_stats?.stats ?? {};
  const cache = stats.inactive_file ?? stats.total_inactive_file ?? 0;
  return Math.max(0, usage - cache) / limit;
}

/**
 * The raw figures of one stats answer (what headroom_lb_replica_* export): cumulative CPU
 * seconds, the cores the container may use (its limit, else every online CPU, as cpuFraction
 * divides by), its working set and its memory limit (the host's memory when it has none: the
 * engine reports that).
 */
export function usageFigures(s: DockerStats, cpuLimit: number | undefined): UsageFigures {
  const total = s.cpu_stats?.cpu_usage?.total_usage;
  const online = s.cpu_stats?.online_cpus;
  const usage = s.memory_stats?.usage;
  const stats = s.memory_stats?.stats ?? {};
  const cache = stats.inactive_file ?? stats.total_inactive_file ?? 0;
  return {
    cpuSeconds: total === undefined ? undefined : total / 1e9,
    cpuLimitCores:
      online !== undefined && online > 0
        ? cpuLimit !== undefined && cpuLimit > 0
          ? Math.min(cpuLimit, online)
          : online
        : cpuLimit,
    memoryBytes: usage === undefined ? undefined : Math.max(0, usage - cache),
    memoryLimitBytes: s.memory_stats?.limit || undefined,
  };
}
