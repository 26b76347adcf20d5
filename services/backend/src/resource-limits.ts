// The CPU and memory this process may use: the limits of its OWN cgroup and every ancestor
// up to the mount (what `docker run --cpus/--memory`, the autoscaler's local runtime or a
// systemd scope set), else the host's. The own cgroup comes from /proc/self/cgroup and is
// located through /proc/self/mountinfo: in a container without a cgroup namespace the mount's
// root is the container's cgroup, so the path is taken relative to it; reading the mount's
// root files alone (as this did before) reported the host's cores for a process in a child
// cgroup. Exported as gauges so that utilization = CPU used / CPU limit means the same thing
// everywhere. Parsers are pure; readLimits() is the one adapter.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface ResourceLimits {
  /** Cores, fractional (e.g. 0.5 for --cpus 0.5): what all the process's threads together may use. */
  cpuCores: number;
  memoryBytes: number;
  /** Where cpuCores came from, for the start log line. */
  cpuSource: 'cgroup' | 'host';
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

export interface ProcCgroup {
  /** The v2 (unified) path, from the `0::<path>` line. */
  unified?: string | undefined;
  /** v1 controller → path (a line `4:cpu,cpuacct:/x` gives both cpu and cpuacct). */
  v1: Record<string, string>;
}

/** /proc/self/cgroup: `<id>:<controllers>:<path>` per line. */
export function parseProcCgroup(text: string): ProcCgroup {
  const out: ProcCgroup = { v1: {} };
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, id, controllers, p] = m as unknown as [string, string, string, string];
    if (id === '0' && controllers === '') out.unified = p;
    else for (const c of controllers.split(',')) if (c) out.v1[c] = p;
  }
  return out;
}

export interface CgroupMount {
  version: 1 | 2;
  /** The cgroup path at the mount point (`/` on the host or with a cgroup namespace). */
  root: string;
  mountPoint: string;
  /** v1: the controllers of this hierarchy (super options); v2: empty (read cgroup.controllers). */
  controllers: string[];
}

/** mountinfo escapes spaces and the like as \040 (octal). */
function octalUnescape(s: string): string {
  return s.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** /proc/self/mountinfo lines of cgroup and cgroup2 file systems. */
export function parseCgroupMounts(text: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const [fsType, , superOptions = ''] = line.slice(sep + 3).split(' ');
    const root = left[3];
    const mountPoint = left[4];
    if (!root || !mountPoint) continue;
    if (fsType === 'cgroup2')
      out.push({
        version: 2,
        root: octalUnescape(root),
        mountPoint: octalUnescape(mountPoint),
        controllers: [],
      });
    else if (fsType === 'cgroup')
      out.push({
        version: 1,
        root: octalUnescape(root),
        mountPoint: octalUnescape(mountPoint),
        controllers: superOptions.split(',').filter((o) => !o.includes('=') && o !== 'rw' && o !== 'ro'),
      });
  }
  return out;
}

/**
 * Directories to read a limit from, innermost first: the process's cgroup and each ancestor
 * up to the mount point. `cgroupPath` is made relative to the mount's root; a path outside the
 * mount (another namespace's view) means the mount point itself is the process's cgroup.
 */
export function cgroupDirs(mount: Pick<CgroupMount, 'root' | 'mountPoint'>, cgroupPath: string): string[] {
  const root = mount.root === '/' ? '' : mount.root.replace(/\/+$/, '');
  let rel = cgroupPath;
  if (root && (cgroupPath === root || cgroupPath.startsWith(`${root}/`))) rel = cgroupPath.slice(root.length);
  else if (root) rel = '/';
  const parts = rel.split('/').filter(Boolean);
  const dirs: string[] = [];
  for (let n = parts.length; n >= 0; n--) dirs.push(path.posix.join(mount.mountPoint, ...parts.slice(0, n)));
  return dirs;
}

/** Where the process's cgroup for `controller` lives: its v1 hierarchy, else v2 when it has the controller. */
export interface ControllerLocation {
  version: 1 | 2;
  dirs: string[];
}

export function locateController(
  controller: 'cpu' | 'memory',
  proc: ProcCgroup,
  mounts: readonly CgroupMount[],
  v2Controllers: (mountPoint: string) => string[],
): ControllerLocation | undefined {
  const v1 = mounts.find((m) => m.version === 1 && m.controllers.includes(controller));
  const v1Path = proc.v1[controller];
  if (v1 && v1Path !== undefined) return { version: 1, dirs: cgroupDirs(v1, v1Path) };
  const v2 = mounts.find((m) => m.version === 2);
  if (v2 && proc.unified !== undefined && v2Controllers(v2.mountPoint).includes(controller))
    return { version: 2, dirs: cgroupDirs(v2, proc.unified) };
  return undefined;
}

/** The tightest limit over the directories: a parent's quota caps its children too. */
export function tightest(values: readonly (number | undefined)[]): number | undefined {
  const set = values.filter((v): v is number => v !== undefined);
  return set.length === 0 ? undefined : Math.min(...set);
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export function readLimits(): ResourceLimits {
  const hostCores = os.availableParallelism();
  const hostMemory = os.totalmem();
  const proc = parseProcCgroup(read('/proc/self/cgroup') ?? '');
  const mounts = parseCgroupMounts(read('/proc/self/mountinfo') ?? '');
  const v2Controllers = (mp: string) => (read(path.join(mp, 'cgroup.controllers')) ?? '').trim().split(/\s+/);

  let cgroupCpu: number | undefined;
  const cpu = locateController('cpu', proc, mounts, v2Controllers);
  if (cpu?.version === 2)
    cgroupCpu = tightest(cpu.dirs.map((d) => parseCpuMax(read(path.join(d, 'cpu.max')) ?? '')));
  else if (cpu?.version === 1)
    cgroupCpu = tightest(
      cpu.dirs.map((d) => {
        const q = read(path.join(d, 'cpu.cfs_quota_us'));
        const p = read(path.join(d, 'cpu.cfs_period_us'));
        return q === undefined || p === undefined ? undefined : parseCfsQuota(q, p);
      }),
    );

  const mem = locateController('memory', proc, mounts, v2Controllers);
  const memFile = mem?.version === 2 ? 'memory.max' : 'memory.limit_in_bytes';
  const cgroupMem = mem
    ? tightest(mem.dirs.map((d) => parseMemoryMax(read(path.join(d, memFile)) ?? '', hostMemory)))
    : undefined;
  return {
    cpuCores: Math.min(cgroupCpu ?? hostCores, hostCores),
    memoryBytes: cgroupMem ?? hostMemory,
    cpuSource: cgroupCpu !== undefined && cgroupCpu < hostCores ? 'cgroup' : 'host',
  };
}
