// Two standalone engines (each its own dockerd in a network namespace, reached over tcp:// like
// two hosts) and the balancer with DOCKER_HOSTS naming both: containers of both engines are
// discovered from each engine's events and served at their engine's address (published port);
// one engine killed: its backends are kept (health checks take them out), it is reported in
// /api/backends and headroom_lb_discovery_engine_up, and traffic goes on on the other engine.
// Prometheus with the config `node prometheus/engines.mjs` generates for the two engines (one
// docker_sd job per engine, targets rewritten to the engine's host and published port) passes
// promtool and scrapes the backend on each engine, with the labels the recording rules read.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  backendList,
  type EngineCluster,
  enginesRun,
  PROMTOOL_BIN,
  type RunningBalancer,
  type RunningPrometheus,
  runBackendReplica,
  startPrometheus,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoPath } from '../../src/repo-files.js';

const IMAGE = 'headroom/backend:latest';
const SERVICE = 'mn-web';
const engines = enginesRun('mn', { count: 2, images: [IMAGE] });
const RUN = engines.id;
let cluster: EngineCluster;
let lb: RunningBalancer | undefined;
let proxy = '';
let admin = '';
let adminPort = 0;

function runBackend(engine: EngineCluster['engines'][number], name: string): void {
  runBackendReplica({ run: RUN, service: SERVICE, name, docker: engine.docker });
}

const backends = () => backendList(admin);

async function instance(): Promise<string> {
  const res = await fetch(`${proxy}/load?ms=1`);
  if (!res.ok) throw new Error(`/load answered ${res.status}`);
  return ((await res.json()) as { instance: string }).instance;
}

beforeAll(async () => {
  cluster = await engines.start();
  runBackend(cluster.engines[0]!, 'web-a');
  lb = await engines.balancer(SERVICE, {
    // this test is about discovery and reachability, not shares: every healthy backend in turn
    BALANCER_MODE: 'round-robin',
    LOG_LEVEL: 'info',
  });
  ({ proxy, admin, adminPort } = lb);
}, 300_000);

afterAll(() => engines.end());

describe('the balancer over two standalone engines (DOCKER_HOSTS)', () => {
  it('discovers containers on both engines, each served at its engine address', async () => {
    // started after the balancer: found from engine b's events stream, not a first list
    runBackend(cluster.engines[1]!, 'web-b');
    const list = await waitFor(
      async () => {
        const l = await backends();
        return l.backends.filter((x) => x.state === 'healthy').length === 2 ? l : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, message: 'two healthy backends' },
    );
    const byName = Object.fromEntries(list.backends.map((x) => [x.name, new URL(x.url).hostname]));
    expect(byName).toEqual({ 'web-a': cluster.engines[0]!.address, 'web-b': cluster.engines[1]!.address });
    expect(list.engines?.map((e) => [e.engine, e.reachable, e.backends])).toEqual([
      [cluster.engines[0]!.tcpHost, true, 1],
      [cluster.engines[1]!.tcpHost, true, 1],
    ]);
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) seen.add(await instance());
    expect([...seen].sort()).toEqual(['web-a', 'web-b']);
  });

  it('Prometheus with the generated per-engine config scrapes the backend on each engine', async () => {
    const [a, b] = cluster.engines as [EngineCluster['engines'][number], EngineCluster['engines'][number]];
    let prom: RunningPrometheus | undefined;
    try {
      prom = await startPrometheus({
        config: (dir) => {
          // as a user runs it: DOCKER_HOSTS' comma syntax, the balancer where this test runs it
          const gen = spawnSync(
            process.execPath,
            [
              repoPath('prometheus/engines.mjs'),
              `${a.tcpHost},${b.tcpHost}`,
              '--balancer',
              `127.0.0.1:${adminPort}`,
            ],
            { encoding: 'utf8' },
          );
          expect(gen.stderr).toBe('');
          mkdirSync(join(dir, 'rules'));
          copyFileSync(
            repoPath('prometheus/rules/headroom.rules.yml'),
            join(dir, 'rules/headroom.rules.yml'),
          );
          writeFileSync(join(dir, 'prometheus.yml'), gen.stdout);
          const check = spawnSync(PROMTOOL_BIN, ['check', 'config', join(dir, 'prometheus.yml')], {
            encoding: 'utf8',
          });
          expect(check.stdout).toContain('is valid prometheus config file syntax');
          expect(check.stdout).toContain('SUCCESS: 1 rule files found');
          return gen.stdout;
        },
      });
      const query = prom.query;
      const up = await waitFor(
        async () => {
          const r = await query(`up{service="${SERVICE}"}`).catch(() => []);
          return r.length === 2 && r.every((x) => x.value[1] === '1') ? r : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 1000, message: "both engines' backends scraped" },
      );
      expect(
        up.map((x) => [x.metric.replica, x.metric.engine, x.metric.instance, x.metric.job]).sort(),
      ).toEqual([
        [
          'web-a',
          a.tcpHost,
          expect.stringMatching(new RegExp(`^${a.address.replace(/\./g, '\\.')}:\\d+$`)),
          `headroom-backends/${a.address}`,
        ],
        [
          'web-b',
          b.tcpHost,
          expect.stringMatching(new RegExp(`^${b.address.replace(/\./g, '\\.')}:\\d+$`)),
          `headroom-backends/${b.address}`,
        ],
      ]);
      // the recording rule the autoscaler reads has one series per replica, on both engines
      await waitFor(
        async () =>
          (await query(`headroom:replica_cpu_utilization:ratio{service="${SERVICE}"}`)).length === 2,
        { timeoutMs: 60_000, intervalMs: 1000, message: 'the CPU recording rule for both replicas' },
      );
      expect((await query('up{job="headroom-balancer"}'))[0]?.value[1]).toBe('1');
    } finally {
      await prom?.stop();
    }
  });

  it('one engine killed: reported unreachable with its last backends, traffic continues on the other', async () => {
    const [a, b] = cluster.engines as [EngineCluster['engines'][number], EngineCluster['engines'][number]];
    b.kill();
    const list = await waitFor(
      async () => {
        const l = await backends();
        const eb = l.engines?.find((e) => e.engine === b.tcpHost);
        return eb && !eb.reachable ? l : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, message: 'engine b reported unreachable' },
    );
    // kept, not dropped: the health checks decide
    expect(list.engines?.find((e) => e.engine === b.tcpHost)?.backends).toBe(1);
    expect(list.engines?.find((e) => e.engine === a.tcpHost)?.reachable).toBe(true);
    await waitFor(
      async () => (await backends()).backends.find((x) => x.name === 'web-b')?.state === 'unhealthy',
      { timeoutMs: 30_000, intervalMs: 250, message: 'web-b unhealthy by its health checks' },
    );
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    expect(metrics).toContain(`headroom_lb_discovery_engine_up{engine="${b.tcpHost}"} 0`);
    expect(metrics).toContain(`headroom_lb_discovery_engine_up{engine="${a.tcpHost}"} 1`);
    let failed = 0;
    for (let i = 0; i < 50; i++) {
      try {
        expect(await instance()).toBe('web-a');
      } catch {
        failed++;
      }
    }
    expect(failed).toBe(0);
    // engine a still discovers: a new container there joins
    runBackend(a, 'web-a2');
    await waitFor(
      async () => (await backends()).backends.find((x) => x.name === 'web-a2')?.state === 'healthy',
      { timeoutMs: 30_000, intervalMs: 250, message: 'web-a2 joins while b is down' },
    );
  });
});
