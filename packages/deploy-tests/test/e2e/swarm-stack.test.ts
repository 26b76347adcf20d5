// deploy/docker-stack.yml on a single-node Swarm (`docker swarm init` when the engine is not in
// one; it leaves again afterwards): the offline images, Prometheus with Swarm discovery. Grafana
// has no offline image: its service is removed right after the deploy. /load from several
// tasks, mode switch, a Prometheus target per task, the autoscaler raising the service's
// replica count under load with the new task serving traffic, and `stack rm` leaving nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { removeLabelled, requireDocker, waitFor } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoPath } from '../../src/repo-files.js';
import { type StackEnv, stackEnv } from '../../src/stack-env.js';

let stack: StackEnv;
let initializedSwarm = false;
const exampleEnv = Object.fromEntries(
  [...readFileSync(repoPath('deploy/.env.example'), 'utf8').matchAll(/^([A-Z0-9_]+)=(.*)$/gm)].map((m) => [
    m[1] as string,
    m[2] as string,
  ]),
);

// no socket group id from the caller: the balancer and the autoscaler find it themselves
const { DOCKER_GID: _g, ...callerEnv } = process.env;

function docker(...args: string[]): string {
  return execFileSync('docker', args, {
    encoding: 'utf8',
    env: { ...callerEnv, ...exampleEnv, ...stack?.env },
  }).trim();
}

const lines = (s: string) => s.split('\n').filter(Boolean);
const backendService = () => `${stack.project}_backend`;
const runningTasks = () =>
  lines(docker('service', 'ps', '-q', '--filter', 'desired-state=running', backendService()));

async function load(ms = 20): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${stack.ports.proxy}/load?ms=${ms}`);
  if (!res.ok) throw new Error(`/load answered ${res.status}`);
  return ((await res.json()) as { instance: string }).instance;
}

async function prometheus(
  promql: string,
): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(
    `http://127.0.0.1:${stack.ports.prometheus}/api/v1/query?query=${encodeURIComponent(promql)}`,
  );
  return ((await res.json()) as { data: { result: [] } }).data.result;
}

function serviceLogs(): string {
  const out: string[] = [];
  for (const svc of ['load-balancer', 'autoscaler', 'prometheus', 'backend']) {
    const res = spawnSync('docker', ['service', 'logs', '--tail', '20', `${stack.project}_${svc}`], {
      encoding: 'utf8',
    });
    out.push(`--- ${svc}\n${res.stdout}${res.stderr}`);
  }
  return out.join('\n');
}

