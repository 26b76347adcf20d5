import { LB_LABELS, OWNER_LABELS, OWNER_VALUE } from '@headroom/shared';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { scaledSpec } from '../act/swarm-runtime.js';
import { taskState } from '../observe/swarm-observer.js';
import { pickVictims } from '../placement/victims.js';
import {
  createOptions,
  isOwned,
  lowestFreeIndex,
  portsToPublish,
  type ReplicaTemplate,
  resolveNetworks,
  templateFromContainer,
  templateFromSettings,
} from './replica-template.js';

const inspect = {
  Name: '/deploy-backend-1',
  Config: {
    Image: 'headroom/backend:latest',
    Cmd: ['node', 'dist/main.js'],
    Entrypoint: ['docker-entrypoint.sh'],
    Healthcheck: { Test: ['CMD', '/app/healthcheck.sh'], Interval: 5_000_000_000 },
    Env: ['PORT=3000', 'INSTANCE_ID=deploy-backend-1', 'NODE_ENV=production'],
    Labels: {
      [LB_LABELS.enable]: 'true',
      [LB_LABELS.service]: 'backend',
      [LB_LABELS.port]: '3000',
      'com.docker.compose.project': 'deploy',
      'com.docker.compose.service': 'backend',
      [OWNER_LABELS.replica]: '7',
    },
    ExposedPorts: { '3000/tcp': {} },
    WorkingDir: '/app',
    User: 'node',
  },
  HostConfig: {
    NanoCpus: 500_000_000,
    Memory: 256 * 1024 * 1024,
    NetworkMode: 'deploy_default',
    PortBindings: { '3000/tcp': [{ HostPort: '3001' }] },
    Binds: ['/srv/data:/data:ro'],
  },
  NetworkSettings: { Networks: { deploy_default: {}, extra: {} } },
} as unknown as Docker.ContainerInspectInfo;

describe('replica template', () => {
  const t = templateFromContainer(inspect);
  const opts = createOptions(t, 'backend', 3);

  it('copies image, command, env, limits and networks (primary first)', () => {
    expect(t).toMatchObject({
      image: 'headroom/backend:latest',
      nanoCpus: 500_000_000,
      memory: 256 * 1024 * 1024,
    });
    expect(t.networks).toEqual(['deploy_default', 'extra']);
    expect(opts.HostConfig).toMatchObject({
      NanoCpus: 500_000_000,
      Memory: 268435456,
      NetworkMode: 'deploy_default',
    });
    expect(opts.Cmd).toEqual(['node', 'dist/main.js']);
  });

  // services/autoscaler/README.md, Runtimes: the entrypoint, the healthcheck and the binds too
  it('copies the entrypoint, the healthcheck and the bind mounts', () => {
    expect(opts.Entrypoint).toEqual(['docker-entrypoint.sh']);
    expect(opts.Healthcheck).toEqual({ Test: ['CMD', '/app/healthcheck.sh'], Interval: 5_000_000_000 });
    expect(opts.HostConfig?.Binds).toEqual(['/srv/data:/data:ro']);
  });
  it('names it <service>-<n>, with its own hostname and INSTANCE_ID', () => {
    expect(opts.name).toBe('backend-3');
    expect(opts.Hostname).toBe('backend-3');
    expect(opts.Env).toContain('INSTANCE_ID=backend-3');
    expect(opts.Env).toContain('NODE_ENV=production');
  });
  it('keeps the balancer labels, drops compose labels, and labels it as ours', () => {
    expect(opts.Labels).toEqual({
      [LB_LABELS.enable]: 'true',
      [LB_LABELS.service]: 'backend',
      [LB_LABELS.port]: '3000',
      [OWNER_LABELS.managedBy]: OWNER_VALUE,
      [OWNER_LABELS.service]: 'backend',
      [OWNER_LABELS.replica]: '3',
    });
    expect(isOwned(opts.Labels, 'backend')).toBe(true);
    expect(isOwned(opts.Labels, 'other')).toBe(false);
    expect(isOwned(inspect.Config.Labels, 'backend')).toBe(false);
  });
  it('publishes the same container ports on ephemeral host ports', () => {
    expect(opts.HostConfig?.PortBindings).toEqual({ '3000/tcp': [{ HostPort: '' }] });
  });
  it('builds a template from REPLICA_* settings, or none without an image', () => {
    expect(templateFromSettings('web', {})).toBeUndefined();
    const s = templateFromSettings('web', {
      image: 'img',
      cpus: 0.5,
      memoryMb: 128,
      network: 'net',
      port: 8080,
    })!;
    const o = createOptions(s, 'web', 1);
    expect(o.Labels).toMatchObject({
      [LB_LABELS.enable]: 'true',
      [LB_LABELS.service]: 'web',
      [LB_LABELS.port]: '8080',
    });
    expect(o.HostConfig).toMatchObject({
      NanoCpus: 500_000_000,
      Memory: 128 * 1024 * 1024,
      NetworkMode: 'net',
    });
  });
});

