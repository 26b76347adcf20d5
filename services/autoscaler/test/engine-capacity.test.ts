// Measured CPU against the real engine: a container with no CPU limit that burns a core books
// nothing, and two stats readings still see it busy; the engine's HostState carries it once two
// rounds of stats answers (started by its observes, never awaited by them) have finished.
import { randomBytes } from 'node:crypto';
import { BASE_IMAGE, ensureBaseImage, requireDocker } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFromAddress } from '../src/clients/docker-engines.js';
import {
  type CpuCounters,
  measureCpuUsed,
  readHostState,
  settledCpuRound,
} from '../src/observe/engine-capacity.js';
import { docker, removeRun, TEST_LABEL } from './fixtures.js';

const run = randomBytes(4).toString('hex');

beforeAll(() => {
  requireDocker();
  ensureBaseImage();
});

afterAll(async () => {
  await removeRun(run);
});

async function start(name: string, script: string) {
  const c = await docker.createContainer({
    name: `as-cpu-${run}-${name}`,
    Image: BASE_IMAGE,
    Cmd: ['node', '-e', script],
    Labels: { [TEST_LABEL]: run },
  });
  await c.start();
  return c;
}

describe('measured CPU of an engine', () => {
  it('a CPU hog with no limit is measured busy; an idle container is not', async () => {
    const hog = await start('hog', 'for (;;) {}');
    const idle = await start('idle', 'setInterval(() => {}, 1000)');
    const memo = new Map<string, CpuCounters>();
    // the first reading only starts the window
    expect(await measureCpuUsed(docker, [hog.id, idle.id], memo)).toBeUndefined();
    // the machine's cores are shared with other work: a hog still gets about half a core or more
    await new Promise((r) => setTimeout(r, 1500));
    expect((await measureCpuUsed(docker, [hog.id], memo)) ?? 0).toBeGreaterThan(0.4);
    // the idle one's window is longer now (its last sample was the first call): still idle
    expect((await measureCpuUsed(docker, [idle.id], memo)) ?? 0).toBeLessThan(0.2);
    const engine = engineFromAddress('unix:///var/run/docker.sock');
    // an observe starts a round of stats answers and carries the last finished round's reading:
    // the first round opens the window, the second closes it, the third observe reads it
    expect((await readHostState(engine)).cpuUsed ?? 0).toBeGreaterThanOrEqual(0);
    await settledCpuRound(engine.id);
    await new Promise((r) => setTimeout(r, 1500));
    await readHostState(engine);
    await settledCpuRound(engine.id);
    const h = await readHostState(engine);
    expect(h.cpuUsed).toBeGreaterThan(0.4);
    // booked by limits it is nothing: without the measurement the host would look idle
    const inspect = await hog.inspect();
    expect(inspect.HostConfig.NanoCpus ?? 0).toBe(0);
    await hog.remove({ force: true });
  });

  it('a container that is gone, or an empty list, gives no reading', async () => {
    const memo = new Map<string, CpuCounters>();
    expect(await measureCpuUsed(docker, [], memo)).toBeUndefined();
    expect(await measureCpuUsed(docker, ['0000000000000000deadbeef'], memo)).toBeUndefined();
    expect(memo.size).toBe(0);
  });

  it('a stats answer later than the bound counts as no reading', async () => {
    const hog = await start('slow', 'for (;;) {}');
    const memo = new Map<string, CpuCounters>();
    await measureCpuUsed(docker, [hog.id], memo);
    await new Promise((r) => setTimeout(r, 1000));
    // a 0 ms bound expires before any answer: the window stays open, the next reading closes it
    expect(await measureCpuUsed(docker, [hog.id], memo, 0)).toBeUndefined();
    // (this test is about the bound: any clear reading of the hog will do)
    expect((await measureCpuUsed(docker, [hog.id], memo)) ?? 0).toBeGreaterThan(0.2);
  });
});
