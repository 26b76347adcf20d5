// `docker stack config` accepts deploy/docker-stack.yml with the example environment (the way
// docs/deploy.md deploys it), and the stack has the Swarm shape the docs promise.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { LB_LABELS } from '@headroom/shared';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoPath } from '../src/repo-files.js';

const stackFile = repoPath('deploy/docker-stack.yml');
const exampleEnv = Object.fromEntries(
  [...readFileSync(repoPath('deploy/.env.example'), 'utf8').matchAll(/^([A-Z0-9_]+)=(.*)$/gm)].map((m) => [
    m[1] as string,
    m[2] as string,
  ]),
);

interface SwarmService {
  environment?: Record<string, string>;
  deploy?: {
    mode?: string;
    endpoint_mode?: string;
    placement?: { constraints?: string[] };
    labels?: Record<string, string>;
  };
  configs?: Array<{ source: string; target: string }>;
  user?: string;
  sysctls?: Record<string, string | number>;
}

describe('deploy/docker-stack.yml', () => {
  const res = spawnSync('docker', ['stack', 'config', '-c', stackFile], {
    encoding: 'utf8',
    // the Swarm stack has no shared volume for a generated token: it needs both secrets set
    // (deploy/.env.example leaves them empty for the compose stack, which generates them)
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...exampleEnv,
      ADMIN_TOKEN: 'example-token',
      GRAFANA_ADMIN_PASSWORD: 'example-password',
    },
  });
  const stack = parse(res.stdout ?? '') as {
    services: Record<string, SwarmService>;
    networks: Record<string, { driver?: string; name?: string }>;
    configs: Record<string, { file: string }>;
  };

  it('passes docker stack config with the variables of deploy/.env.example and the two secrets', () => {
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
  });

  it('runs node-exporter on every node and the API readers on a manager', () => {
    const s = stack.services;
    expect(s['node-exporter']?.deploy?.mode).toBe('global');
    for (const name of ['load-balancer', 'autoscaler', 'prometheus']) {
      expect(s[name]?.deploy?.placement?.constraints).toContain('node.role == manager');
      // root only to start: the balancer and the autoscaler drop to RUN_AS with the socket's
      // group (whatever its id on the node); Prometheus cannot (docs/deploy.md)
      expect(s[name]?.user, name).toBe('root');
      // reached by name without a virtual IP: no dependency on IPVS
      expect(s[name]?.deploy?.endpoint_mode).toBe('dnsrr');
    }
  });

  it("sets tcp_notsent_lowat for the balancer's container, as the compose stack does", () => {
    expect(Number(stack.services['load-balancer']?.sysctls?.['net.ipv4.tcp_notsent_lowat'])).toBe(131072);
  });

  it('discovers Swarm tasks and scales the backend service of this stack', () => {
    const s = stack.services;
    expect(s['load-balancer']?.environment?.DISCOVERY).toBe('swarm');
    expect(s.autoscaler?.environment?.RUNTIME).toBe('swarm');
    expect(s.autoscaler?.environment?.SERVICE).toBe(`${exampleEnv.STACK_NAME}_backend`);
    expect(s.backend?.deploy?.labels?.[LB_LABELS.enable]).toBe('true');
    expect(stack.networks.headroom).toMatchObject({ driver: 'overlay', name: 'headroom' });
  });

  it('gives Prometheus the Swarm scrape config and the rules as configs', () => {
    const targets = Object.fromEntries(
      (stack.services.prometheus?.configs ?? []).map((c) => [c.target, stack.configs[c.source]?.file]),
    );
    expect(targets['/etc/prometheus/prometheus.yml']).toMatch(/prometheus\/prometheus-swarm\.yml$/);
    expect(targets['/etc/prometheus/rules/headroom.rules.yml']).toMatch(
      /prometheus\/rules\/headroom\.rules\.yml$/,
    );
  });

  it('reads only variables listed in .env.example', () => {
    const used = [...readFileSync(stackFile, 'utf8').matchAll(/\$\{([A-Z0-9_]+)/g)].map(
      (m) => m[1] as string,
    );
    expect(used.filter((v) => !(v in exampleEnv))).toEqual([]);
  });
});
