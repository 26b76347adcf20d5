import os from 'node:os';
import path from 'node:path';
import type { Logger } from '@headroom/shared';
import { describe, expect, it } from 'vitest';
import { localCapacityShortfall } from '../placement/local-host.js';
import {
  cfsQuotaUs,
  cpuMaxText,
  dirUnder,
  type HostFacts,
  isolatedArgv,
  LocalIsolation,
  planIsolation,
  replicaCgroupName,
  staleCgroups,
  systemdCpuQuota,
} from './local-cgroup.js';

const facts = (f: Partial<HostFacts>): HostFacts => ({ isRoot: false, systemdRun: false, ...f });

describe('planIsolation: cgroup v2, then v1, then systemd-run, else none with the reason', () => {
  it.each<[string, HostFacts, string]>([
    [
      'v2 writable with cpu for children',
      facts({ isRoot: true, v2Dir: { dir: '/sys/fs/cgroup/x', writable: true, cpuInSubtree: true } }),
      'cgroup-v2',
    ],
    [
      'v1 as root (this CI machine)',
      facts({ isRoot: true, v1CpuDir: { dir: '/sys/fs/cgroup/cpu', writable: true } }),
      'cgroup-v1',
    ],
    [
      'v2 without cpu for children, systemd-run works',
      facts({ v2Dir: { dir: '/x', writable: true, cpuInSubtree: false }, systemdRun: true }),
      'systemd-run',
    ],
    [
      'desktop user: v2 not writable, systemd-run --user works',
      facts({ v2Dir: { dir: '/x', writable: false, cpuInSubtree: true }, systemdRun: true }),
      'systemd-run',
    ],
    ['nothing works', facts({ v1CpuDir: { dir: '/sys/fs/cgroup/cpu', writable: false } }), 'none'],
    ['no cgroup at all', facts({}), 'none'],
  ])('%s → %s', (_what, f, kind) => {
    expect(planIsolation(f).kind).toBe(kind);
  });

  it('systemd-run is --user unless root', () => {
    expect(planIsolation(facts({ systemdRun: true }))).toEqual({ kind: 'systemd-run', user: true });
    expect(planIsolation(facts({ systemdRun: true, isRoot: true }))).toEqual({
      kind: 'systemd-run',
      user: false,
    });
  });

  it.each<[HostFacts, string]>([
    [
      facts({ v1CpuDir: { dir: '/sys/fs/cgroup/cpu', writable: false } }),
      'cgroup v1 cpu at /sys/fs/cgroup/cpu is not writable',
    ],
    [
      facts({ v2Dir: { dir: '/u', writable: false, cpuInSubtree: false } }),
      'cgroup v2 at /u is not writable',
    ],
    [facts({ v2Dir: { dir: '/u', writable: true, cpuInSubtree: false } }), 'no cpu controller for children'],
    [facts({}), 'no cgroup cpu controller found'],
  ])('the warning says why: %j', (f, why) => {
    const plan = planIsolation(f);
    expect(plan.kind === 'none' && plan.why).toContain(why);
  });
});

describe('quota arithmetic', () => {
  it.each([
    [0.5, '50000 100000', 50_000, '50%'],
    [2, '200000 100000', 200_000, '200%'],
    [0.25, '25000 100000', 25_000, '25%'],
    // the kernel refuses quotas under 1 ms
    [0.001, '1000 100000', 1000, '1%'],
  ])('%s cores → cpu.max %s, cfs_quota_us %s, CPUQuota=%s', (cores, max, quota, pct) => {
    expect(cpuMaxText(cores)).toBe(max);
    expect(cfsQuotaUs(cores)).toBe(quota);
    expect(systemdCpuQuota(cores)).toBe(pct);
  });
});

describe('the replica command', () => {
  const argv = ['/usr/bin/node', '/app/backend/dist/main.js'];
  it('joins the cgroup with its own pid, then execs the replica', () => {
    const out = isolatedArgv(
      { kind: 'cgroup-v1', parentDir: '/sys/fs/cgroup/cpu' },
      argv,
      0.5,
      '/sys/fs/cgroup/cpu/headroom.1.web-1',
    );
    expect(out.slice(0, 2)).toEqual(['sh', '-c']);
    expect(out[2]).toContain('echo $$ > "$1"');
    expect(out[2]).toContain('exec "$@"');
    expect(out.slice(3)).toEqual(['sh', '/sys/fs/cgroup/cpu/headroom.1.web-1/cgroup.procs', ...argv]);
    expect(() => isolatedArgv({ kind: 'cgroup-v2', parentDir: '/x' }, argv, 0.5)).toThrow();
  });
  it('runs under systemd-run with the quota as a percentage', () => {
    expect(isolatedArgv({ kind: 'systemd-run', user: true }, argv, 0.5)).toEqual([
      'systemd-run',
      '--user',
      '--scope',
      '--quiet',
      '--collect',
      '-p',
      'CPUQuota=50%',
      '--',
      ...argv,
    ]);
    expect(isolatedArgv({ kind: 'systemd-run', user: false }, argv, 1)).not.toContain('--user');
  });
  it('is unchanged without isolation', () => {
    expect(isolatedArgv({ kind: 'none', why: 'x' }, argv, 0.5)).toEqual(argv);
  });
});

