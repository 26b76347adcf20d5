import { describe, expect, it } from 'vitest';
import { bookedBy, type CpuCounters, coresBetween, countersOf } from './engine-capacity.js';

const c = (total: number, system: number, cpus = 2): CpuCounters => ({ total, system, cpus });

describe('coresBetween (two samples of a container → cores in use)', () => {
  it.each([
    // host CPU time over 1 s on 2 cores is 2e9 ns
    ['one core burning on a 2-core host', c(1e9, 2e9), c(2e9, 4e9), 1],
    ['idle', c(1e9, 2e9), c(1e9, 4e9), 0],
    ['both cores', c(1e9, 2e9), c(3e9, 4e9), 2],
    ['a quarter of a core on 4 cores', c(1e9, 4e9, 4), c(1.25e9, 8e9, 4), 0.25],
    ['no host time passed', c(1e9, 4e9), c(2e9, 4e9), undefined],
    ['counter reset (container restarted) reads 0, not negative', c(1e9, 2e9), c(1e8, 4e9), 0],
  ] as const)('%s', (_name, prev, cur, expected) => {
    const got = coresBetween(prev, cur);
    if (expected === undefined) expect(got).toBeUndefined();
    else expect(got).toBeCloseTo(expected, 9);
  });
});

describe('countersOf (one one-shot stats answer)', () => {
  it.each([
    [
      'a running container',
      { cpu_stats: { cpu_usage: { total_usage: 5 }, system_cpu_usage: 10, online_cpus: 2 } },
      { total: 5, system: 10, cpus: 2 },
    ],
    ['a stopped container (empty counters)', { cpu_stats: { cpu_usage: {}, online_cpus: 0 } }, undefined],
    ['an empty answer', {}, undefined],
  ] as const)('%s', (_name, s, expected) => {
    expect(countersOf(s)).toEqual(expected);
  });
});

describe('bookedBy', () => {
  it.each([
    [
      { NanoCpus: 5e8, Memory: 64 },
      { cpu: 0.5, memory: 64 },
    ],
    [
      { CpuQuota: 50_000, CpuPeriod: 100_000 },
      { cpu: 0.5, memory: 0 },
    ],
    [{}, { cpu: 0, memory: 0 }],
  ])('%j books %j', (hc, expected) => {
    expect(bookedBy(hc)).toEqual(expected);
  });
});
