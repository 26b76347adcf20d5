// Measured CPU against the real engine: a container with no CPU limit that burns a core books
// nothing, and the stats reading still sees it busy; the engine's HostState carries it.
import { randomBytes } from 'node:crypto';
import { BASE_IMAGE, ensureBaseImage, requireDocker } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFromAddress } from '../src/act/docker-engines.js';
import { measureCpuUsed, readHostState } from '../src/observe/engine-capacity.js';
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
    // the machine's cores are shared with other work: a hog gets well over half a core
    await expect
      .poll(async () => (await measureCpuUsed(docker, [hog.id])) ?? 0, { timeout: 20_000, interval: 500 })
      .toBeGreaterThan(0.5);
    expect((await measureCpuUsed(docker, [idle.id])) ?? 0).toBeLessThan(0.2);
    const h = await readHostState(engineFromAddress('unix:///var/run/docker.sock'));
    expect(h.cpuUsed).toBeGreaterThan(0.5);
    // booked by limits it is nothing: without the measurement the host would look idle
    const inspect = await hog.inspect();
    expect(inspect.HostConfig.NanoCpus ?? 0).toBe(0);
  });

  it('a container that is gone, or an empty list, gives no reading', async () => {
    expect(await measureCpuUsed(docker, [])).toBeUndefined();
    expect(await measureCpuUsed(docker, ['0000000000000000deadbeef'])).toBeUndefined();
  });

  it('a stats answer later than the bound counts as no reading', async () => {
    const idle = await start('slow', 'setInterval(() => {}, 1000)');
    // stream=false takes about a second (two samples): a 1 ms bound always expires first
    expect(await measureCpuUsed(docker, [idle.id], 1)).toBeUndefined();
  });
});
