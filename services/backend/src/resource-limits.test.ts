import { describe, expect, it } from 'vitest';
import {
  cgroupDirs,
  locateController,
  parseCfsQuota,
  parseCgroupMounts,
  parseCpuMax,
  parseMemoryMax,
  parseProcCgroup,
  tightest,
} from './resource-limits.js';

describe('cgroup limit parsing', () => {
  it.each([
    ['50000 100000\n', 0.5],
    ['200000 100000', 2],
    ['12500 100000', 0.125],
    ['max 100000\n', undefined],
    ['', undefined],
  ])('cpu.max %j → %s cores', (text, cores) => {
    expect(parseCpuMax(text)).toBe(cores);
  });
  it('reads cgroup v1 quotas, -1 meaning unlimited', () => {
    expect(parseCfsQuota('50000\n', '100000\n')).toBe(0.5);
    expect(parseCfsQuota('-1', '100000')).toBeUndefined();
  });
  it('treats "max" and host-sized v1 limits as unlimited', () => {
    const host = 8 * 1024 ** 3;
    expect(parseMemoryMax('268435456\n', host)).toBe(268435456);
    expect(parseMemoryMax('max\n', host)).toBeUndefined();
    expect(parseMemoryMax('9223372036854771712', host)).toBeUndefined();
  });
});

// What this 2-core CI machine has: v1 controllers, a cgroup2 mount without controllers.
const HYBRID_MOUNTINFO = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');

describe('the process’s own cgroup', () => {
  it('parses /proc/self/cgroup, v1 lines with several controllers and the unified line', () => {
    const p = parseProcCgroup(
      '9:name=systemd:/\n4:memory:/process_api/d5e7\n2:cpu,cpuacct:/headroom.1.web-1\n0::/\n',
    );
    expect(p).toEqual({
      unified: '/',
      v1: {
        'name=systemd': '/',
        memory: '/process_api/d5e7',
        cpu: '/headroom.1.web-1',
        cpuacct: '/headroom.1.web-1',
      },
    });
  });

  it('parses cgroup mounts from mountinfo with their controllers', () => {
    const mounts = parseCgroupMounts(HYBRID_MOUNTINFO);
    expect(mounts.map((m) => [m.version, m.mountPoint, m.controllers.join(',')])).toEqual([
      [1, '/sys/fs/cgroup/cpu', 'cpu'],
      [1, '/sys/fs/cgroup/cpuacct', 'cpuacct'],
      [1, '/sys/fs/cgroup/memory', 'memory'],
      [1, '/sys/fs/cgroup/systemd', ''],
      [2, '/sys/fs/cgroup/unified', ''],
    ]);
  });

  it('unescapes mount points written in octal (\\040 is a space)', () => {
    const [m] = parseCgroupMounts('50 31 0:40 / /mnt/my\\040cgroups rw - cgroup cgroup rw,cpu,cpuacct');
    expect(m).toMatchObject({ mountPoint: '/mnt/my cgroups', controllers: ['cpu', 'cpuacct'] });
  });

  it.each([
    // host, or a container with a cgroup namespace: mount root is /
    [
      { root: '/', mountPoint: '/sys/fs/cgroup/cpu' },
      '/headroom.7.web-1',
      ['/sys/fs/cgroup/cpu/headroom.7.web-1', '/sys/fs/cgroup/cpu'],
    ],
    [{ root: '/', mountPoint: '/sys/fs/cgroup' }, '/', ['/sys/fs/cgroup']],
    [
      { root: '/', mountPoint: '/sys/fs/cgroup' },
      '/a/b',
      ['/sys/fs/cgroup/a/b', '/sys/fs/cgroup/a', '/sys/fs/cgroup'],
    ],
    // container without a cgroup namespace: the mount's root IS the container's cgroup
    [{ root: '/docker/abc', mountPoint: '/sys/fs/cgroup/cpu' }, '/docker/abc', ['/sys/fs/cgroup/cpu']],
    [
      { root: '/docker/abc', mountPoint: '/sys/fs/cgroup/cpu' },
      '/docker/abc/child',
      ['/sys/fs/cgroup/cpu/child', '/sys/fs/cgroup/cpu'],
    ],
    // a path from another namespace's view: only the mount point is ours
    [{ root: '/docker/abc', mountPoint: '/sys/fs/cgroup/cpu' }, '/elsewhere', ['/sys/fs/cgroup/cpu']],
  ])('dirs of %j for %s', (mount, p, dirs) => {
    expect(cgroupDirs(mount, p)).toEqual(dirs);
  });

  it('finds cpu in its v1 hierarchy, and in v2 only when the unified mount has the controller', () => {
    const mounts = parseCgroupMounts(HYBRID_MOUNTINFO);
    const proc = parseProcCgroup('2:cpu:/headroom.7.web-1\n4:memory:/m\n0::/u\n');
    expect(locateController('cpu', proc, mounts, () => [])).toEqual({
      version: 1,
      dirs: ['/sys/fs/cgroup/cpu/headroom.7.web-1', '/sys/fs/cgroup/cpu'],
    });
    const v2Only = parseCgroupMounts('41 31 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw');
    const v2Proc = parseProcCgroup('0::/user.slice/x.scope\n');
    expect(locateController('cpu', v2Proc, v2Only, () => ['cpuset', 'cpu', 'memory'])).toEqual({
      version: 2,
      dirs: ['/sys/fs/cgroup/user.slice/x.scope', '/sys/fs/cgroup/user.slice', '/sys/fs/cgroup'],
    });
    expect(locateController('cpu', v2Proc, v2Only, () => ['memory'])).toBeUndefined();
    expect(locateController('cpu', proc, mounts.slice(4), () => ['hugetlb'])).toBeUndefined();
  });

  it('a parent’s quota caps its children: the tightest wins', () => {
    expect(tightest([undefined, 0.5, 2])).toBe(0.5);
    expect(tightest([undefined, undefined])).toBeUndefined();
  });
});
