// The compose stack end to end, as issue 17's "done when" says, on the real engine with
// Debian's docker-compose (else the v2 plugin): from no deploy/.env, `bash deploy/offline-prep.sh`
// (its last line is the base image), then `BASE_IMAGE=<it> docker-compose -f
// deploy/docker-compose.yml up -d --build <services>`, which builds the three project images
// through deploy/Dockerfile. Grafana and cAdvisor cannot be pulled here: `up` names the other
// services (docs/deploy.md says so), and Prometheus/node-exporter are the images offline-prep
// builds from Debian's binaries. The run gets its own project, network, service name and ports
// through the environment; no admin token is given: the balancer's generated one is read from
// its log line. Checks: every service healthy; /load from several replicas; the token from the
// log accepted by the balancer, the autoscaler and the dashboard's admin calls; Prometheus has
// every replica up; sustained load adds a replica that serves; an autoscaler restart under load
// keeps every replica and fails no request; a balancer restart keeps the token; `down` plus the
// documented command for the replicas leaves nothing behind.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LB_LABELS, OWNER_LABELS, OWNER_VALUE, replicaIndex } from '@headroom/shared';
import { removeLabelled, requireDocker, waitFor } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeCommand } from '../../src/compose-command.js';
import { repoPath } from '../../src/repo-files.js';
import { type StackEnv, stackEnv } from '../../src/stack-env.js';

const SERVICES = ['load-balancer', 'autoscaler', 'backend', 'prometheus', 'node-exporter'];
const [cli, ...cliArgs] = composeCommand();
let stack: StackEnv;
let envFileArgs: string[] = [];
let token = '';

// no secret from the caller's environment either: the stack generates them; and no socket group
// id: the balancer and the autoscaler find it themselves
const { ADMIN_TOKEN: _t, GRAFANA_ADMIN_PASSWORD: _p, DOCKER_GID: _g, ...callerEnv } = process.env;

function composeRun(...args: string[]) {
  return spawnSync(cli, [...cliArgs, '-f', repoPath('deploy/docker-compose.yml'), ...envFileArgs, ...args], {
    encoding: 'utf8',
    env: { ...callerEnv, ...stack.env },
    maxBuffer: 64 * 1024 * 1024,
  });
}

function compose(...args: string[]): string {
  const res = composeRun(...args);
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
const ownedContainers = (status?: string) =>
  lines(
    docker(
      'ps',
      '-aq',
      '--filter',
      `label=${OWNER_LABELS.managedBy}=${OWNER_VALUE}`,
      '--filter',
      `label=${OWNER_LABELS.service}=${stack.service}`,
      ...(status ? ['--filter', `status=${status}`] : []),
    ),
  ).sort();
const projectContainers = () =>
  lines(docker('ps', '-aq', '--filter', `label=com.docker.compose.project=${stack.project}`));

async function load(ms = 20): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${stack.ports.proxy}/load?ms=${ms}`);
  if (!res.ok) throw new Error(`/load answered ${res.status}`);
  return ((await res.json()) as { instance: string }).instance;
}

/** Closed-loop load from `n` workers until stopped; every failure is counted with its reason. */
function loadWorkers(n: number, ms: number) {
  let running = true;
  const seen = new Set<string>();
  const failures: string[] = [];
  let ok = 0;
  const worker = async () => {
    while (running) {
      try {
        seen.add(await load(ms));
        ok++;
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  const done = Promise.all(Array.from({ length: n }, worker));
  return {
    seen,
    failures,
    ok: () => ok,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

async function prometheus(
  promql: string,
): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(
    `http://127.0.0.1:${stack.ports.prometheus}/api/v1/query?query=${encodeURIComponent(promql)}`,
  );
  return ((await res.json()) as { data: { result: [] } }).data.result;
}

async function autoscalerStatus(): Promise<{ current: number; loop?: { lastTickAt: string | null } }> {
  const res = await fetch(`http://127.0.0.1:${stack.ports.autoscaler}/api/status`);
  if (!res.ok) throw new Error(`/api/status answered ${res.status}`);
  return (await res.json()) as { current: number; loop?: { lastTickAt: string | null } };
}

