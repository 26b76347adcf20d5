// Per-node load on a real two-node Swarm (issue 18, 5(c)): a task on a node whose CPU is taken
// by something else gets a smaller share. deploy/docker-stack.yml on two harness engines, each
// engine's containers pinned to its own core (startEngines cpusets: the engines share this
// machine's two cores, so unpinned a "busy node" would slow both nodes alike), one backend
// task per node with a whole core each (BACKEND_CPUS=1), and two CPU hogs started on the
// worker's core. Two balancers watch the same tasks: the stack's own (its signals: latency,
// in-flight, the task's /metrics) and a second one with NODE_CPU_QUERY (the node's CPU from
// node-exporter through the stack's Prometheus). Shares are measured one balancer at a time.
//
// The query picks each node's own core: every node-exporter here reads the same kernel, so
// node = the core its engine is pinned to (a real node's query is the one in the README).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendListSchema } from '@headroom/shared';
import {
  type Engine,
  type EngineCluster,
  PROJECT_IMAGES,
  runningTaskNodes,
  startEngines,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoPath } from '../../src/repo-files.js';

const STACK = 'hr';
const BACKEND = `${STACK}_backend`;
const IMAGE = 'headroom/backend:latest';
const TOKEN = randomBytes(24).toString('hex');
const IMAGES = [...PROJECT_IMAGES, 'headroom/prometheus:local', 'headroom/node-exporter:local'];

let cluster: EngineCluster | undefined;
let manager: Engine;
let worker: Engine;
let dir = '';
const balancers = { plain: { proxy: '', admin: '' }, node: { proxy: '', admin: '' } };

const exampleEnv = Object.fromEntries(
  [...readFileSync(repoPath('deploy/.env.example'), 'utf8').matchAll(/^([A-Z0-9_]+)=(.*)$/gm)].map((m) => [
    m[1] as string,
    m[2] as string,
  ]),
);
const stackEnv: Record<string, string> = {
  ...exampleEnv,
  STACK_NAME: STACK,
  ADMIN_TOKEN: TOKEN,
  GRAFANA_ADMIN_PASSWORD: 'unused',
  PROMETHEUS_IMAGE: 'headroom/prometheus:local',
  NODE_EXPORTER_IMAGE: 'headroom/node-exporter:local',
  BACKEND_CPUS: '1',
  BACKEND_REPLICAS: '2',
  LOG_LEVEL: 'info',
};

function nodeQuery(): string {
  const busy = (node: string, cpu: string) =>
    `1 - rate(node_cpu_seconds_total{mode="idle",cpu="${cpu}",node="${node}"}[15s])`;
  return `${busy(manager.name, '0')} or ${busy(worker.name, '1')}`;
}

function override(socket: string): string {
  const sock = (readOnly: boolean) =>
    `      - type: bind\n        source: ${socket}\n        target: /var/run/docker.sock\n        read_only: ${readOnly}\n`;
  return `version: "3.8"
services:
  load-balancer:
    user: "0:0"
    volumes:
${sock(true)}  load-balancer-node:
    image: headroom/load-balancer:latest
    user: "0:0"
    ports:
      - { target: 8080, published: 8090, mode: host }
      - { target: 8081, published: 8091, mode: host }
    environment:
      DISCOVERY: swarm
      DOCKER_NETWORK: headroom
      ADMIN_TOKEN: ${JSON.stringify(TOKEN)}
      PROMETHEUS_URL: http://prometheus:9090
      NODE_CPU_QUERY: ${JSON.stringify(nodeQuery())}
      LOG_LEVEL: info
    volumes:
${sock(true)}    networks: [headroom]
    deploy:
      replicas: 1
      endpoint_mode: dnsrr
      placement:
        constraints: [node.role == manager]
  autoscaler:
    deploy:
      replicas: 0
  prometheus:
    user: "0:0"
    volumes:
${sock(true)}  grafana:
    deploy:
      replicas: 0
`;
}

/** Where each running backend task is (testkit runningTaskNodes). */
const taskNodes = () => runningTaskNodes(manager, BACKEND);

async function backends(admin: string) {
  return backendListSchema.parse(await (await fetch(`${admin}/api/backends`)).json());
}

