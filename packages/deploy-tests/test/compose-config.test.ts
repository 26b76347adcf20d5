// docker-compose (Debian's v1, else the v2 plugin) accepts the compose file with the example
// environment and with none at all (a fresh clone), and the resolved file has what the stack
// depends on: the project images built from deploy/Dockerfile, the fixed network, the socket
// mounts (read-only where only reads are needed), the admin token (from .env, else the
// generated one in a volume), the backends' limits and labels, pinned third-party images.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { LB_LABELS, OWNER_LABELS, OWNER_VALUE } from '@headroom/shared';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { composeCommand } from '../src/compose-command.js';
import { repoPath } from '../src/repo-files.js';

const composeFile = repoPath('deploy/docker-compose.yml');
const envFile = repoPath('deploy/.env.example');

interface Service {
  image: string;
  build?: { context: string; dockerfile: string; target?: string; args?: Record<string, string> };
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: Array<string | { source: string; target: string; read_only?: boolean }>;
  labels?: Record<string, string>;
  networks?: Record<string, unknown>;
  cpus?: number | string;
  mem_limit?: string | number;
  group_add?: Array<string | number>;
  user?: string;
  scale?: number | string;
  sysctls?: Record<string, string | number>;
}

const [cli, ...cliArgs] = composeCommand();

function config(env: Record<string, string>, args: string[] = []) {
  return spawnSync(cli, [...cliArgs, '-f', composeFile, ...args, 'config'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
  });
}

function socketMount(svc: Service): string | undefined {
  for (const v of svc.volumes ?? []) {
    const s = typeof v === 'string' ? v : `${v.source}:${v.target}${v.read_only ? ':ro' : ''}`;
    if (s.startsWith('/var/run/docker.sock:')) return s;
  }
  return undefined;
}