describe('deploy/docker-stack.yml on a single-node Swarm', () => {
  beforeAll(async () => {
    requireDocker();
    execFileSync('bash', [repoPath('deploy/build-images.sh')], { stdio: 'inherit' });
    const state = execFileSync('docker', ['info', '-f', '{{.Swarm.LocalNodeState}}'], {
      encoding: 'utf8',
    }).trim();
    if (state !== 'active') {
      execFileSync(
        'docker',
        ['swarm', 'init', '--advertise-addr', process.env.SWARM_ADVERTISE_ADDR ?? '127.0.0.1'],
        {
          stdio: 'ignore',
        },
      );
      initializedSwarm = true;
    }
    stack = await stackEnv({
      BACKEND_CPUS: '0.25',
      MIN_REPLICAS: '2',
      MAX_REPLICAS: '3',
      TARGET_CPU_UTILIZATION: '0.4',
      AUTOSCALER_INTERVAL_MS: '2000',
      SCALE_DOWN_WINDOW_MS: '600000',
    });
    docker(
      'stack',
      'deploy',
      '--resolve-image',
      'never',
      '-c',
      repoPath('deploy/docker-stack.yml'),
      stack.project,
    );
    docker('service', 'rm', `${stack.project}_grafana`);
    await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${stack.ports.admin}/api/backends`);
        const body = (await res.json()) as { backends: Array<{ state: string }> };
        return body.backends.filter((b) => b.state === 'healthy').length >= 2;
      },
      { timeoutMs: 180_000, intervalMs: 2000, message: 'two healthy backends' },
    ).catch((err) => {
      throw new Error(`${(err as Error).message}\n${serviceLogs()}`);
    });
  });

  afterAll(async () => {
    if (stack) {
      spawnSync('docker', ['stack', 'rm', stack.project], { stdio: 'ignore' });
      await waitFor(
        () =>
          lines(docker('ps', '-aq', '--filter', `label=com.docker.stack.namespace=${stack.project}`))
            .length === 0 &&
          lines(
            docker('network', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${stack.project}`),
          ).length === 0,
        { timeoutMs: 120_000, intervalMs: 1000, message: 'stack removed' },
      ).catch(() => removeLabelled('com.docker.stack.namespace', stack.project));
      spawnSync('docker', ['volume', 'rm', `${stack.project}_prometheus-data`], { stdio: 'ignore' });
    }
    if (initializedSwarm) execFileSync('docker', ['swarm', 'leave', '--force'], { stdio: 'ignore' });
  });

  it('answers /load through the balancer from several tasks', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) seen.add(await load());
    expect(seen.size).toBeGreaterThanOrEqual(2);
    for (const instance of seen) expect(instance).toMatch(new RegExp(`^${backendService()}\\.\\d+$`));
  });

  it("runs the balancer and the autoscaler as node with this host's socket group", () => {
    const socketGid = statSync('/var/run/docker.sock').gid;
    for (const svc of ['load-balancer', 'autoscaler']) {
      const [id] = lines(
        docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${stack.project}_${svc}`),
      );
      expect(id, svc).toBeDefined();
      // started as root (the stack's `user: root`); pid 1 is the service after its drop
      const status = docker('exec', id as string, 'cat', '/proc/1/status');
      expect(status, svc).toMatch(/^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
      const groups = (status.match(/^Groups:\s*(.*)$/m)?.[1] ?? '').trim().split(/\s+/).map(Number);
      expect(groups, svc).toContain(socketGid);
    }
  });

  it('switches the balancing mode through the admin API', async () => {
    const url = `http://127.0.0.1:${stack.ports.admin}/api/mode`;
    const res = await fetch(url, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.token}` },
      body: JSON.stringify({ mode: 'least-connections' }),
    });
    expect(res.status).toBe(200);
    expect(((await (await fetch(url)).json()) as { mode: string }).mode).toBe('least-connections');
  });

  it('has a Prometheus target up for every task', async () => {
    const up = await waitFor(
      async () => {
        const r = await prometheus(`up{job="headroom-backends",service="${backendService()}"}`);
        return r.length === runningTasks().length && r.every((s) => s.value[1] === '1') ? r : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1000, message: 'every task scraped' },
    );
    expect(up.map((s) => s.metric.replica).sort()).toEqual([
      `${backendService()}.1`,
      `${backendService()}.2`,
    ]);
    for (const job of ['headroom-balancer', 'headroom-autoscaler', 'node-exporter']) {
      await waitFor(async () => (await prometheus(`up{job="${job}"}`))[0]?.value[1] === '1', {
        timeoutMs: 60_000,
        intervalMs: 1000,
        message: `${job} up`,
      });
    }
  });

  it('scales the backend service up under sustained load; the new task serves traffic', async () => {
    let running = true;
    const seen = new Set<string>();
    const worker = async () => {
      while (running) {
        try {
          seen.add(await load(100));
        } catch {
          // refused while a task joins: not what this test measures
        }
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    try {
      await waitFor(
        () =>
          docker('service', 'inspect', '-f', '{{.Spec.Mode.Replicated.Replicas}}', backendService()) === '3',
        { timeoutMs: 180_000, intervalMs: 1000, message: 'the autoscaler sets 3 replicas' },
      );
      await waitFor(() => seen.has(`${backendService()}.3`), {
        timeoutMs: 120_000,
        intervalMs: 500,
        message: 'the new task serves traffic',
      });
    } finally {
      running = false;
      await Promise.all(workers);
    }
  });

  it('leaves nothing behind after stack rm', async () => {
    docker('stack', 'rm', stack.project);
    await waitFor(
      () =>
        lines(docker('ps', '-aq', '--filter', `label=com.docker.stack.namespace=${stack.project}`)).length ===
          0 && lines(docker('network', 'ls', '-q', '--filter', `name=^${stack.network}$`)).length === 0,
      { timeoutMs: 120_000, intervalMs: 1000, message: 'stack containers and network gone' },
    );
    expect(
      lines(docker('service', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${stack.project}`)),
    ).toEqual([]);
    // stack rm keeps volumes (docs/deploy.md): the data volume is the one thing to remove by hand.
    docker('volume', 'rm', `${stack.project}_prometheus-data`);
    expect(
      lines(docker('volume', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${stack.project}`)),
    ).toEqual([]);
  });
});
