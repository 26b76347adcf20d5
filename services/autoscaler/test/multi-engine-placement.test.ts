// Placement across two real engines (each its own dockerd in a network namespace, reached over
// tcp:// like two hosts): the runtime observes both engines' capacity once, the pure plan puts
// fewer replicas on the engine a CPU hog has booked, a replica on the other engine than its
// template joins only the networks that engine has and publishes its port, and each answers
// at its engine's address. Then one engine dies: it is reported unreachable and scaling goes on
// on the other.
import { createLogger } from '@headroom/shared';
import {
  BASE_IMAGE,
  type EngineCluster,
  ensureBaseImage,
  runGaugeReplica,
  startEngines,
  testRunId,
  waitFor,
} from '@headroom/testkit';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFromAddress } from '../src/clients/docker-engines.js';
import { dockerParts } from './docker-parts.js';

const SERVICE = 'as-me';
const logger = createLogger({ service: 'autoscaler-test', level: 'warn' });
let cluster: EngineCluster;
let a: Docker;
let b: Docker;
let rt: ReturnType<typeof dockerParts>;
let ids: [string, string];

beforeAll(async () => {
  ensureBaseImage();
  cluster = await startEngines({ count: 2, images: [BASE_IMAGE] });
  const [ea, eb] = cluster.engines;
  if (!ea || !eb) throw new Error('two engines');
  ids = [ea.tcpHost, eb.tcpHost];
  a = engineFromAddress(ea.tcpHost).docker;
  b = engineFromAddress(eb.tcpHost).docker;
  // The template lives on engine a, on a network only engine a has.
  await a.createNetwork({ Name: 'app' });
  runGaugeReplica({
    run: testRunId('as-me'),
    service: SERVICE,
    name: `${SERVICE}-template`,
    cpus: 0.5,
    network: 'app',
    docker: ea.docker,
  });
  // The "CPU hog" on engine b: a container that books 1.5 cores of limits (placement books limits).
  const hog = await b.createContainer({
    name: 'hog',
    Image: BASE_IMAGE,
    Cmd: ['node', '-e', 'setInterval(() => {}, 1000)'],
    HostConfig: { NanoCpus: 1_500_000_000 },
  });
  await hog.start();
  rt = dockerParts({
    service: SERVICE,
    engines: ids.map((id) => engineFromAddress(id, 3000)),
    placement: { cpuOvercommit: 2, memoryReserve: 0, diskReserve: 0 },
    fallback: {},
    stopGraceSeconds: 1,
    logger,
  });
}, 300_000);

afterAll(() => cluster?.stop());

async function answersAt(engine: Docker, address: string, name: string): Promise<string> {
  const info = await engine.getContainer(name).inspect();
  const port = info.NetworkSettings.Ports['3000/tcp']?.[0]?.HostPort;
  if (!port) throw new Error(`${name} publishes no port`);
  return waitFor(
    async () => ((await (await fetch(`http://${address}:${port}/`)).json()) as { instance: string }).instance,
    { timeoutMs: 20_000, intervalMs: 200, message: `${name} at ${address}:${port}` },
  );
}

describe('placement over two engines', () => {
  it('observes both engines once; the hogged engine gets fewer; every replica serves at its engine', async () => {
    const obs = await rt.observe();
    expect(obs.unreachable).toEqual([]);
    expect(obs.hosts.map((h) => [h.id, h.reachable, h.cpuBooked])).toEqual([
      [ids[0], true, 0.5],
      [ids[1], true, 1.5],
    ]);
    const outcome = await rt.scaleTo(5);
    expect(outcome.shortfall).toBeUndefined();
    expect(outcome.added).toHaveLength(4);
    const after = await rt.observe();
    const on = (id: string) => after.records.filter((r) => r.host === id && r.owned).map((r) => r.name);
    const [onA, onB] = [on(ids[0]), on(ids[1])];
    expect(onA.length + onB.length).toBe(4);
    expect(onB.length).toBeGreaterThan(0);
    expect(onB.length).toBeLessThan(onA.length);
    // b has no network "app": its replicas are on b's default bridge, port published
    for (const name of onB) {
      const info = await b.getContainer(name).inspect();
      expect(Object.keys(info.NetworkSettings.Networks)).toEqual(['bridge']);
      expect(await answersAt(b, cluster.engines[1]!.address, name)).toBe(name);
    }
    for (const name of onA) {
      const info = await a.getContainer(name).inspect();
      expect(Object.keys(info.NetworkSettings.Networks)).toEqual(['app']);
    }
  });

  it('one engine killed: reported unreachable, left out of placement, scaling continues on the other', async () => {
    cluster.engines[1]!.kill();
    const obs = await rt.observe();
    expect(obs.unreachable.map((u) => u.id)).toEqual([ids[1]]);
    expect(obs.hosts.map((h) => h.reachable)).toEqual([true, false]);
    expect(obs.records.every((r) => r.host === ids[0])).toBe(true);
    const active = obs.records.filter((r) => r.state !== 'exited').length;
    const outcome = await rt.scaleTo(active + 1);
    expect(outcome.shortfall).toBeUndefined();
    expect(outcome.added).toHaveLength(1);
    const created = outcome.added[0]!;
    expect((await a.getContainer(created).inspect()).State.Running).toBe(true);
  });
});
