// The images as deploy/build-images.sh builds them through deploy/Dockerfile on the offline base: each starts as a
// non-root user, reaches `healthy` through its own HEALTHCHECK, and ships no sources or tests. The
// balancer and the autoscaler started as root (as compose starts them) drop to `node` keeping the
// Docker socket's group of this host, whatever its id, and reach the engine through it.
import { execFileSync, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import {
  lbLabels,
  removeRun,
  requireDocker,
  runLabelled,
  TEST_RUN_LABEL,
  testRunId,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoPath } from '../src/repo-files.js';

// every container here carries the testkit's run marker, so removeRun takes them all
const RUN_LABEL = TEST_RUN_LABEL;
const run = testRunId('images');

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

function inspect(id: string, format: string): string {
  return docker('inspect', '-f', format, id);
}

const cases: Array<{ image: string; build?: string; env: string[]; args?: string[]; user: RegExp }> = [
  { image: 'headroom/backend:latest', build: 'backend', env: [], user: /^node$/ },
  {
    image: 'headroom/load-balancer:latest',
    build: 'load-balancer',
    env: ['DISCOVERY=static', 'BACKENDS='],
    user: /^node$/,
  },
  {
    image: 'headroom/autoscaler:latest',
    build: 'autoscaler',
    env: ['PROMETHEUS_URL=http://127.0.0.1:9'],
    user: /^node$/,
  },
  {
    image: 'headroom/prometheus:local',
    env: [],
    args: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus'],
    user: /^65534$/,
  },
  { image: 'headroom/node-exporter:local', env: [], user: /^65534$/ },
];

// Each service built on its own, so one that does not build does not hide the others; in the
// hook (its timeout is for builds: a source change rebuilds the builder stage, minutes here),
// each case then reports its own service's failure.
const buildFailures = new Map<string, Error>();

describe('images built by deploy/build-images.sh', () => {
  beforeAll(() => {
    requireDocker();
    execFileSync('bash', [repoPath('deploy/images/build-exporter-images.sh')], { stdio: 'inherit' });
    for (const svc of ['backend', 'load-balancer', 'autoscaler']) {
      try {
        execFileSync('bash', [repoPath('deploy/build-images.sh'), svc], { stdio: 'inherit' });
      } catch (err) {
        buildFailures.set(svc, err as Error);
      }
    }
  });

  afterAll(() => removeRun(run));

  it.each(cases)(
    '$image builds, runs as a non-root user and becomes healthy',
    async ({ image, build, env, args, user }) => {
      const failed = build ? buildFailures.get(build) : undefined;
      if (failed) throw failed;
      expect(inspect(image, '{{.Config.User}}')).toMatch(user);
      expect(inspect(image, '{{json .Config.Healthcheck.Test}}')).not.toBe('null');
      const id = docker(
        'run',
        '-d',
        '--label',
        `${RUN_LABEL}=${run}`,
        ...env.flatMap((e) => ['-e', e]),
        image,
        ...(args ?? []),
      );
      await waitFor(
        () => {
          const state = inspect(id, '{{.State.Status}} {{.State.Health.Status}}');
          if (state.startsWith('exited')) throw new Error(`${image} exited: ${docker('logs', id)}`);
          return state === 'running healthy';
        },
        { timeoutMs: 60_000, intervalMs: 500, message: `${image} healthy` },
      );
      expect(docker('exec', id, 'id', '-u')).not.toBe('0');
    },
  );

  it.each([
    { svc: 'load-balancer', env: ['DISCOVERY=docker'] },
    // asleep (scale to zero; the balancer it would ask is not there): it observes the engine
    // every tick and creates nothing
    {
      svc: 'autoscaler',
      env: [
        'RUNTIME=docker',
        'PROMETHEUS_URL=http://127.0.0.1:9',
        'INTERVAL_MS=1000',
        'MIN_REPLICAS=0',
        'SCALE_TO_ZERO_AFTER_MS=3600000',
        'LB_ADMIN_URL=http://127.0.0.1:9',
      ],
    },
  ])(
    'headroom/$svc started as root drops to node with the socket group of this host and reaches the engine',
    async ({ svc, env }) => {
      const failed = buildFailures.get(svc);
      if (failed) throw failed;
      const socketGid = statSync('/var/run/docker.sock').gid;
      // a backend for the balancer to find through the socket, filtered by a service of its own
      const service = `img-${run}`;
      if (svc === 'load-balancer')
        runLabelled({ run, image: 'headroom/backend:latest', labels: lbLabels(service) });
      const id = docker(
        'run',
        '-d',
        '--label',
        `${RUN_LABEL}=${run}`,
        '--user',
        'root',
        '-v',
        '/var/run/docker.sock:/var/run/docker.sock',
        ...[...env, `LB_SERVICE=${service}`, `SERVICE=${service}`].flatMap((e) => ['-e', e]),
        `headroom/${svc}:latest`,
      );
      await waitFor(
        () => {
          const state = inspect(id, '{{.State.Status}} {{.State.Health.Status}}');
          if (state.startsWith('exited')) throw new Error(`${svc} exited: ${docker('logs', id)}`);
          return state === 'running healthy';
        },
        { timeoutMs: 60_000, intervalMs: 500, message: `${svc} healthy` },
      );
      // the service process (pid 1), not `docker exec` (which runs as the container's user, root)
      const status = docker('exec', id, 'cat', '/proc/1/status');
      const ids = (field: string) =>
        (status.match(new RegExp(`^${field}:\\s*(.*)$`, 'm'))?.[1] ?? '').trim().split(/\s+/).map(Number);
      expect(ids('Uid')).toEqual([1000, 1000, 1000, 1000]);
      expect(ids('Gid')).toEqual([1000, 1000, 1000, 1000]);
      expect(ids('Groups').sort()).toEqual([1000, socketGid].sort());
      // no capability left: it cannot become root again
      expect(status).toMatch(/^CapEff:\s*0+$/m);
      if (svc === 'load-balancer') {
        // discovery listed the engine's containers through the socket, as uid 1000
        const backends = await waitFor(
          () => {
            const out = docker(
              'exec',
              id,
              'node',
              '-e',
              "fetch('http://127.0.0.1:8081/api/backends').then(r=>r.text()).then(t=>console.log(t))",
            );
            const body = JSON.parse(out) as { backends: unknown[] };
            return body.backends.length === 1 ? body.backends : undefined;
          },
          { timeoutMs: 30_000, intervalMs: 500, message: 'the backend discovered through the socket' },
        );
        expect(backends).toHaveLength(1);
      } else {
        // a few ticks read the engine (observe: every engine's replicas and capacity)
        await new Promise((r) => setTimeout(r, 3000));
      }
      const logs = execFileSync('docker', ['logs', id], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const lines = logs
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg: string; level: number; uid?: number; groups?: number[] });
      const dropped = lines.filter((l) => l.msg.startsWith('dropped root'));
      expect(dropped).toHaveLength(1);
      expect(dropped[0]?.uid).toBe(1000);
      expect(dropped[0]?.groups).toContain(socketGid);
      expect(logs).not.toMatch(/EACCES|cannot read and write|engine unreachable|EngineUnavailable/);
    },
  );

  it('headroom/load-balancer with static discovery keeps no socket group: it does not read the engine', async () => {
    const failed = buildFailures.get('load-balancer');
    if (failed) throw failed;
    const id = docker(
      'run',
      '-d',
      ...['--label', `${RUN_LABEL}=${run}`, '--user', 'root'],
      ...['-v', '/var/run/docker.sock:/var/run/docker.sock:ro'],
      ...['-e', 'DISCOVERY=static', '-e', 'BACKENDS='],
      'headroom/load-balancer:latest',
    );
    const status = await waitFor(
      () => {
        const s = docker('exec', id, 'cat', '/proc/1/status');
        return /^Uid:\s+1000\s/m.test(s) ? s : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, message: 'the balancer dropped root' },
    );
    expect((status.match(/^Groups:\s*(.*)$/m)?.[1] ?? '').trim()).toBe('1000');
  });

  it('headroom/load-balancer started as root without CAP_SETUID/CAP_SETGID exits, saying it cannot drop root', () => {
    const failed = buildFailures.get('load-balancer');
    if (failed) throw failed;
    const res = spawnSync(
      'docker',
      [
        'run',
        '--rm',
        '--label',
        `${RUN_LABEL}=${run}`,
        '--user',
        'root',
        ...['--cap-drop', 'SETUID', '--cap-drop', 'SETGID'],
        ...['-e', 'DISCOVERY=static', '-e', 'BACKENDS='],
        'headroom/load-balancer:latest',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(res.status, res.stdout + res.stderr).toBe(1);
    expect(res.stdout).toContain('cannot drop root to node');
  });

  it('sends a build context without an unpacked package store (under 150 MB)', () => {
    // The legacy builder (docker-compose v1, engines without buildx) sends the whole context on
    // every build: the package store travels packed in one file (deploy/offline-prep.sh). A
    // Dockerfile of one FROM: only the context is measured, no image is made.
    const res = spawnSync('docker', ['build', '-f', '-', repoPath('')], {
      input: 'FROM headroom/node-base:24\n',
      encoding: 'utf8',
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
    });
    const m = `${res.stdout}${res.stderr}`.match(
      /Sending build context to Docker daemon\s+([\d.]+)\s*([kMG]?B)/,
    );
    expect(m, `${res.stdout}${res.stderr}`).not.toBeNull();
    const scale: Record<string, number> = { B: 1e-6, kB: 1e-3, MB: 1, GB: 1e3 };
    const mb = Number(m?.[1]) * (scale[m?.[2] as string] as number);
    expect(mb).toBeLessThan(150);
  });

  it.each(['backend', 'load-balancer', 'autoscaler'])('headroom/%s ships only what runs', (svc) => {
    // Walks /app inside the image: what a service never reads must not be there.
    const walk = `const fs=require('node:fs'),p=require('node:path');const out=[];
      const w=(d)=>{for(const e of fs.readdirSync(d,{withFileTypes:true})){const f=p.join(d,e.name);
      if(e.isDirectory())w(f);else out.push(f);}};w('/app');console.log(JSON.stringify(out));`;
    const files = JSON.parse(docker('run', '--rm', `headroom/${svc}:latest`, 'node', '-e', walk)) as string[];
    expect(files).toContain('/app/dist/main.js');
    expect(files.filter((f) => /\.(map|md)$|(?<!\.d)\.ts$|\.d\.ts$/.test(f))).toEqual([]);
    expect(files.filter((f) => /^\/app\/(src|test)\//.test(f))).toEqual([]);
    expect(files.filter((f) => /node_modules\/(vitest|typescript|@biomejs|vite)\//.test(f))).toEqual([]);
    if (svc === 'load-balancer') expect(files).toContain('/app/dashboard/index.html');
  });
});
