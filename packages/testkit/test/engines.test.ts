// The multi-engine harness against the real thing: two dockerd engines in network namespaces,
// each its own image store and containers, a published port reached at the engine's address
// from the host and from the other engine, a two-node Swarm, and nothing left after stop() or
// after a run that died without stopping (its owner pid gone).
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cleanupStaleEngines,
  ENGINE_STATE_ROOT,
  type EngineCluster,
  startEngines,
} from '../src/engines/index.js';
import { waitFor } from '../src/wait-for.js';

const IMAGE = 'headroom/backend:latest';

function leftovers(cluster: EngineCluster): string[] {
  const found: string[] = [];
  const ns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  for (const e of cluster.engines) if (ns.includes(e.name)) found.push(`netns ${e.name}`);
  if (spawnSync('ip', ['link', 'show', cluster.bridge], { stdio: 'ignore' }).status === 0) {
    found.push(`bridge ${cluster.bridge}`);
  }
  const rules = spawnSync('iptables', ['-S', 'FORWARD'], { encoding: 'utf8' }).stdout;
  if (rules.includes(`-i ${cluster.bridge} `)) found.push('FORWARD rule');
  if (existsSync(join(ENGINE_STATE_ROOT, `c${cluster.id}`))) found.push('state dir');
  const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
  if (ps.includes(join(ENGINE_STATE_ROOT, `c${cluster.id}`, ''))) found.push('dockerd process');
  const mounts = spawnSync('cat', ['/proc/self/mounts'], { encoding: 'utf8' }).stdout;
  if (mounts.includes(join(ENGINE_STATE_ROOT, `c${cluster.id}/`))) found.push('mounts');
  return found;
}

describe('startEngines: two standalone engines', () => {
  let cluster: EngineCluster | undefined;
  afterAll(() => cluster?.stop());

  it('runs two separate engines, each with the image, reachable at their addresses', async () => {
    cluster = await startEngines({ count: 2, images: [IMAGE] });
    process.stdout.write(`standalone engines start-up ms ${JSON.stringify(cluster.timings)}\n`);
    const [a, b] = cluster.engines;
    if (!a || !b) throw new Error('two engines expected');
    expect(a.docker('info', '-f', '{{.ID}}')).not.toBe(b.docker('info', '-f', '{{.ID}}'));
    expect(a.docker('info', '-f', '{{.Name}}')).toBe(a.name);
    expect(b.docker('info', '-f', '{{.Name}}')).toBe(b.name);
    for (const e of cluster.engines)
      expect(e.docker('image', 'inspect', '-f', '{{.Id}}', IMAGE)).toMatch(/^sha256:/);

    a.docker('run', '-d', '--name', 'web', '-p', '3000:3000', '-e', 'INSTANCE_ID=on-a', IMAGE);
    // a container lives on its own engine only
    expect(b.docker('ps', '-q', '--filter', 'name=web')).toBe('');
    const body = await waitFor(
      async () =>
        (await fetch(`http://${a.address}:3000/health`)).ok &&
        (await fetch(`http://${a.address}:3000/load?ms=1`)).json(),
      { timeoutMs: 30_000, intervalMs: 250, message: 'the published port at the engine address' },
    );
    expect((body as { instance: string }).instance).toBe('on-a');
    // engine to engine across the bridge (the FORWARD rule): a container on b reaches a's port
    const fromB = b.docker(
      'run',
      '--rm',
      '--entrypoint',
      'node',
      IMAGE,
      '-e',
      `fetch('http://${a.address}:3000/health').then(r => console.log(r.status))`,
    );
    expect(fromB).toBe('200');
  });

  it('kill() takes one engine down the way a host dies; the other keeps running', async () => {
    const [a, b] = cluster?.engines ?? [];
    if (!a || !b) throw new Error('two engines expected');
    a.kill();
    expect(a.running()).toBe(false);
    await expect(
      fetch(`http://${a.address}:3000/health`, { signal: AbortSignal.timeout(2000) }),
    ).rejects.toThrow();
    expect(b.running()).toBe(true);
    expect(b.docker('info', '-f', '{{.Name}}')).toBe(b.name);
  });

  it('stop() leaves nothing behind', () => {
    if (!cluster) throw new Error('no cluster');
    cluster.stop();
    expect(leftovers(cluster)).toEqual([]);
  });
});

describe('startEngines: a two-node Swarm', () => {
  let cluster: EngineCluster | undefined;
  afterAll(() => cluster?.stop());

  it('joins a manager and a worker; an overlay service spans both nodes', async () => {
    cluster = await startEngines({ count: 2, swarm: true, images: [IMAGE] });
    process.stdout.write(`swarm engines start-up ms ${JSON.stringify(cluster.timings)}\n`);
    const [manager, worker] = cluster.engines;
    if (!manager || !worker) throw new Error('two engines expected');
    expect(manager.docker('node', 'ls', '--format', '{{.Hostname}} {{.Status}}').split('\n').sort()).toEqual([
      `${manager.name} Ready`,
      `${worker.name} Ready`,
    ]);
    manager.docker('network', 'create', '-d', 'overlay', '--attachable', 'net');
    manager.docker(
      'service',
      'create',
      '--no-resolve-image',
      '-d',
      '--name',
      'web',
      '--network',
      'net',
      '--replicas',
      '2',
      '--replicas-max-per-node',
      '1',
      '--endpoint-mode',
      'dnsrr',
      IMAGE,
    );
    await waitFor(
      () =>
        manager.docker('service', 'ps', '-q', '--filter', 'desired-state=running', 'web').split('\n')
          .length === 2 &&
        manager
          .docker('service', 'ps', '--format', '{{.CurrentState}}', 'web')
          .split('\n')
          .every((s) => s.startsWith('Running')),
      { timeoutMs: 90_000, intervalMs: 500, message: 'two running tasks' },
    );
    const nodes = manager.docker('service', 'ps', '--format', '{{.Node}}', 'web').split('\n').sort();
    expect(nodes).toEqual([manager.name, worker.name]);
  });
});

describe('cleanupStaleEngines', () => {
  it('removes a cluster whose owner process died, engines running', async () => {
    const cluster = await startEngines({ count: 1 });
    const dead = spawnSync('true').pid;
    // what a SIGKILLed test run leaves: the engines up, the owner gone
    writeFileSync(join(ENGINE_STATE_ROOT, `c${cluster.id}`, 'owner'), String(dead));
    expect(cluster.engines[0]?.running()).toBe(true);
    expect(cleanupStaleEngines()).toContain(cluster.id);
    expect(leftovers(cluster)).toEqual([]);
  });
});
