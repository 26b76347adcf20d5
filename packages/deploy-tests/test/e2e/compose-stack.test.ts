// The compose stack end to end on the real engine, with Debian's docker-compose (else the v2
// plugin), the offline images, and Prometheus/node-exporter built from Debian's binaries.
// Grafana and cAdvisor have no offline image and are left out (docs/deploy.md says so).
// /load through the balancer answers from several replicas; the mode switches through the
// admin API (token required); Prometheus has every replica up; sustained load makes the
// autoscaler add a replica that then serves traffic; `down` leaves nothing behind.
import { execFileSync, spawnSync } from 'node:child_process';
import { LB_LABELS, OWNER_LABELS } from '@headroom/shared';
import { removeLabelled, requireDocker, waitFor } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeCommand } from '../../src/compose-command.js';
import { repoPath } from '../../src/repo-files.js';
import { type StackEnv, stackEnv } from '../../src/stack-env.js';

const SERVICES = ['load-balancer', 'autoscaler', 'backend', 'prometheus', 'node-exporter'];
const [cli, ...cliArgs] = composeCommand();
let stack: StackEnv;

function compose(...args: string[]): string {
  const res = spawnSync(
    cli,
    [
      ...cliArgs,
      '-f',
      repoPath('deploy/docker-compose.yml'),
      '--env-file',
      repoPath('deploy/.env.example'),
      ...args,
    ],
    { encoding: 'utf8', env: { ...process.env, ...stack.env } },
  );
  if (res.status !== 0) throw new Error(`compose ${args.join(' ')} failed:\n${res.stderr}`);
  return res.stdout;
}

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

const lines = (s: string) => s.split('\n').filter(Boolean);
const backendContainers = () =>
  lines(
    docker(
      'ps',
      '-q',
      '--filter',
      `label=${LB_LABELS.service}=${stack.service}`,
      '--filter',
      'status=running',
    ),
  );
const ownedContainers = () =>
  lines(docker('ps', '-aq', '--filter', `label=${OWNER_LABELS.service}=${stack.service}`));

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

function logsOnFailure(): string {
  try {
    return compose('logs', '--no-color', '--tail', '40');
  } catch (err) {
    return String(err);
  }
}

describe('deploy/docker-compose.yml end to end', () => {
  beforeAll(async () => {
    requireDocker();
    execFileSync('bash', [repoPath('deploy/build-images.sh')], { stdio: 'inherit' });
    stack = await stackEnv({
      BACKEND_CPUS: '0.25',
      MIN_REPLICAS: '2',
      MAX_REPLICAS: '3',
      TARGET_CPU_UTILIZATION: '0.4',
      AUTOSCALER_INTERVAL_MS: '2000',
      SCALE_DOWN_WINDOW_MS: '600000',
    });
    compose('up', '-d', ...SERVICES);
    await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${stack.ports.admin}/api/backends`);
        const body = (await res.json()) as { backends: Array<{ state: string }> };
        return body.backends.filter((b) => b.state === 'healthy').length >= 2;
      },
      { timeoutMs: 120_000, intervalMs: 1000, message: `two healthy backends\n${logsOnFailure()}` },
    );
  });

  afterAll(() => {
    if (!stack) return;
    try {
      compose('down', '-v', '--remove-orphans', '--timeout', '60');
    } finally {
      removeLabelled(OWNER_LABELS.service, stack.service);
      spawnSync('docker', ['network', 'rm', stack.network], { stdio: 'ignore' });
    }
  });

  it('answers /load through the balancer from several replicas', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) seen.add(await load());
    expect(seen.size).toBeGreaterThanOrEqual(2);
  });

  it('switches the balancing mode through the admin API, with the token only (both admin APIs)', async () => {
    const url = `http://127.0.0.1:${stack.ports.admin}/api/mode`;
    const put = (headers: Record<string, string>) =>
      fetch(url, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ mode: 'round-robin' }),
      });
    expect((await put({})).status).toBe(401);
    expect((await put({ authorization: `Bearer ${stack.token}` })).status).toBe(200);
    expect(((await (await fetch(url)).json()) as { mode: string }).mode).toBe('round-robin');
    // and traffic still flows in the new mode
    expect(await load()).toBeTruthy();
    // the autoscaler's admin API takes the same token
    const pause = `http://127.0.0.1:${stack.ports.autoscaler}/api/pause`;
    expect((await fetch(pause, { method: 'POST' })).status).toBe(401);
    const resume = await fetch(`http://127.0.0.1:${stack.ports.autoscaler}/api/resume`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.token}` },
    });
    expect(resume.status).toBe(200);
  });

  it('has a Prometheus target up for every replica', async () => {
    const up = await waitFor(
      async () => {
        const r = await prometheus(`up{job="headroom-backends",service="${stack.service}"}`);
        return r.length === backendContainers().length && r.every((s) => s.value[1] === '1') ? r : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000, message: 'every replica scraped' },
    );
    expect(up.length).toBe(2);
    for (const job of ['headroom-balancer', 'headroom-autoscaler', 'node-exporter']) {
      const r = await waitFor(
        async () => {
          const s = await prometheus(`up{job="${job}"}`);
          return s[0]?.value[1] === '1' ? s : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 1000, message: `${job} up` },
      );
      expect(r).toHaveLength(1);
    }
  });

  it('adds a replica under sustained load, which then serves traffic', async () => {
    let running = true;
    const seen = new Set<string>();
    const worker = async () => {
      while (running) {
        try {
          seen.add(await load(100));
        } catch {
          // a refused request while a replica joins is not what this test measures
        }
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    try {
      const replica = await waitFor(
        () => {
          const owned = ownedContainers();
          return owned.length > 0
            ? docker('inspect', '-f', '{{.Name}}', owned[0] as string).replace(/^\//, '')
            : undefined;
        },
        {
          timeoutMs: 180_000,
          intervalMs: 1000,
          message: `the autoscaler adds a replica\n${logsOnFailure()}`,
        },
      );
      expect(replica).toBe(`${stack.service}-1`);
      await waitFor(() => seen.has(replica), {
        timeoutMs: 90_000,
        intervalMs: 500,
        message: `${replica} serves traffic`,
      });
      const scraped = await waitFor(
        async () => {
          const r = await prometheus(`up{job="headroom-backends",replica="${replica}"}`);
          return r[0]?.value[1] === '1' ? r : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 1000, message: `${replica} scraped` },
      );
      expect(scraped).toHaveLength(1);
    } finally {
      running = false;
      await Promise.all(workers);
    }
  });

  it('leaves nothing behind after down', () => {
    compose('down', '-v', '--remove-orphans', '--timeout', '60');
    expect(
      lines(docker('ps', '-aq', '--filter', `label=com.docker.compose.project=${stack.project}`)),
    ).toEqual([]);
    expect(ownedContainers()).toEqual([]);
    expect(lines(docker('network', 'ls', '-q', '--filter', `name=^${stack.network}$`))).toEqual([]);
    expect(
      lines(docker('volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${stack.project}`)),
    ).toEqual([]);
  });
});
