// Placement's inputs come from the engines' live state: capacity from `docker info`, bookings
// from the limits of every running container; an engine that does not answer is unreachable
// and the replica goes to one that does.
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, LB_LABELS, OWNER_LABELS } from '@headroom/shared';
import { BASE_IMAGE, ensureBaseImage, requireDocker } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFromAddress } from '../src/clients/docker-engines.js';
import { dockerParts } from './docker-parts.js';
import { docker, removeRun, serviceContainers, startEngineProxy, TEST_LABEL } from './fixtures.js';

const run = randomBytes(4).toString('hex');
const SERVICE = `as-pl-${run}`;
const proxyPath = join(tmpdir(), `headroom-pl-${run}.sock`);
let proxy: Awaited<ReturnType<typeof startEngineProxy>>;

const logger = createLogger({ service: 'autoscaler-test', level: 'warn' });

beforeAll(async () => {
  requireDocker();
  ensureBaseImage();
  proxy = await startEngineProxy(proxyPath);
});

afterAll(async () => {
  await removeRun(run);
  for (const c of await serviceContainers(SERVICE))
    await docker
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => undefined);
  await proxy?.down();
});

function runtime() {
  return dockerParts({
    service: SERVICE,
    engines: [engineFromAddress(`unix://${proxyPath}`), engineFromAddress('unix:///var/run/docker.sock')],
    placement: { cpuOvercommit: 64, memoryReserve: 0, diskReserve: 0 },
    fallback: { image: BASE_IMAGE, cpus: 0.5, memoryMb: 48 },
    stopGraceSeconds: 1,
    logger,
  });
}

describe('placement across engines', () => {
  it('books the limits of running containers from the live engine', async () => {
    const rt = runtime();
    const before = await rt.hostStates();
    expect(before.map((h) => h.reachable)).toEqual([true, true]);
    const info = await docker.info();
    expect(before[1]).toMatchObject({ cpuCapacity: info.NCPU, memoryCapacity: info.MemTotal });
    const c = await docker.createContainer({
      name: `${SERVICE}-booked`,
      Image: BASE_IMAGE,
      Cmd: ['node', '-e', 'setInterval(() => {}, 1000)'],
      Labels: { [TEST_LABEL]: run },
      HostConfig: { NanoCpus: 750_000_000, Memory: 96 * 1024 * 1024 },
    });
    await c.start();
    const after = await rt.hostStates();
    // Other helpers' containers come and go on this engine: compare with a margin for theirs.
    expect(after[1]!.cpuBooked - before[1]!.cpuBooked).toBeGreaterThanOrEqual(0.75 - 1e-9);
    expect(after[1]!.memoryBooked - before[1]!.memoryBooked).toBeGreaterThanOrEqual(96 * 1024 * 1024);
    await c.remove({ force: true });
  });

  it('an engine that does not answer is unreachable, and the replica goes to one that does', async () => {
    await proxy.down();
    const rt = runtime();
    const hosts = await rt.hostStates();
    expect(hosts.map((h) => h.reachable)).toEqual([false, true]);
    const outcome = await rt.scaleTo(1, []);
    expect(outcome.shortfall).toBeUndefined();
    expect(outcome.added).toEqual([`${SERVICE}-1`]);
    const [created] = await serviceContainers(SERVICE);
    expect(created?.Labels[OWNER_LABELS.service]).toBe(SERVICE);
    expect(created?.Labels[LB_LABELS.service]).toBe(SERVICE);
    const inspect = await docker.getContainer(created!.Id).inspect();
    expect(inspect.HostConfig).toMatchObject({ NanoCpus: 500_000_000, Memory: 48 * 1024 * 1024 });
    await proxy.up();
  });

  it('no engine with room: HostCapacityExhausted, nothing created', async () => {
    const rt = dockerParts({
      service: SERVICE,
      engines: [engineFromAddress(`unix://${proxyPath}`), engineFromAddress('unix:///var/run/docker.sock')],
      placement: { cpuOvercommit: 1, memoryReserve: 0, diskReserve: 0 },
      fallback: { image: BASE_IMAGE, cpus: 1000, memoryMb: 48, port: 3000 },
      stopGraceSeconds: 1,
      logger,
    });
    const outcome = await rt.scaleTo(1, []);
    expect(outcome.added).toEqual([]);
    expect(outcome.shortfall?.reason).toBe('HostCapacityExhausted');
    expect(outcome.shortfall?.detail).toContain('cpu');
    expect((await serviceContainers(SERVICE)).length).toBe(1);
  });
});
