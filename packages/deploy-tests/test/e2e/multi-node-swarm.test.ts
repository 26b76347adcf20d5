// deploy/docker-stack.yml on a real two-node Swarm: two dockerd engines of the multi-engine
// harness (own network namespaces, one bridge) joined as a manager and a worker, the stack
// deployed on the manager with one test override (below). Load through the balancer reaches
// tasks on both nodes; the autoscaler scales the backend service out under load and back in
// with 0 failed requests, every removed task leaving the balancer's rotation within a second
// of the scale-in (the service update event) and before its container gets SIGTERM; the worker's engine killed like a dying host: its tasks leave
// rotation within the health-check fall time and traffic continues on the manager's tasks.
//
// The override, and why: the stack bind-mounts /var/run/docker.sock, which on this machine is
// the host's engine, not the harness manager's (every engine shares the host's filesystem), so
// the balancer, the autoscaler and Prometheus get the manager's socket instead (as root: that
// socket is root's). The balancer runs with RETRIES=0, so a request sent to a task that has
// stopped fails and is counted instead of being retried on another; HEALTH_INTERVAL_MS=1000
// keeps the fall time short. Grafana has no offline image: replicas 0.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendEventsSchema, backendListSchema } from '@headroom/shared';
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
const TOKEN = randomBytes(24).toString('hex');
const HEALTH_INTERVAL_MS = 1000;
const HEALTH_TIMEOUT_MS = 1000; // the balancer's default
const HEALTH_FALL = 2; // the balancer's default
const IMAGES = [...PROJECT_IMAGES, 'headroom/prometheus:local', 'headroom/node-exporter:local'];

let cluster: EngineCluster | undefined;
let manager: Engine;
let worker: Engine;
let dir = '';
let proxy = '';
let admin = '';
let autoscaler = '';

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
  BACKEND_CPUS: '0.25',
  BACKEND_REPLICAS: '2',
  MIN_REPLICAS: '2',
  MAX_REPLICAS: '4',
  TARGET_CPU_UTILIZATION: '0.4',
  AUTOSCALER_INTERVAL_MS: '2000',
  SCALE_DOWN_WINDOW_MS: '15000',
  LOG_LEVEL: 'info',
};

const lines = (s: string) => s.split('\n').filter(Boolean);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function override(socket: string): string {
  const sock = (readOnly: boolean) =>
    `      - type: bind\n        source: ${socket}\n        target: /var/run/docker.sock\n        read_only: ${readOnly}\n`;
  return `version: "3.8"
services:
  load-balancer:
    user: "0:0"
    environment:
      RETRIES: "0"
      HEALTH_INTERVAL_MS: "${HEALTH_INTERVAL_MS}"
    volumes:
${sock(true)}  autoscaler:
    user: "0:0"
    volumes:
${sock(false)}  prometheus:
    user: "0:0"
    volumes:
${sock(true)}  grafana:
    deploy:
      replicas: 0
`;
}

/** Where each running backend task is (testkit runningTaskNodes). */
const taskNodes = () => runningTaskNodes(manager, BACKEND);

const replicasSpec = () =>
  Number(manager.docker('service', 'inspect', '-f', '{{.Spec.Mode.Replicated.Replicas}}', BACKEND));

async function backends() {
  return backendListSchema.parse(await (await fetch(`${admin}/api/backends`)).json());
}

function serviceLogs(): string {
  return ['load-balancer', 'autoscaler', 'prometheus', 'backend']
    .map((s) => {
      const res = spawnSync(
        'docker',
        ['-H', manager.unixHost, 'service', 'logs', '--tail', '25', `${STACK}_${s}`],
        {
          encoding: 'utf8',
        },
      );
      return `--- ${s}\n${res.stdout}${res.stderr}`;
    })
    .join('\n');
}

interface Load {
  ok: number;
  failed: number;
  failures: string[];
  byInstance: Map<string, number>;
  stop(): Promise<void>;
}

/** Closed-loop load: `workers` clients, each GET /load?ms=… then `pauseMs`, until stopped. */
function startLoad(workers: number, ms: number, pauseMs: number): Load {
  let running = true;
  const load: Load = {
    ok: 0,
    failed: 0,
    failures: [],
    byInstance: new Map(),
    stop: async () => {
      running = false;
      await done;
    },
  };
  const loop = async () => {
    while (running) {
      try {
        const res = await fetch(`${proxy}/load?ms=${ms}`, { signal: AbortSignal.timeout(15_000) });
        const body = await res.text();
        if (!res.ok) throw new Error(`${res.status} ${body.slice(0, 160)}`);
        const instance = (JSON.parse(body) as { instance: string }).instance;
        load.byInstance.set(instance, (load.byInstance.get(instance) ?? 0) + 1);
        load.ok++;
      } catch (err) {
        load.failed++;
        if (load.failures.length < 20)
          load.failures.push(`${new Date().toISOString()} ${(err as Error).message}`);
      }
      if (pauseMs > 0) await sleep(pauseMs);
    }
  };
  const done = Promise.all(Array.from({ length: workers }, loop));
  return load;
}

