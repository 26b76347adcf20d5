// The images as deploy/build-images.sh builds them through deploy/Dockerfile on the offline base: each starts as a
// non-root user, reaches `healthy` through its own HEALTHCHECK, and ships no sources or tests.
import { execFileSync } from 'node:child_process';
import { removeLabelled, requireDocker, waitFor } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoPath } from '../src/repo-files.js';

const RUN_LABEL = 'headroom-test.images';
const run = `images-${process.pid}-${Date.now().toString(36)}`;

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

describe('images built by deploy/build-images.sh', () => {
  beforeAll(() => {
    requireDocker();
    execFileSync('bash', [repoPath('deploy/images/build-exporter-images.sh')], { stdio: 'inherit' });
  });

  afterAll(() => removeLabelled(RUN_LABEL, run));

  it.each(cases)(
    '$image builds, runs as a non-root user and becomes healthy',
    async ({ image, build, env, args, user }) => {
      // each service on its own, so one that does not build does not hide the others
      if (build) execFileSync('bash', [repoPath('deploy/build-images.sh'), build], { stdio: 'inherit' });
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