/** Closed-loop load for `ms` ms: the share of answers from each task, and failures. */
async function share(proxy: string, durationMs: number, workers: number, burnMs: number) {
  const by = new Map<string, number>();
  let failed = 0;
  const end = Date.now() + durationMs;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (Date.now() < end) {
        try {
          const res = await fetch(`${proxy}/load?ms=${burnMs}`, { signal: AbortSignal.timeout(15_000) });
          const body = (await res.json()) as { instance: string };
          if (!res.ok) throw new Error(String(res.status));
          by.set(body.instance, (by.get(body.instance) ?? 0) + 1);
        } catch {
          failed++;
        }
      }
    }),
  );
  const total = [...by.values()].reduce((a, b) => a + b, 0);
  return { by, total, failed };
}

beforeAll(async () => {
  const build = spawnSync('bash', [repoPath('deploy/build-images.sh')], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('deploy/build-images.sh failed');
  cluster = await startEngines({ count: 2, swarm: true, images: IMAGES, cpusets: ['0', '1'] });
  [manager, worker] = cluster.engines as [Engine, Engine];
  dir = mkdtempSync(join(tmpdir(), 'hr-mn-load-'));
  writeFileSync(join(dir, 'override.yml'), override(manager.unixHost.slice('unix://'.length)));
  const deploy = spawnSync(
    'docker',
    [
      '-H',
      manager.unixHost,
      'stack',
      'deploy',
      '--resolve-image',
      'never',
      '-c',
      repoPath('deploy/docker-stack.yml'),
      '-c',
      join(dir, 'override.yml'),
      STACK,
    ],
    { encoding: 'utf8', env: { ...process.env, ...stackEnv } },
  );
  if (deploy.status !== 0) throw new Error(`stack deploy failed: ${deploy.stderr}`);
  balancers.plain = {
    proxy: `http://${manager.address}:${stackEnv.PROXY_PORT}`,
    admin: `http://${manager.address}:${stackEnv.ADMIN_PORT}`,
  };
  balancers.node = { proxy: `http://${manager.address}:8090`, admin: `http://${manager.address}:8091` };
  for (const b of Object.values(balancers)) {
    await waitFor(
      async () => (await backends(b.admin)).backends.filter((x) => x.state === 'healthy').length === 2,
      { timeoutMs: 180_000, intervalMs: 1000, message: `two healthy backends at ${b.admin}` },
    );
  }
}, 600_000);

afterAll(() => {
  cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('per-node load on a two-node Swarm', () => {
  it('a task on a node whose CPU is taken by something else gets a smaller share', async () => {
    const nodes = taskNodes();
    expect([...nodes.values()].sort()).toEqual([manager.name, worker.name]);
    const onWorker = [...nodes].find(([, n]) => n === worker.name)?.[0] ?? '';
    const workerShare = (r: Awaited<ReturnType<typeof share>>) => (r.by.get(onWorker) ?? 0) / r.total;
    const figures: Record<string, unknown> = {};
    // warm both balancers up and take a baseline: both nodes idle
    for (const [name, b] of Object.entries(balancers)) {
      await share(b.proxy, 5_000, 4, 20);
      const r = await share(b.proxy, 15_000, 4, 20);
      figures[`${name}: idle nodes`] = {
        workerShare: workerShare(r).toFixed(3),
        total: r.total,
        failed: r.failed,
      };
    }
    // two hogs on the worker's core: its task gets about a third of it
    for (const i of [1, 2])
      worker.docker('run', '-d', '--name', `hog${i}`, '--entrypoint', 'node', IMAGE, '-e', 'for(;;){}');
    // the node balancer sees the worker node busy on its idle task
    await waitFor(
      async () => {
        const w = (await backends(balancers.node.admin)).backends.find((x) => x.name === onWorker);
        return w?.cpu !== null && w?.cpu !== undefined && w.cpu > 0.9;
      },
      { timeoutMs: 60_000, intervalMs: 1000, message: "the worker node's load on its task (NODE_CPU_QUERY)" },
    );
    const results: Record<string, number> = {};
    for (const [name, b] of Object.entries(balancers)) {
      for (const [load, workers] of [
        ['4 clients', 4],
        ['1 client', 1],
      ] as const) {
        const r = await share(b.proxy, 15_000, workers, 20);
        results[`${name}, ${load}`] = workerShare(r);
        figures[`${name}: worker hogged, ${load}`] = {
          workerShare: workerShare(r).toFixed(3),
          total: r.total,
          failed: r.failed,
        };
      }
    }
    const view = await backends(balancers.plain.admin);
    figures['plain balancer cpu of the worker task'] = view.backends.find((x) => x.name === onWorker)?.cpu;
    process.stdout.write(`per-node load: ${JSON.stringify(figures, null, 1)}\n`);
    for (const v of Object.values(results)) expect(v).toBeLessThan(0.4);
  });
});