/** The balancer's log lines that carry the generated token (what the README tells users to grep). */
function tokenLogLines(): string[] {
  return compose('logs', '--no-color', 'load-balancer')
    .split('\n')
    .filter((l) => l.includes('admin token generated'));
}

function health(id: string): string {
  return docker('inspect', '-f', '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}', id);
}

function logsOnFailure(): string {
  try {
    return compose('logs', '--no-color', '--tail', '40');
  } catch (err) {
    return String(err);
  }
}

function adminPut(path: string, body: unknown, auth?: string) {
  return fetch(`http://127.0.0.1:${stack.ports.admin}${path}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
    body: JSON.stringify(body),
  });
}

describe('deploy/docker-compose.yml end to end, from no deploy/.env', () => {
  beforeAll(async () => {
    requireDocker();
    // the one documented preparation of an offline machine; its last line is the base image
    const prep = execFileSync('bash', [repoPath('deploy/offline-prep.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const baseImage = lines(prep).at(-1) as string;
    expect(baseImage).toBe('headroom/node-base:24');
    const settings = {
      BASE_IMAGE: baseImage,
      BACKEND_CPUS: '0.25',
      MIN_REPLICAS: '2',
      MAX_REPLICAS: '3',
      TARGET_CPU_UTILIZATION: '0.4',
      AUTOSCALER_INTERVAL_MS: '2000',
      SCALE_DOWN_WINDOW_MS: '600000',
      // the token line is a warning: it shows at this level too
      LOG_LEVEL: 'warn',
    };
    const isolated = async () => {
      const s = await stackEnv(settings);
      // no secret given: the stack generates them
      delete s.env.ADMIN_TOKEN;
      delete s.env.GRAFANA_ADMIN_PASSWORD;
      return s;
    };
    // A fresh clone has no deploy/.env. A developer's own one must not leak in: an empty env
    // file stands for it then.
    if (existsSync(repoPath('deploy/.env'))) {
      const empty = join(mkdtempSync(join(tmpdir(), 'headroom-e2e-')), 'empty.env');
      writeFileSync(empty, '');
      envFileArgs = ['--env-file', empty];
    }
    // The build takes minutes on this machine: free ports picked before it may be taken by then.
    // So the images are built first and `up -d --build` (all cache hits) gets fresh ports.
    stack = await isolated();
    compose('build', ...SERVICES.filter((s) => !['prometheus', 'node-exporter'].includes(s)));
    stack = await isolated();
    compose('up', '-d', '--build', ...SERVICES);
    await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${stack.ports.admin}/api/backends`);
        const body = (await res.json()) as { backends: Array<{ state: string }> };
        return body.backends.filter((b) => b.state === 'healthy').length >= 2;
      },
      { timeoutMs: 180_000, intervalMs: 1000, message: `two healthy backends\n${logsOnFailure()}` },
    );
  });

  afterAll(() => {
    if (!stack) return;
    try {
      composeRun('down', '-v', '--remove-orphans', '--timeout', '60');
    } finally {
      removeLabelled(OWNER_LABELS.service, stack.service);
      composeRun('down', '-v', '--remove-orphans', '--timeout', '10');
      spawnSync('docker', ['network', 'rm', stack.network], { stdio: 'ignore' });
    }
  });

  it('brings up the balancer, the autoscaler, the backends, Prometheus and node-exporter healthy', async () => {
    const states = await waitFor(
      () => {
        const ids = projectContainers();
        const s = ids.map((id) => `${docker('inspect', '-f', '{{.Name}}', id)} ${health(id)}`);
        return ids.length === SERVICES.length + 1 && s.every((x) => x.endsWith('running healthy'))
          ? s
          : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000, message: `every service healthy\n${logsOnFailure()}` },
    );
    expect(states).toHaveLength(6); // backend is scaled to 2
    // the project images were built here, from deploy/Dockerfile on the offline base
    for (const svc of ['load-balancer', 'autoscaler', 'backend'])
      expect(docker('image', 'inspect', '-f', '{{.Config.User}}', `headroom/${svc}:latest`)).toBe('node');
  });

  it("runs the balancer and the autoscaler as node with this host's socket group, no DOCKER_GID given", () => {
    expect(stack.env.DOCKER_GID).toBeUndefined();
    const socketGid = statSync('/var/run/docker.sock').gid;
    for (const svc of ['load-balancer', 'autoscaler']) {
      // started as root (compose `user: root`); pid 1 is the service after its drop
      const id = compose('ps', '-q', svc).trim();
      expect(docker('inspect', '-f', '{{.Config.User}}', id), svc).toBe('root');
      const status = docker('exec', id, 'cat', '/proc/1/status');
      expect(status, svc).toMatch(/^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
      const groups = (status.match(/^Groups:\s*(.*)$/m)?.[1] ?? '').trim().split(/\s+/).map(Number);
      expect(groups, svc).toContain(socketGid);
      expect(groups, svc).not.toContain(0);
    }
    // the generated token was written after the drop: the autoscaler (uid 1000) reads it
    const lb = compose('ps', '-q', 'load-balancer').trim();
    const mode =
      "const s=require('fs').statSync('/var/lib/headroom/admin-token');console.log(s.uid+' '+(s.mode&0o777).toString(8))";
    expect(docker('exec', lb, 'node', '-e', mode)).toBe('1000 600');
  });

  it("has tcp_notsent_lowat at 128 KiB in the balancer's network namespace (slow readers), not in the others'", () => {
    const lowat = (svc: string) =>
      docker('exec', compose('ps', '-q', svc).trim(), 'cat', '/proc/sys/net/ipv4/tcp_notsent_lowat');
    expect(lowat('load-balancer')).toBe('131072');
    expect(lowat('autoscaler')).not.toBe('131072');
  });

  it('answers /load through the balancer from several replicas', async () => {
    // a backend that just joined is in its slow start: ask until both have answered
    const seen = new Set<string>();
    await waitFor(
      async () => {
        seen.add(await load());
        return seen.size >= 2;
      },
      { timeoutMs: 60_000, intervalMs: 50, message: 'answers from two replicas' },
    );
    expect(seen.size).toBeGreaterThanOrEqual(2);
  });

  it('logs one generated admin token, which the balancer, the autoscaler and the dashboard accept', async () => {
    const found = tokenLogLines();
    expect(found).toHaveLength(1);
    const entry = JSON.parse((found[0] as string).slice((found[0] as string).indexOf('{'))) as {
      adminToken: string;
      file: string;
      msg: string;
    };
    token = entry.adminToken;
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    expect(entry.msg).toContain(token);
    expect(entry.msg).toContain(entry.file);

    // the balancer: changes need it
    expect((await adminPut('/api/mode', { mode: 'round-robin' })).status).toBe(401);
    expect((await adminPut('/api/mode', { mode: 'round-robin' }, 'wrong')).status).toBe(401);
    expect((await adminPut('/api/mode', { mode: 'round-robin' }, token)).status).toBe(200);
    const mode = await fetch(`http://127.0.0.1:${stack.ports.admin}/api/mode`);
    expect(((await mode.json()) as { mode: string }).mode).toBe('round-robin');
    expect(await load()).toBeTruthy();
    // the autoscaler read the same token from the shared volume
    const pause = `http://127.0.0.1:${stack.ports.autoscaler}/api/pause`;
    expect((await fetch(pause, { method: 'POST' })).status).toBe(401);
    const resume = await fetch(`http://127.0.0.1:${stack.ports.autoscaler}/api/resume`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(resume.status).toBe(200);
    // the dashboard on the admin port: served, says where the token is, and its admin calls
    // (the same API, with the token it asks for) are the ones accepted above
    const page = await fetch(`http://127.0.0.1:${stack.ports.admin}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const scripts = [...html.matchAll(/src="\.?\/?(assets\/[^"]+\.js)"/g)].map((m) => m[1] as string);
    expect(scripts.length).toBeGreaterThan(0);
    const bundle = (
      await Promise.all(
        scripts.map(async (s) => (await fetch(`http://127.0.0.1:${stack.ports.admin}/${s}`)).text()),
      )
    ).join('\n');
    expect(bundle).toContain('logs load-balancer | grep');
    expect((await adminPut('/api/mode', { mode: 'resource-aware' }, token)).status).toBe(200);
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
    // a refused request while a replica joins is not what this test measures (the restart test is)
    const workers = loadWorkers(4, 100);
    try {
      const replica = await waitFor(
        () => {
          // compose's own backends carry the ownership labels too (scale to zero may stop them):
          // the added replica is the one named <service>-<n>
          const added = ownedContainers('running')
            .map((id) => docker('inspect', '-f', '{{.Name}}', id).replace(/^\//, ''))
            .filter((name) => replicaIndex(stack.service, name) !== undefined);
          return added[0];
        },
        {
          timeoutMs: 180_000,
          intervalMs: 1000,
          message: `the autoscaler adds a replica\n${logsOnFailure()}`,
        },
      );
      expect(replica).toBe(`${stack.service}-1`);
      await waitFor(() => workers.seen.has(replica), {
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
      await workers.stop();
    }
  });

  it('keeps every replica and fails no request across an autoscaler restart under load', async () => {
    const before = ownedContainers('running');
    expect(before.length).toBeGreaterThan(0);
    const replicasBefore = backendContainers().length;
    const oldAutoscaler = compose('ps', '-q', 'autoscaler').trim();
    const workers = loadWorkers(4, 20);
    try {
      // a recreate, as `up -d` after an env change does (a graceful stop, a new container)
      const restartedAt = Date.now();
      compose('up', '-d', '--no-deps', '--force-recreate', 'autoscaler');
      expect(compose('ps', '-q', 'autoscaler').trim()).not.toBe(oldAutoscaler);
      // the new autoscaler is up, read the token file and has decided a few times
      await waitFor(
        async () => {
          const s = await autoscalerStatus();
          const ticked = s.loop?.lastTickAt ? Date.parse(s.loop.lastTickAt) > restartedAt + 6000 : false;
          return ticked && s.current === replicasBefore;
        },
        {
          timeoutMs: 90_000,
          intervalMs: 1000,
          message: `the new autoscaler adopts ${replicasBefore}\n${logsOnFailure()}`,
        },
      );
      const resume = await fetch(`http://127.0.0.1:${stack.ports.autoscaler}/api/resume`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(resume.status).toBe(200);
    } finally {
      await workers.stop();
    }
    expect(workers.failures).toEqual([]);
    // requests really flowed through the whole restart (the machine is slow: no rate asserted)
    expect(workers.ok()).toBeGreaterThanOrEqual(20);
    expect(ownedContainers('running')).toEqual(before);
    expect(backendContainers().length).toBe(replicasBefore);
  });

  it('keeps the same token across a balancer restart', async () => {
    compose('restart', '-t', '15', 'load-balancer');
    await waitFor(async () => (await fetch(`http://127.0.0.1:${stack.ports.admin}/healthz`)).ok, {
      timeoutMs: 60_000,
      intervalMs: 500,
      message: 'balancer back',
    });
    expect(tokenLogLines()).toHaveLength(1);
    expect((await adminPut('/api/mode', { mode: 'resource-aware' }, token)).status).toBe(200);
  });

  it('leaves nothing behind after down and the documented command for the replicas', () => {
    // `down` stops the stack; the replicas the autoscaler added stay (a restart adopts them), and
    // so does the network they are attached to
    const first = composeRun('down', '-v', '--remove-orphans', '--timeout', '60');
    if (first.status !== 0) expect(first.stderr).toMatch(/active endpoints/);
    expect(projectContainers()).toEqual([]);
    expect(ownedContainers().length).toBeGreaterThan(0);
    // docs/deploy.md: docker rm -f $(docker ps -aq --filter label=headroom.managed-by=… --filter
    // label=headroom.service=…) && docker compose -f deploy/docker-compose.yml down -v
    docker('rm', '-f', ...ownedContainers());
    compose('down', '-v', '--remove-orphans', '--timeout', '60');
    expect(projectContainers()).toEqual([]);
    expect(ownedContainers()).toEqual([]);
    expect(lines(docker('network', 'ls', '-q', '--filter', `name=^${stack.network}$`))).toEqual([]);
    expect(
      lines(docker('volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${stack.project}`)),
    ).toEqual([]);
  });
});
