import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../clients/docker-engines.js';
import {
  bookedBy,
  type CpuCounters,
  type CpuSample,
  coresBetween,
  countersOf,
  readHostState,
  settledCpuRound,
} from './engine-capacity.js';

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

/**
 * Fault injection: an engine whose stats answers wait until the test releases them (a loaded
 * engine takes a second or more per one-shot answer); everything else answers at once.
 */
function slowStatsEngine(id: string) {
  const waiting: Array<(s: CpuSample) => void> = [];
  const docker = {
    info: async () => ({ NCPU: 2, MemTotal: 8e9 }),
    listContainers: async () => [{ Id: 'c1' }],
    getContainer: () => ({
      inspect: async () => ({ HostConfig: { NanoCpus: 5e8, Memory: 1e8 } }),
      stats: () => new Promise<CpuSample>((resolve) => waiting.push(resolve)),
    }),
  } as unknown as Docker;
  const engine: Engine = { id, docker };
  /** Answers the stats request in flight with these counters and waits for its round to finish. */
  const answer = async (total: number, system: number) => {
    expect(waiting).toHaveLength(1);
    waiting.shift()!({
      cpu_stats: { cpu_usage: { total_usage: total }, system_cpu_usage: system, online_cpus: 2 },
    });
    await settledCpuRound(id);
  };
  return { engine, waiting, answer };
}

const NOT_YET = Symbol('still waiting');
/** The host state, or NOT_YET when it is still waiting after the fake's instant answers. */
const observed = (engine: Engine) =>
  Promise.race([
    readHostState(engine),
    new Promise<typeof NOT_YET>((r) => setTimeout(() => r(NOT_YET), 200)),
  ]);

describe('readHostState never waits for the stats answers (the tick creates without them)', () => {
  it('a slow engine: the observe answers with bookings at once; measured use arrives from the rounds that finished', async () => {
    const { engine, waiting, answer } = slowStatsEngine('unix:///slow-stats-1');
    const first = await observed(engine);
    if (first === NOT_YET) throw new Error('readHostState waited for a stats answer');
    expect(first).toMatchObject({ cpuBooked: 0.5, memoryBooked: 1e8, cpuUsed: undefined });
    expect(waiting).toHaveLength(1); // its round runs on
    await answer(1e9, 2e9); // the first round only starts the window
    const second = await observed(engine);
    if (second === NOT_YET) throw new Error('readHostState waited for a stats answer');
    expect(second.cpuUsed).toBeUndefined();
    await answer(2e9, 4e9); // one core busy between the rounds
    const third = await observed(engine);
    if (third === NOT_YET) throw new Error('readHostState waited for a stats answer');
    expect(third.cpuUsed).toBeCloseTo(1, 9);
  });

  it('a round still running is not started again: one request in flight per container', async () => {
    const { engine, waiting } = slowStatsEngine('unix:///slow-stats-2');
    await observed(engine);
    await observed(engine);
    await observed(engine);
    expect(waiting).toHaveLength(1);
  });
});
