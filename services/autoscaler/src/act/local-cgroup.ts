// CPU isolation of local replicas, so a local process is limited like a container with
// `--cpus`: each replica gets LOCAL_CPU_QUOTA cores in a cgroup of its own (v2 `cpu.max` or
// v1 CFS quota, where this process may write its cgroup tree, i.e. as root), else a systemd
// scope (`systemd-run --user --scope -p CPUQuota=…`, what a desktop user can do), else it runs
// unlimited after ONE warning saying why. Without it every local backend shares every core:
// a CPU burner in one slows all of them alike and there is nothing for resource-aware
// balancing to steer around (issue 15).
//
// The replica joins its cgroup before it runs: a `sh` wrapper writes its own pid into
// cgroup.procs and then execs the backend, so the backend already reads its quota when it
// starts (its CPU limit gauge and its burner's thread count come from it). The cgroup is
// removed when the replica has exited. Planning and the argv are pure; LocalIsolation is the
// adapter.
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@headroom/shared';

export const CFS_PERIOD_US = 100_000;

/** What the host offers, as found by LocalIsolation.detect. */
export interface HostFacts {
  isRoot: boolean;
  /** This process's own cgroup directory in the v1 `cpu` hierarchy, when there is one. */
  v1CpuDir?: { dir: string; writable: boolean } | undefined;
  /** This process's own v2 cgroup directory, when v2 has the cpu controller. */
  v2Dir?: { dir: string; writable: boolean; cpuInSubtree: boolean } | undefined;
  /** `systemd-run --scope -p CPUQuota=…` worked in a probe (`--user` unless root). */
  systemdRun: boolean;
}

export type IsolationPlan =
  | { kind: 'cgroup-v2'; parentDir: string }
  | { kind: 'cgroup-v1'; parentDir: string }
  | { kind: 'systemd-run'; user: boolean }
  | { kind: 'none'; why: string };

/** Pure: the first way that works, in order of directness. */
export function planIsolation(f: HostFacts): IsolationPlan {
  if (f.v2Dir?.writable && f.v2Dir.cpuInSubtree) return { kind: 'cgroup-v2', parentDir: f.v2Dir.dir };
  if (f.v1CpuDir?.writable) return { kind: 'cgroup-v1', parentDir: f.v1CpuDir.dir };
  if (f.systemdRun) return { kind: 'systemd-run', user: !f.isRoot };
  const found = f.v2Dir
    ? `cgroup v2 at ${f.v2Dir.dir} is ${f.v2Dir.writable ? 'writable but has no cpu controller for children' : 'not writable'}`
    : f.v1CpuDir
      ? `cgroup v1 cpu at ${f.v1CpuDir.dir} is not writable`
      : 'no cgroup cpu controller found';
  return {
    kind: 'none',
    why: `${found}, and systemd-run --scope -p CPUQuota is not available`,
  };
}

/** Pure: cgroup v2 cpu.max for `cores`. */
export function cpuMaxText(cores: number, periodUs = CFS_PERIOD_US): string {
  return `${Math.max(1000, Math.round(cores * periodUs))} ${periodUs}`;
}

/** Pure: cgroup v1 cpu.cfs_quota_us for `cores` (the kernel's minimum is 1000 µs). */
export function cfsQuotaUs(cores: number, periodUs = CFS_PERIOD_US): number {
  return Math.max(1000, Math.round(cores * periodUs));
}

/** Pure: systemd's CPUQuota= (percent of one CPU). */
export function systemdCpuQuota(cores: number): string {
  return `${Math.max(1, Math.round(cores * 100))}%`;
}

