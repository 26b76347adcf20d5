// Scale to zero on the real Docker engine (issue #19): a sleep stops the last replica but keeps
// its container, a reap leaves it while the service sleeps, a wake starts that same container
// (and creates more when more are asked), and a new observer and actor over the same engine (an
// autoscaler restarted while the service slept) finds it and wakes it.
import { randomBytes } from 'node:crypto';
import { createLogger, LB_LABELS } from '@headroom/shared';
import {
  ensureBaseImage,
  removeRun,
  removeServiceContainers,
  requireDocker,
  runGaugeReplica,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFromAddress } from '../src/clients/docker-engines.js';
import { dockerParts } from './docker-parts.js';
import { docker, serviceContainers } from './fixtures.js';

const run = randomBytes(4).toString('hex');
const SERVICE = `as-zz-${run}`;
const logger = createLogger({ service: 'autoscaler-test', level: 'warn' });

beforeAll(() => {
  requireDocker();
  ensureBaseImage();
});

afterAll(() => {
  removeRun(run);
  removeServiceContainers(SERVICE);
});

function runtime(keepOneOnSleep: boolean) {
  return dockerParts({
    service: SERVICE,
    engines: [engineFromAddress('unix:///var/run/docker.sock')],
    placement: { cpuOvercommit: 64, memoryReserve: 0, diskReserve: 0 },
    fallback: {},
    stopGraceSeconds: 1,
    logger,
    keepOneOnSleep,
  });
}

async function states() {
  return (await serviceContainers(SERVICE)).map((c) => ({
    id: c.Id,
    name: c.Names[0]!.slice(1),
    state: c.State,
  }));
}

describe('docker runtime: sleep and wake', () => {
  it('keeps one stopped container on sleep, reap leaves it, a new instance wakes it', async () => {
    // Two owned replicas copied from a template container, which then goes (a sleep can only
    // stop replicas this autoscaler owns).
    // The template carries an idle window label; replicas copy it and the records report it.
    const template = runGaugeReplica({
      run,
      service: SERVICE,
      name: `${SERVICE}-tpl`,
      labels: { [LB_LABELS.idleAfter]: '4321' },
    });
    const rt = runtime(true);
    const up = await rt.scaleTo(3); // the template counts as one
    expect(up.added).toEqual([`${SERVICE}-1`, `${SERVICE}-2`]);
    template.remove();
    await waitFor(async () => (await rt.list()).filter((r) => r.state === 'running').length === 2, {
      timeoutMs: 20_000,
      message: 'two replicas running',
    });

    const slept = await rt.sleep();
    expect(slept.shortfall).toBeUndefined();
    expect(slept.removed.sort()).toEqual([`${SERVICE}-1`, `${SERVICE}-2`]);
    const asleep = await states();
    expect(asleep).toHaveLength(1);
    expect(asleep[0]).toMatchObject({ name: `${SERVICE}-1`, state: 'exited' });
    const keptId = asleep[0]!.id;

    expect(await rt.reap()).toEqual([]);
    expect((await states()).map((s) => s.id)).toEqual([keptId]);

    // An autoscaler restarted while the service sleeps: nothing but the engine's state tells.
    const fresh = runtime(true);
    const seen = await fresh.list();
    expect(seen.map((r) => [r.state, r.idleAfter])).toEqual([['exited', '4321']]);
    expect(await fresh.reap()).toEqual([]);
    const woke = await fresh.scaleTo(2);
    expect(woke.shortfall).toBeUndefined();
    expect(woke.added).toEqual([`${SERVICE}-1`, `${SERVICE}-2`]);
    const awake = await states();
    expect(awake.find((s) => s.id === keptId)?.state).toBe('running');
    expect(awake.filter((s) => s.state === 'running')).toHaveLength(2);
  }, 120_000);

  it('without scale to zero a scale to 0 removes every container and reap removes exited ones', async () => {
    const rt = runtime(false);
    const records = await rt.list();
    expect(records.filter((r) => r.state === 'running')).toHaveLength(2);
    await rt.scaleTo(1);
    const one = await rt.list();
    await docker.getContainer(one[0]!.id).stop({ t: 1 });
    expect(await rt.reap()).toHaveLength(1);
    expect(await states()).toEqual([]);
  }, 120_000);
});
