import { describe, expect, it } from 'vitest';
import { cpuFraction, memoryFraction, usageFigures } from './cpu-from-stats.js';
import { sampleValue } from './prometheus-text.js';

const stats = (dCpu: number, dSys: number, online = 4) => ({
  cpu_stats: { cpu_usage: { total_usage: 1e9 + dCpu }, system_cpu_usage: 1e12 + dSys, online_cpus: online },
  precpu_stats: { cpu_usage: { total_usage: 1e9 }, system_cpu_usage: 1e12 },
  memory_stats: { usage: 300, limit: 1000, stats: { inactive_file: 100 } },
});

describe('cpuFraction', () => {
  it('is relative to the container limit', () => {
    // half a core used of 4 online CPUs: dCpu/dSys = 0.125
    expect(cpuFraction(stats(0.125e9, 1e9), 0.5)).toBeCloseTo(1);
    expect(cpuFraction(stats(0.125e9, 1e9), 2)).toBeCloseTo(0.25);
    expect(cpuFraction(stats(0.125e9, 1e9), undefined)).toBeCloseTo(0.125);
  });
  it('is null without a previous sample', () => {
    expect(
      cpuFraction(
        {
          cpu_stats: { cpu_usage: { total_usage: 5 }, system_cpu_usage: 5, online_cpus: 2 },
          precpu_stats: {},
        },
        1,
      ),
    ).toBeNull();
  });
  it('reads the working set over the limit', () => {
    expect(memoryFraction(stats(0, 1))).toBeCloseTo(0.2);
    expect(memoryFraction({})).toBeNull();
  });
});

describe('usageFigures: the raw figures the replica signals export', () => {
  it.each([
    // [what, stats' limit, online CPUs, expected cores]
    ['--cpus 0.5 on 4 cores: its limit', 0.5, 4, 0.5],
    ['no limit: the host cores', undefined, 4, 4],
    ['a limit above the host: the host cores', 8, 4, 4],
  ])('%s', (_what, limit, online, cores) => {
    const f = usageFigures(stats(0.125e9, 1e9, online), limit);
    expect(f.cpuLimitCores).toBe(cores);
    // cumulative CPU time in seconds (total_usage is ns), working set without inactive file pages
    expect(f.cpuSeconds).toBeCloseTo(1.125);
    expect(f.memoryBytes).toBe(200);
    expect(f.memoryLimitBytes).toBe(1000);
  });
  it('leaves out what the answer lacks', () => {
    expect(usageFigures({}, undefined)).toEqual({
      cpuSeconds: undefined,
      cpuLimitCores: undefined,
      memoryBytes: undefined,
      memoryLimitBytes: undefined,
    });
  });
});

describe('sampleValue', () => {
  const text = [
    '# HELP process_cpu_seconds_total x',
    '# TYPE process_cpu_seconds_total counter',
    'process_cpu_seconds_total{instance="a"} 12.5',
    'process_resident_memory_bytes 1048576',
    'headroom_backend_cpu_limit_cores{instance="a"} 0.5 1700000000',
  ].join('\n');
  it.each([
    ['process_cpu_seconds_total', 12.5],
    ['process_resident_memory_bytes', 1048576],
    ['headroom_backend_cpu_limit_cores', 0.5],
    ['process_cpu_seconds', undefined],
    ['missing', undefined],
  ])('%s → %s', (name, value) => {
    expect(sampleValue(text, name)).toBe(value);
  });
});