/** Pure: the cgroup of one replica, named after this autoscaler's pid so that two autoscalers never collide and stale ones can be found. */
export function replicaCgroupName(ownerPid: number, replica: string): string {
  return `headroom.${ownerPid}.${replica.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

/** Pure: entries of the parent cgroup left by an autoscaler that no longer runs (SIGKILLed). */
export function staleCgroups(entries: readonly string[], alive: (pid: number) => boolean): string[] {
  return entries.filter((e) => {
    const m = /^headroom\.(\d+)\./.exec(e);
    return m !== null && !alive(Number(m[1]));
  });
}

// `sh -c SCRIPT sh <procs> <argv…>`: join the cgroup, then become the replica (exec keeps the pid).
const JOIN_SCRIPT =
  'echo $$ > "$1" || { echo "headroom: cannot join cgroup $1" >&2; exit 97; }; shift; exec "$@"';

/** Pure: the command that runs `argv` under the plan (cgroupDir for the cgroup plans). */
export function isolatedArgv(
  plan: IsolationPlan,
  argv: readonly string[],
  cores: number,
  cgroupDir?: string,
): string[] {
  switch (plan.kind) {
    case 'cgroup-v1':
    case 'cgroup-v2':
      if (!cgroupDir) throw new Error('a cgroup plan needs the replica cgroup directory');
      return ['sh', '-c', JOIN_SCRIPT, 'sh', path.join(cgroupDir, 'cgroup.procs'), ...argv];
    case 'systemd-run':
      return [
        'systemd-run',
        ...(plan.user ? ['--user'] : []),
        '--scope',
        '--quiet',
        '--collect',
        '-p',
        `CPUQuota=${systemdCpuQuota(cores)}`,
        '--',
        ...argv,
      ];
    case 'none':
      return [...argv];
  }
}

function ownCgroupPaths(text: string): { v1Cpu?: string; unified?: string } {
  const out: { v1Cpu?: string; unified?: string } = {};
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') out.unified = m[3];
    else if (m[2]!.split(',').includes('cpu')) out.v1Cpu = m[3];
  }
  return out;
}

interface Mount {
  fsType: string;
  root: string;
  mountPoint: string;
  superOptions: string[];
}

function mounts(text: string): Mount[] {
  return text
    .split('\n')
    .map((line) => {
      const sep = line.indexOf(' - ');
      if (sep < 0) return undefined;
      const left = line.slice(0, sep).split(' ');
      const [fsType = '', , superOptions = ''] = line.slice(sep + 3).split(' ');
      return {
        fsType,
        root: left[3] ?? '/',
        mountPoint: left[4] ?? '',
        superOptions: superOptions.split(','),
      };
    })
    .filter((m): m is Mount => m !== undefined);
}

/** Pure: a cgroup path as a directory under its mount (relative to the mount's root). */
export function dirUnder(mount: { root: string; mountPoint: string }, cgroupPath: string): string {
  const root = mount.root === '/' ? '' : mount.root;
  const rel =
    root && (cgroupPath === root || cgroupPath.startsWith(`${root}/`))
      ? cgroupPath.slice(root.length)
      : root
        ? '/'
        : cgroupPath;
  const dir = path.posix.join(mount.mountPoint, rel);
  return dir.length > 1 ? dir.replace(/\/+$/, '') : dir;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

async function writable(dir: string): Promise<boolean> {
  try {
    await access(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function probeSystemdRun(user: boolean): Promise<boolean> {
  const args = [
    ...(user ? ['--user'] : []),
    '--scope',
    '--quiet',
    '--collect',
    '-p',
    'CPUQuota=50%',
    '--',
    'true',
  ];
  return new Promise((resolve) => {
    execFile('systemd-run', args, { timeout: 5_000 }, (err) => resolve(!err));
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The facts of this host, read from /proc and the cgroup file systems. */
export async function detectHostFacts(): Promise<HostFacts> {
  const isRoot = process.getuid?.() === 0;
  const own = ownCgroupPaths((await readText('/proc/self/cgroup')) ?? '');
  const ms = mounts((await readText('/proc/self/mountinfo')) ?? '');
  const facts: HostFacts = { isRoot, systemdRun: false };
  const v1 = ms.find((m) => m.fsType === 'cgroup' && m.superOptions.includes('cpu'));
  if (v1 && own.v1Cpu !== undefined) {
    const dir = dirUnder(v1, own.v1Cpu);
    if ((await readText(path.join(dir, 'cpu.cfs_quota_us'))) !== undefined)
      facts.v1CpuDir = { dir, writable: await writable(dir) };
  }
  const v2 = ms.find((m) => m.fsType === 'cgroup2');
  if (!facts.v1CpuDir && v2 && own.unified !== undefined) {
    const dir = dirUnder(v2, own.unified);
    const controllers = ((await readText(path.join(dir, 'cgroup.controllers'))) ?? '').split(/\s+/);
    if (controllers.includes('cpu')) {
      const w = await writable(dir);
      let subtree = ((await readText(path.join(dir, 'cgroup.subtree_control'))) ?? '').split(/\s+/);
      if (w && !subtree.includes('cpu')) {
        // Fails (EBUSY) when this cgroup holds processes and is not a root: the v2 "no
        // internal processes" rule. Then systemd-run is the way.
        await writeFile(path.join(dir, 'cgroup.subtree_control'), '+cpu').catch(() => undefined);
        subtree = ((await readText(path.join(dir, 'cgroup.subtree_control'))) ?? '').split(/\s+/);
      }
      facts.v2Dir = { dir, writable: w, cpuInSubtree: subtree.includes('cpu') };
    }
  }
  if (!(facts.v1CpuDir?.writable || (facts.v2Dir?.writable && facts.v2Dir.cpuInSubtree)))
    facts.systemdRun = await probeSystemdRun(!isRoot);
  return facts;
}

export interface IsolatedReplica {
  /** argv to spawn (argv[0] is the program). */
  argv: string[];
  /** Called once the replica has exited: removes its cgroup. */
  release(): Promise<void>;
}

export class LocalIsolation {
  private warned = false;

  private constructor(
    private plan: IsolationPlan,
    readonly cores: number,
    private readonly logger: Logger,
  ) {}

  static async create(cores: number, logger: Logger, facts?: HostFacts): Promise<LocalIsolation> {
    const plan = planIsolation(facts ?? (await detectHostFacts()));
    const iso = new LocalIsolation(plan, cores, logger);
    if (plan.kind === 'cgroup-v1' || plan.kind === 'cgroup-v2') await iso.removeStale(plan.parentDir);
    if (plan.kind === 'none') iso.warnOnce(plan.why);
    else logger.info({ isolation: plan, cpuQuota: cores }, 'local replicas get a CPU quota of their own');
    return iso;
  }

  get kind(): IsolationPlan['kind'] {
    return this.plan.kind;
  }

  private warnOnce(why: string): void {
    if (this.warned) return;
    this.warned = true;
    this.logger.warn(
      { why, cpuQuota: this.cores },
      'local replicas run WITHOUT a CPU quota: each may use every core, so a CPU burner slows all of them alike (run as root, or where systemd-run --user works, for isolation like containers)',
    );
  }

  private async removeStale(parentDir: string): Promise<void> {
    const entries = await readdir(parentDir).catch(() => [] as string[]);
    for (const e of staleCgroups(entries, pidAlive)) {
      await rmdir(path.join(parentDir, e)).then(
        () => this.logger.info({ cgroup: e }, 'removed the cgroup of a replica whose autoscaler is gone'),
        () => undefined,
      );
    }
  }

  /** Prepares the replica's cgroup (when the plan has one) and returns how to spawn it. */
  async prepare(replica: string, argv: readonly string[]): Promise<IsolatedReplica> {
    const plan = this.plan;
    if (plan.kind !== 'cgroup-v1' && plan.kind !== 'cgroup-v2')
      return { argv: isolatedArgv(plan, argv, this.cores), release: async () => {} };
    const dir = path.join(plan.parentDir, replicaCgroupName(process.pid, replica));
    try {
      await mkdir(dir);
      if (plan.kind === 'cgroup-v2') await writeFile(path.join(dir, 'cpu.max'), cpuMaxText(this.cores));
      else {
        await writeFile(path.join(dir, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
        await writeFile(path.join(dir, 'cpu.cfs_quota_us'), String(cfsQuotaUs(this.cores)));
      }
    } catch (err) {
      // The tree looked writable but is not (a read-only bind mount, a security module):
      // the rest of this run goes without a quota, said once.
      await rmdir(dir).catch(() => undefined);
      this.plan = { kind: 'none', why: `creating ${dir} failed: ${(err as Error).message}` };
      this.warnOnce(this.plan.why);
      return { argv: [...argv], release: async () => {} };
    }
    return {
      argv: isolatedArgv(plan, argv, this.cores, dir),
      release: () => this.removeCgroup(dir),
    };
  }

  private async removeCgroup(dir: string): Promise<void> {
    // A just-exited process may still be listed for a moment: retry briefly.
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        await rmdir(dir);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    this.logger.warn({ cgroup: dir }, 'could not remove the cgroup of a stopped replica');
  }
}