/** When each container of the backend service got its stop signal, by task id, on one engine. */
function killTimes(engine: Engine, sinceMs: number): Map<string, number> {
  const out = spawnSync(
    'docker',
    [
      '-H',
      engine.unixHost,
      'events',
      '--since',
      String(Math.floor(sinceMs / 1000)),
      '--until',
      String(Math.ceil(Date.now() / 1000) + 1),
      '--filter',
      'event=kill',
      '--filter',
      `label=com.docker.swarm.service.name=${BACKEND}`,
      '--format',
      '{{json .}}',
    ],
    { encoding: 'utf8', timeout: 30_000 },
  ).stdout;
  const times = new Map<string, number>();
  for (const l of lines(out ?? '')) {
    const ev = JSON.parse(l) as { timeNano: number; Actor: { Attributes: Record<string, string> } };
    const task = ev.Actor.Attributes['com.docker.swarm.task.id'];
    if (task && !times.has(task)) times.set(task, ev.timeNano / 1e6);
  }
  return times;
}

/** When the manager recorded each update of the backend service (a scale is one), since `sinceMs`. */
function serviceUpdates(sinceMs: number): number[] {
  const out = spawnSync(
    'docker',
    [
      '-H',
      manager.unixHost,
      'events',
      '--since',
      String(Math.floor(sinceMs / 1000)),
      '--until',
      String(Math.ceil(Date.now() / 1000) + 1),
      '--filter',
      'type=service',
      '--filter',
      'event=update',
      '--format',
      '{{json .}}',
    ],
    { encoding: 'utf8', timeout: 30_000 },
  ).stdout;
  return lines(out ?? '')
    .map((l) => JSON.parse(l) as { timeNano: number; Actor: { Attributes: Record<string, string> } })
    .filter((ev) => ev.Actor.Attributes.name === BACKEND)
    .map((ev) => ev.timeNano / 1e6);
}