describe('deploy/docker-compose.yml', () => {
  const run = config({}, ['--env-file', envFile]);
  const resolved = parse(run.stdout ?? '') as {
    services: Record<string, Service>;
    networks: Record<string, { name?: string }>;
  };

  it('passes docker-compose config with deploy/.env.example', () => {
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.status).toBe(0);
    expect(Object.keys(resolved.services).sort()).toEqual(
      ['autoscaler', 'backend', 'cadvisor', 'grafana', 'load-balancer', 'node-exporter', 'prometheus'].sort(),
    );
  });

  it('needs no variable at all: a fresh clone has no deploy/.env', () => {
    const res = config({});
    expect(res.stderr).not.toMatch(/error|required|not set/i);
    expect(res.status).toBe(0);
  });

  it('without a token, both admin APIs use the one the balancer keeps in the admin-token volume', () => {
    const s = (parse(config({}).stdout) as { services: Record<string, Service> }).services;
    const lb = s['load-balancer'] as Service;
    const as = s.autoscaler as Service;
    expect(lb.environment?.ADMIN_TOKEN ?? '').toBe('');
    expect(as.environment?.ADMIN_TOKEN ?? '').toBe('');
    const file = lb.environment?.ADMIN_TOKEN_FILE as string;
    expect(file).toMatch(/^\//);
    expect(as.environment?.ADMIN_TOKEN_FILE).toBe(file);
    const dir = file.slice(0, file.lastIndexOf('/'));
    const mount = (svc: Service) =>
      (svc.volumes ?? [])
        .map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}${v.read_only ? ':ro' : ''}`))
        .find((v) => v.split(':')[1] === dir);
    // the balancer writes it, the autoscaler only reads it
    expect(mount(lb)).toMatch(/admin-token:[^:]+(:rw)?$/);
    expect(mount(as)).toMatch(/admin-token:[^:]+:ro$/);
  });

  it('builds the three project images from deploy/Dockerfile, base node:24-slim unless BASE_IMAGE says otherwise', () => {
    const check = (s: Record<string, Service>, base: string) => {
      for (const name of ['load-balancer', 'autoscaler', 'backend']) {
        const b = s[name]?.build;
        expect(b, `${name} has a build section`).toBeDefined();
        expect(b?.context.replace(/\/$/, '')).toBe(repoPath('').replace(/\/$/, ''));
        expect(b?.dockerfile).toMatch(/(^|\/)deploy\/Dockerfile$/);
        expect(b?.target).toBe(name);
        expect(b?.args?.BASE_IMAGE).toBe(base);
      }
    };
    check((parse(config({}).stdout) as { services: Record<string, Service> }).services, 'node:24-slim');
    const offline = config({ BASE_IMAGE: 'headroom/node-base:24' });
    check((parse(offline.stdout) as { services: Record<string, Service> }).services, 'headroom/node-base:24');
  });

  it('adopts its replicas across an autoscaler restart (no cleanup on exit)', () => {
    expect(resolved.services.autoscaler?.environment?.CLEANUP_ON_EXIT).toBe('false');
  });

  it('pins every third-party image by a version tag, never latest', () => {
    for (const name of ['prometheus', 'node-exporter', 'cadvisor', 'grafana']) {
      const image = resolved.services[name]?.image as string;
      expect(image, name).toMatch(/:v?\d+\.\d+\.\d+$/);
    }
  });

  it('starts Grafana through grafana/entrypoint.sh with the password from .env when there is one', () => {
    const g = (
      parse(config({ GRAFANA_ADMIN_PASSWORD: 'pw-1' }).stdout) as { services: Record<string, Service> }
    ).services.grafana as Service;
    const script = g.entrypoint?.[g.entrypoint.length - 1] as string;
    const mounted = (g.volumes ?? [])
      .map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`))
      .find((v) => v.split(':')[1] === script);
    expect(mounted?.split(':')[0]).toBe(repoPath('grafana/entrypoint.sh'));
    expect(g.environment?.GRAFANA_ADMIN_PASSWORD).toBe('pw-1');
  });

  it('passes the token from the environment to both admin APIs', () => {
    const res = config({ ADMIN_TOKEN: 'tok-123' });
    expect(res.status).toBe(0);
    const s = (parse(res.stdout) as { services: Record<string, Service> }).services;
    expect(s['load-balancer']?.environment?.ADMIN_TOKEN).toBe('tok-123');
    expect(s.autoscaler?.environment?.ADMIN_TOKEN).toBe('tok-123');
  });

  it("caps what a slow reader makes the balancer push: tcp_notsent_lowat in the balancer's namespace only", () => {
    // docs/benchmarks.md "Slow clients" measures the attack with and without it
    expect(Number(resolved.services['load-balancer']?.sysctls?.['net.ipv4.tcp_notsent_lowat'])).toBe(131072);
    for (const name of Object.keys(resolved.services).filter((n) => n !== 'load-balancer'))
      expect(resolved.services[name]?.sysctls, name).toBeUndefined();
  });

  it('mounts the socket read-only except for the autoscaler, which creates containers', () => {
    const s = resolved.services;
    expect(socketMount(s['load-balancer'] as Service)).toMatch(/:ro$/);
    expect(socketMount(s.prometheus as Service)).toMatch(/:ro$/);
    expect(socketMount(s.autoscaler as Service)).not.toMatch(/:ro$/);
  });

  it("needs no socket group id: the balancer and the autoscaler start as root and drop to RUN_AS with the socket's group", () => {
    const s = resolved.services;
    for (const name of ['load-balancer', 'autoscaler']) {
      expect(s[name]?.user, name).toBe('root');
      // RUN_AS comes from the image (deploy/Dockerfile); compose must not empty it
      expect(s[name]?.environment?.RUN_AS, name).toBeUndefined();
    }
    // Prometheus cannot drop root itself (docs/deploy.md says why it runs as root)
    expect(s.prometheus?.user).toBe('root');
    for (const name of Object.keys(s)) expect(s[name]?.group_add, name).toBeUndefined();
    expect(readFileSync(composeFile, 'utf8')).not.toMatch(/DOCKER_GID/);
    expect(readFileSync(envFile, 'utf8')).not.toMatch(/DOCKER_GID/);
    const dockerfile = readFileSync(repoPath('deploy/Dockerfile'), 'utf8');
    for (const target of ['load-balancer', 'autoscaler']) {
      const stage = dockerfile.slice(dockerfile.indexOf(`AS ${target}\n`)).split(/\nFROM /)[0] as string;
      expect(stage, target).toMatch(/^ENV .*\bRUN_AS=node\b/m);
      expect(stage, target).toMatch(/^USER node$/m);
    }
  });

  it('puts balancer, backends and Prometheus on the fixed network, backends labelled and limited', () => {
    expect(resolved.networks.headroom?.name).toBe('headroom');
    const s = resolved.services;
    for (const name of ['load-balancer', 'backend', 'prometheus', 'autoscaler']) {
      expect(Object.keys(s[name]?.networks ?? {})).toContain('headroom');
    }
    const backend = s.backend as Service;
    expect(backend.labels?.[LB_LABELS.enable]).toBe('true');
    expect(backend.labels?.[LB_LABELS.service]).toBe(s.autoscaler?.environment?.SERVICE);
    expect(Number(backend.cpus)).toBeGreaterThan(0);
    expect(backend.mem_limit).toBeDefined();
    expect(Number(backend.scale)).toBe(2);
    expect(s['load-balancer']?.environment?.DISCOVERY).toBe('docker');
  });

  it("publishes 443 to the balancer's TLS_PORT, with deploy/certs (or TLS_CERTS) mounted read-only as TLS_CERT_DIR", () => {
    const check = (svc: Service, hostDir: string, published: number) => {
      const env = svc.environment ?? {};
      expect(Number(env.TLS_PORT)).toBe(8443);
      expect(Number(env.TLS_REDIRECT_PORT)).toBe(published);
      const mount = (svc.volumes ?? [])
        .map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}${v.read_only ? ':ro' : ''}`))
        .find((v) => v.split(':')[1] === env.TLS_CERT_DIR);
      expect(mount).toBe(`${hostDir}:${env.TLS_CERT_DIR}:ro`);
      const ports =
        (svc as { ports?: Array<string | { published: number | string; target: number | string }> }).ports ??
        [];
      const tls = ports
        .map((p) => (typeof p === 'string' ? p.replace(/\/tcp$/, '') : `${p.published}:${p.target}`))
        .find((p) => p.endsWith(':8443'));
      expect(tls).toBe(`${published}:8443`);
    };
    check(resolved.services['load-balancer'] as Service, repoPath('deploy/certs'), 443);
    const own = config({ TLS_CERTS: '/etc/headroom/certs', PROXY_TLS_PORT: '9443' });
    check(
      (parse(own.stdout) as { services: Record<string, Service> }).services['load-balancer'] as Service,
      '/etc/headroom/certs',
      9443,
    );
  });

  it('takes every image from the environment', () => {
    const res = config({
      ADMIN_TOKEN: 't',
      GRAFANA_ADMIN_PASSWORD: 'x',
      PROMETHEUS_IMAGE: 'headroom/prometheus:local',
      NODE_EXPORTER_IMAGE: 'headroom/node-exporter:local',
      BACKEND_IMAGE: 'example/backend:1',
    });
    const s = (parse(res.stdout) as { services: Record<string, Service> }).services;
    expect(s.prometheus?.image).toBe('headroom/prometheus:local');
    expect(s['node-exporter']?.image).toBe('headroom/node-exporter:local');
    expect(s.backend?.image).toBe('example/backend:1');
  });

  it('lists every variable it reads in .env.example', () => {
    const used = new Set(
      [...readFileSync(composeFile, 'utf8').matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]),
    );
    const example = readFileSync(envFile, 'utf8');
    const listed = new Set([...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]));
    expect([...used].filter((v) => !listed.has(v))).toEqual([]);
  });

  it('passes every variable .env.example lists (what deploy/.env can set) to the compose file', () => {
    // README: deploy/.env sets what .env.example lists; a listed variable nothing reads would be a lie
    const used = new Set(
      [...readFileSync(composeFile, 'utf8').matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]),
    );
    // read by compose itself, not interpolated; STACK_NAME is docker-stack.yml's (Swarm)
    const composeOwn = new Set(['COMPOSE_PROJECT_NAME', 'STACK_NAME']);
    const listed = [...readFileSync(envFile, 'utf8').matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1] as string);
    expect(listed.filter((v) => !used.has(v) && !composeOwn.has(v))).toEqual([]);
  });

  it('turns scale to zero on with one setting, MIN_REPLICAS=0: an idle window, a wake URL, backends the autoscaler may stop', () => {
    const off = (parse(config({}).stdout) as { services: Record<string, Service> }).services;
    expect(off.autoscaler?.environment?.MIN_REPLICAS).toBe('2');
    const res = config({ MIN_REPLICAS: '0' });
    expect(res.status).toBe(0);
    const s = (parse(res.stdout) as { services: Record<string, Service> }).services;
    const as = s.autoscaler?.environment ?? {};
    expect(as.MIN_REPLICAS).toBe('0');
    // MIN_REPLICAS=0 without an idle window is refused at start (a restart loop): compose gives one
    expect(Number(as.SCALE_TO_ZERO_AFTER_MS)).toBeGreaterThanOrEqual(1000);
    expect(as.LB_ADMIN_URL).toMatch(/^http:\/\/load-balancer:8081/);
    // the balancer holds requests for a sleeping service and wakes the autoscaler
    expect(s['load-balancer']?.environment?.AUTOSCALER_URL).toBe('http://autoscaler:8082');
    // compose's backends are the autoscaler's to stop: the sleep can stop every one of them
    const labels = s.backend?.labels ?? {};
    expect(labels[OWNER_LABELS.managedBy]).toBe(OWNER_VALUE);
    expect(labels[OWNER_LABELS.service]).toBe(as.SERVICE);
    expect(labels[LB_LABELS.service]).toBe(as.SERVICE);
    const idle = config({ MIN_REPLICAS: '0', SCALE_TO_ZERO_AFTER_MS: '60000', BACKEND_SERVICE: 'web' });
    const t = (parse(idle.stdout) as { services: Record<string, Service> }).services;
    expect(t.autoscaler?.environment?.SCALE_TO_ZERO_AFTER_MS).toBe('60000');
    expect(t.backend?.labels?.[OWNER_LABELS.service]).toBe('web');
  });
});