describe('names and victims', () => {
  it('takes the lowest free n across every container name', () => {
    expect(lowestFreeIndex('web', [])).toBe(1);
    expect(lowestFreeIndex('web', ['web-1', '/web-2', 'web-4', 'webx-3', 'other-3'])).toBe(3);
  });
  it('scale-in removes only owned replicas: not-ready first, then the highest n', () => {
    const rs = [
      { name: 'a', owned: false, ready: true, index: undefined, state: 'running' },
      { name: 'w1', owned: true, ready: true, index: 1, state: 'running' },
      { name: 'w3', owned: true, ready: true, index: 3, state: 'running' },
      { name: 'w2', owned: true, ready: false, index: 2, state: 'starting' },
      { name: 'w5', owned: true, ready: false, index: 5, state: 'exited' },
    ];
    expect(pickVictims(rs, 2).map((r) => r.name)).toEqual(['w2', 'w3']);
    expect(pickVictims(rs, 10).map((r) => r.name)).toEqual(['w2', 'w3', 'w1']);
  });
});

describe('swarm', () => {
  it('sets the replica count and keeps the rest of the spec', () => {
    const spec = {
      Name: 'web',
      Mode: { Replicated: { Replicas: 2 } },
      TaskTemplate: { ContainerSpec: { Image: 'x' } },
    };
    expect(scaledSpec(spec, 5)).toEqual({ ...spec, Mode: { Replicated: { Replicas: 5 } } });
    expect(() => scaledSpec({ Name: 'g', Mode: { Global: {} } }, 2)).toThrow(/replicated/);
  });
  it('a sleep scales the Swarm service to 0 and keeps its labels (the balancer knows it from them)', () => {
    const spec = {
      Name: 'web',
      Labels: { [LB_LABELS.enable]: 'true', [LB_LABELS.service]: 'web', [LB_LABELS.idleAfter]: '60000' },
      Mode: { Replicated: { Replicas: 3 } },
      TaskTemplate: { ContainerSpec: { Image: 'x' } },
    };
    const asleep = scaledSpec(spec, 0);
    expect(asleep.Mode?.Replicated?.Replicas).toBe(0);
    expect(asleep.Labels).toEqual(spec.Labels);
    expect(scaledSpec(asleep, 2).Mode?.Replicated?.Replicas).toBe(2);
  });
  it.each([
    ['running', 'running'],
    ['preparing', 'starting'],
    ['failed', 'exited'],
    [undefined, 'exited'],
  ] as const)('task state %s → %s', (s, expected) => {
    expect(taskState(s)).toBe(expected);
  });
});

describe('per-engine networks and ports', () => {
  it.each([
    ['all there', ['app', 'extra'], ['app', 'extra'], { networks: ['app', 'extra'], missing: [] }],
    [
      'primary missing: the next becomes primary',
      ['app', 'extra'],
      ['extra'],
      { networks: ['extra'], missing: ['app'] },
    ],
    ['none there: default bridge', ['app'], [], { networks: [], missing: ['app'] }],
    ['built-in networks exist everywhere', ['bridge'], [], { networks: ['bridge'], missing: [] }],
  ] as const)('resolveNetworks: %s', (_n, wanted, onEngine, expected) => {
    expect(resolveNetworks(wanted, new Set(onEngine))).toEqual(expected);
  });

  const t = templateFromSettings('svc', { image: 'img', port: 3000 })!;
  it.each<[string, ReplicaTemplate, boolean, string[]]>([
    ['same engine, nothing published: nothing', t, true, []],
    ['another engine: lb.port published', t, false, ['3000/tcp']],
    ['the template publishes: those, anywhere', { ...t, publishedPorts: ['8080/tcp'] }, false, ['8080/tcp']],
    [
      'no lb.port, one exposed port',
      { ...t, labels: {}, exposedPorts: { '5000/tcp': {} } },
      false,
      ['5000/tcp'],
    ],
  ])('portsToPublish: %s', (_n, tpl, same, expected) => {
    expect(portsToPublish(tpl, same)).toEqual(expected);
  });

  it('createOptions takes the engine overrides: networks and published ports', () => {
    const o = createOptions({ ...t, networks: ['app'] }, 'svc', 2, {
      networks: [],
      publishedPorts: ['3000/tcp'],
    });
    expect(o.HostConfig?.NetworkMode).toBeUndefined();
    expect(o.NetworkingConfig).toBeUndefined();
    expect(o.HostConfig?.PortBindings).toEqual({ '3000/tcp': [{ HostPort: '' }] });
    expect(o.ExposedPorts).toEqual({ '3000/tcp': {} });
  });
});