describe('cgroup names and leftovers', () => {
  it('names a replica cgroup after the owner pid, with a safe file name', () => {
    expect(replicaCgroupName(42, 'backend-3')).toBe('headroom.42.backend-3');
    expect(replicaCgroupName(42, 'a/b c')).toBe('headroom.42.a_b_c');
  });
  it('finds only headroom cgroups whose autoscaler is gone', () => {
    const alive = (pid: number) => pid === 7;
    expect(
      staleCgroups(['headroom.7.web-1', 'headroom.8.web-1', 'docker', 'headroom.x', 'user.slice'], alive),
    ).toEqual(['headroom.8.web-1']);
  });
  it.each([
    [{ root: '/', mountPoint: '/sys/fs/cgroup/cpu' }, '/', '/sys/fs/cgroup/cpu'],
    [{ root: '/', mountPoint: '/sys/fs/cgroup/cpu' }, '/ci/job', '/sys/fs/cgroup/cpu/ci/job'],
    [{ root: '/docker/abc', mountPoint: '/sys/fs/cgroup/cpu' }, '/docker/abc', '/sys/fs/cgroup/cpu'],
    [{ root: '/docker/abc', mountPoint: '/sys/fs/cgroup/cpu' }, '/other', '/sys/fs/cgroup/cpu'],
  ])('own cgroup dir under %j for %s', (mount, p, dir) => {
    expect(dirUnder(mount, p)).toBe(dir);
  });
});

describe('local host capacity: replicas × LOCAL_CPU_QUOTA within host cores × CPU_OVERCOMMIT', () => {
  it.each<[number, number, number, number, boolean]>([
    // [host cores, replicas running, quota, overcommit, one more fits]
    [2, 3, 0.5, 1, true], // 2 cores, 3 × 0.5 running: a 4th fits exactly
    [2, 4, 0.5, 1, false],
    [2, 4, 0.5, 1.5, true],
    [2, 2, 1, 1, false],
    [8, 0, 0.5, 1, true],
    [1, 0, 2, 1, false], // a quota above the host never fits
    [2, 3, 0.7, 1, false], // rounding never books the same room twice
  ])('%s cores, %s × %s, overcommit %s → fits: %s', (cores, n, quota, over, fits) => {
    expect(localCapacityShortfall(cores, n, quota, over) === null).toBe(fits);
  });
  it('says what is booked and what the host has', () => {
    expect(localCapacityShortfall(2, 4, 0.5, 1)).toBe(
      'local host: 4 replicas × 0.5 cores booked, one more needs 2.5 > 2 cores × CPU_OVERCOMMIT 1',
    );
  });
});

describe('LocalIsolation without a way to isolate', () => {
  const capture = () => {
    const warnings: unknown[][] = [];
    const logger = {
      warn: (...args: unknown[]) => warnings.push(args),
      info: () => {},
      debug: () => {},
    } as unknown as Logger;
    return { warnings, logger };
  };
  const argv = ['/usr/bin/node', 'main.js'];

  it('warns once, saying why, and runs replicas as they are', async () => {
    const { warnings, logger } = capture();
    const iso = await LocalIsolation.create(
      0.5,
      logger,
      facts({ v1CpuDir: { dir: '/sys/fs/cgroup/cpu', writable: false } }),
    );
    expect(iso.kind).toBe('none');
    for (const name of ['web-1', 'web-2']) expect((await iso.prepare(name, argv)).argv).toEqual(argv);
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0])).toContain('cgroup v1 cpu at /sys/fs/cgroup/cpu is not writable');
    expect(String(warnings[0]![1])).toContain('WITHOUT a CPU quota');
  });

  it('a cgroup tree that looked writable but is not: one warning, then no quota for the rest of the run', async () => {
    const { warnings, logger } = capture();
    const dir = path.join(os.tmpdir(), `headroom-no-such-${process.pid}`, 'deeper');
    const iso = await LocalIsolation.create(
      0.5,
      logger,
      facts({ isRoot: true, v1CpuDir: { dir, writable: true } }),
    );
    expect(iso.kind).toBe('cgroup-v1');
    expect((await iso.prepare('web-1', argv)).argv).toEqual(argv);
    expect((await iso.prepare('web-2', argv)).argv).toEqual(argv);
    expect(iso.kind).toBe('none');
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0])).toContain(`creating ${dir}/headroom.${process.pid}.web-1 failed`);
  });
});
