import { describe, expect, it } from 'vitest';
import { bookedBy, coresBusy } from './engine-capacity.js';

const sample = (total: number, preTotal: number, system: number, preSystem: number, cpus = 2) => ({
  cpu_stats: { cpu_usage: { total_usage: total }, system_cpu_usage: system, online_cpus: cpus },
  precpu_stats: { cpu_usage: { total_usage: preTotal }, system_cpu_usage: preSystem },
});

describe('coresBusy (one stats answer → cores in use)', () => {
  it.each([
    // host CPU time over 1 s on 2 cores is 2e9 ns
    ['one core burning on a 2-core host', sample(2e9, 1e9, 4e9, 2e9), 1],
    ['idle', sample(1e9, 1e9, 4e9, 2e9), 0],
    ['both cores', sample(3e9, 1e9, 4e9, 2e9), 2],
    ['a quarter of a core on 4 cores', sample(1.25e9, 1e9, 8e9, 4e9, 4), 0.25],
    ['no earlier sample (one-shot answer)', { cpu_stats: sample(2e9, 0, 4e9, 0).cpu_stats }, undefined],
    ['earlier sample without system time', sample(2e9, 1e9, 4e9, 0), undefined],
    ['no host time passed', sample(2e9, 1e9, 4e9, 4e9), undefined],
    ['counter reset (container restarted) reads 0, not negative', sample(1e8, 1e9, 4e9, 2e9), 0],
    ['empty answer (container stopped)', {}, undefined],
  ] as const)('%s', (_name, s, expected) => {
    const got = coresBusy(s);
    if (expected === undefined) expect(got).toBeUndefined();
    else expect(got).toBeCloseTo(expected, 9);
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
