// The CPU and memory this process may use: the cgroup limits when it runs in a container
// (what `docker run --cpus/--memory` set), else the host's. Exported as gauges so that
// utilization = rate(process_cpu_seconds_total) / cpu limit means the same thing
// everywhere. Parsers are pure; readLimits() is the one adapter.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface ResourceLimits {
  /** Cores, fractional (e.g. 0.5 for --cpus 0.5). */
  cpuCores: number;
  memoryBytes: number;
}

/** cgroup v2 `cpu.max`: "<quota> <period>" or "max <period>". */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  if (!quota || quota === 'max') return undefined;
  const q = Number(quota);
  const p = Number(period ?? '100000');
  return q > 0 && p > 0 ? q / p : undefined;
}

/** cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us (quota -1 = unlimited). */
export function parseCfsQuota(quotaText: string, periodText: string): number | undefined {
  const q = Number(quotaText.trim());
  const p = Number(periodText.trim());
  return q > 0 && p > 0 ? q / p : undefined;
}

/** cgroup v2 `memory.max` ("max" or bytes) or v1 `memory.limit_in_bytes` (huge = unlimited). */
export function parseMemoryMax(text: string, hostBytes: number): number | undefined {
  const t = text.trim();
  if (t === 'max' || t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) && n > 0 && n < hostBytes ? n : undefined;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function readLimits(): ResourceLimits {
  const hostCores = os.availableParallelism();
  const hostMemory = os.totalmem();
  const v2Cpu = read('/sys/fs/cgroup/cpu.max');
  const v1Quota = read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us');
  const v1Period = read('/sys/fs/cgroup/cpu/cpu.cfs_period_us');
  const cgroupCpu =
    v2Cpu !== undefined
      ? parseCpuMax(v2Cpu)
      : v1Quota !== undefined && v1Period !== undefined
        ? parseCfsQuota(v1Quota, v1Period)
        : undefined;
  const memText = read('/sys/fs/cgroup/memory.max') ?? read('/sys/fs/cgroup/memory/memory.limit_in_bytes');
  const cgroupMem = memText === undefined ? undefined : parseMemoryMax(memText, hostMemory);
  return {
    cpuCores: Math.min(cgroupCpu ?? hostCores, hostCores),
    memoryBytes: cgroupMem ?? hostMemory,
  };
}