beforeAll(async () => {
  // the balancer's Swarm discovery under test is the working tree's: rebuild its image
  const build = spawnSync('bash', [repoPath('deploy/build-images.sh')], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('deploy/build-images.sh failed');
  cluster = await startEngines({ count: 2, swarm: true, images: IMAGES });
  process.stdout.write(`two-node Swarm start-up ms ${JSON.stringify(cluster.timings)}\n`);
  [manager, worker] = cluster.engines as [Engine, Engine];
  dir = mkdtempSync(join(tmpdir(), 'hr-mn-swarm-'));
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
  proxy = `http://${manager.address}:${stackEnv.PROXY_PORT}`;
  admin = `http://${manager.address}:${stackEnv.ADMIN_PORT}`;
  autoscaler = `http://${manager.address}:${stackEnv.AUTOSCALER_PORT}`;
  await waitFor(
    async () => {
      const l = await backends();
      return l.backends.filter((b) => b.state === 'healthy').length === 2;
    },
    { timeoutMs: 180_000, intervalMs: 1000, message: 'two healthy backends' },
  ).catch((err) => {
    throw new Error(`${(err as Error).message}\n${serviceLogs()}`);
  });
}, 600_000);

afterAll(() => {
  cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('deploy/docker-stack.yml on a two-node Swarm', () => {
  const nodeOf = new Map<string, string>();

  it('load through the balancer reaches tasks on both nodes', async () => {
    for (const [task, node] of taskNodes()) nodeOf.set(task, node);
    expect(new Set(nodeOf.values())).toEqual(new Set([manager.name, worker.name]));
    const load = startLoad(2, 5, 0);
    await waitFor(() => new Set([...load.byInstance.keys()].map((i) => nodeOf.get(i))).size === 2, {
      timeoutMs: 20_000,
      intervalMs: 100,
      message: 'answers from both nodes',
    });
    await load.stop();
    expect(load.failed).toBe(0);
    // the balancer knows each task's node (GET /api/backends `node`: the node's hostname)
    const list = await backends();
    expect(Object.fromEntries(list.backends.map((b) => [b.name, b.node]))).toEqual(
      Object.fromEntries(nodeOf),
    );
  });

  it('the autoscaler scales out under load and back in, 0 failed requests; removed tasks leave rotation before SIGTERM', async () => {
    const heavy = startLoad(4, 100, 0);
    const light = { current: undefined as Load | undefined };
    const t0 = Date.now();
    try {
      await waitFor(() => replicasSpec() === 4, {
        timeoutMs: 150_000,
        intervalMs: 1000,
        message: 'the autoscaler sets 4 replicas',
      });
      const tOut = Date.now();
      await waitFor(
        () => {
          for (const [task, node] of taskNodes()) nodeOf.set(task, node);
          return taskNodes().size === 4 && [...taskNodes().keys()].every((t) => heavy.byInstance.has(t));
        },
        { timeoutMs: 90_000, intervalMs: 1000, message: 'every new task serves traffic' },
      );
      process.stdout.write(
        `scale-out: 4 replicas set after ${tOut - t0} ms of load, all 4 serving after ${Date.now() - t0} ms; tasks per node ${JSON.stringify(
          Object.fromEntries([...taskNodes()].map(([t, n]) => [t, n])),
        )}\n`,
      );
      // Swarm spreads a service's tasks: two on each node
      expect([...taskNodes().values()].sort()).toEqual([
        manager.name,
        manager.name,
        worker.name,
        worker.name,
      ]);
      await heavy.stop();
      // light load all through the scale-in: requests are in flight when Swarm stops tasks
      // (~15 requests/s of 1 ms: well under the target, so the autoscaler goes back to MIN_REPLICAS)
      light.current = startLoad(1, 1, 60);
      const tIn = Date.now();
      const seqBefore = Math.max(
        0,
        ...backendEventsSchema
          .parse(await (await fetch(`${admin}/api/events`)).json())
          .events.map((e) => e.seq),
      );
      await waitFor(() => replicasSpec() === 2, {
        timeoutMs: 120_000,
        intervalMs: 1000,
        message: 'the autoscaler sets 2 replicas again',
      }).catch(async (err) => {
        const decisions = await (await fetch(`${autoscaler}/api/decisions?limit=5`)).text();
        throw new Error(`${(err as Error).message}\nlast decisions: ${decisions.slice(0, 3000)}`);
      });
      await waitFor(async () => (await backends()).backends.length === 2 && taskNodes().size === 2, {
        timeoutMs: 60_000,
        intervalMs: 500,
        message: 'two tasks left',
      });
      // past the removed tasks' SIGTERM and exit
      await sleep(5_000);
      await light.current.stop();
      const left = backendEventsSchema
        .parse(await (await fetch(`${admin}/api/events?since=${seqBefore}`)).json())
        .events.filter((e) => e.to === 'removed');
      const kills = new Map([...killTimes(manager, tIn), ...killTimes(worker, tIn)]);
      const updates = serviceUpdates(tIn);
      const margins = left.map((e) => {
        const kill = [...kills].find(([task]) => task.startsWith(e.id))?.[1];
        const update = Math.max(...updates.filter((u) => u <= e.at));
        return {
          task: e.name,
          leftRotationMsAfterScaleIn: Number.isFinite(update) ? Math.round(e.at - update) : null,
          leftRotationMsBeforeSigterm: kill === undefined ? null : Math.round(kill - e.at),
        };
      });
      process.stdout.write(
        `scale-in: ${JSON.stringify(margins)}; requests ok ${heavy.ok}+${light.current.ok}, failed ${heavy.failed}+${light.current.failed}\n`,
      );
      expect([...heavy.failures, ...light.current.failures]).toEqual([]);
      expect(left).toHaveLength(2);
      for (const m of margins) {
        expect(m.leftRotationMsBeforeSigterm).toBeGreaterThan(0);
        // from the manager's events, not a poll: out within a second of the scale-in itself
        expect(m.leftRotationMsAfterScaleIn).toBeLessThan(1000);
      }
    } finally {
      await heavy.stop();
      await light.current?.stop();
    }
  });

  it("one worker's engine killed: its tasks leave rotation within the fall time, traffic continues", async () => {
    const onWorker = [...taskNodes()].filter(([, node]) => node === worker.name).map(([task]) => task);
    expect(onWorker.length).toBeGreaterThan(0);
    const load = startLoad(2, 5, 20);
    try {
      await sleep(2_000);
      const t0 = Date.now();
      worker.kill();
      await waitFor(
        async () =>
          (await backends()).backends.every((b) => !onWorker.includes(b.name) || b.state !== 'healthy'),
        { timeoutMs: 30_000, intervalMs: 100, message: "the worker's tasks leave rotation" },
      );
      const outMs = Date.now() - t0;
      const [okBefore, failedBefore] = [load.ok, load.failed];
      await sleep(5_000);
      const okAfter = load.ok - okBefore;
      const failedAfter = load.failed - failedBefore;
      process.stdout.write(
        `worker killed: its tasks ${JSON.stringify(onWorker)} out of rotation after ${outMs} ms (fall time ${HEALTH_FALL} x ${HEALTH_INTERVAL_MS} ms + ${HEALTH_TIMEOUT_MS} ms timeout); ${failedBefore} request(s) failed before, then ${okAfter} ok / ${failedAfter} failed in 5 s\n`,
      );
      expect(outMs).toBeLessThan(HEALTH_FALL * HEALTH_INTERVAL_MS + HEALTH_TIMEOUT_MS + 2_000);
      expect(failedAfter).toBe(0);
      expect(okAfter).toBeGreaterThan(20);
    } finally {
      await load.stop();
    }
  });
});
