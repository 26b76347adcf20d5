// An engine's processes and kernel state: its cgroup tree (where its containers run), killing
// every process it owns, unmounting what it left, and pinning its containers to CPUs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, lines, tryRun } from './host.js';

/** Every cgroup directory (all v1 controllers, or the v2 tree) named `parent` at the top level. */
export function cgroupDirs(parent: string): string[] {
  const root = '/sys/fs/cgroup';
  if (existsSync(join(root, 'cgroup.controllers'))) return [join(root, parent)].filter(existsSync);
  return readdirSync(root)
    .map((c) => join(root, c, parent))
    .filter((d) => existsSync(d));
}

/** Pids of every process in a cgroup tree (depth-first). */
function cgroupPids(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(d, entry.name));
    }
    try {
      for (const p of lines(readFileSync(join(d, 'cgroup.procs'), 'utf8'))) out.push(Number(p));
    } catch {
      // a cgroup removed while walking
    }
  };
  try {
    walk(dir);
  } catch {
    // gone already
  }
  return out;
}

export function removeCgroupTree(dir: string): void {
  const walk = (d: string) => {
    try {
      for (const entry of readdirSync(d, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(join(d, entry.name));
      }
      // cgroupfs directories go with rmdir (their files cannot be unlinked)
      rmdirSync(d);
    } catch {
      // still busy or gone: the next stale cleanup retries
    }
  };
  walk(dir);
}

/** SIGKILLs every process of one engine: the ones in its netns (dockerd, containerd, shims)
 * and the ones in its cgroup parent (the containers, which have network namespaces of their own). */
export function killEngineProcesses(ns: string, dataDir: string): void {
  const pids = new Set<number>();
  try {
    for (const p of lines(readFileSync(join(dataDir, 'dockerd.pid'), 'utf8'))) pids.add(Number(p));
  } catch {
    // never started, or removed its pidfile on a clean exit
  }
  const res = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
  if (res.status === 0) for (const p of lines(res.stdout)) pids.add(Number(p));
  for (const dir of cgroupDirs(ns)) for (const p of cgroupPids(dir)) pids.add(p);
  for (const pid of pids) {
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited already
    }
  }
  const deadline = Date.now() + 10_000;
  while ([...pids].some((p) => p > 1 && alive(p)) && Date.now() < deadline) {
    spawnSync('sleep', ['0.1']);
  }
}

/** Unmounts everything under `dir` (overlay layers, netns bind mounts, shm of a killed engine). */
export function unmountUnder(dir: string): void {
  const mounts = lines(readFileSync('/proc/self/mounts', 'utf8'))
    .map((l) => (l.split(' ')[1] ?? '').replace(/\\040/g, ' '))
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) tryRun('umount', ['-l', m]);
}

/** Pins an engine's containers to `cpus`: its cgroup parent exists before dockerd creates a
 * container under it, so runc's cgroups copy this cpuset instead of the root's. */
export function pinEngine(ns: string, cpus: string): void {
  const root = '/sys/fs/cgroup/cpuset';
  if (!existsSync(join(root, 'cpuset.cpus'))) {
    throw new Error('startEngines cpusets: needs the cgroup v1 cpuset controller at /sys/fs/cgroup/cpuset');
  }
  const dir = join(root, ns);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cpuset.mems'), readFileSync(join(root, 'cpuset.mems')));
  writeFileSync(join(dir, 'cpuset.cpus'), cpus);
}
