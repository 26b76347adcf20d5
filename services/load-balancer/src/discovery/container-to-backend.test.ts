import { LB_LABELS } from '@headroom/shared';
import { describe, expect, it } from 'vitest';
import type { ContainerRecord } from './container-record.js';
import { containerToBackend, type DiscoveryContext } from './container-to-backend.js';
import { tasksToBackends } from './swarm-source.js';

const base: ContainerRecord = {
  id: 'abcdef0123456789'.repeat(4),
  name: 'web-1',
  running: true,
  labels: { [LB_LABELS.enable]: 'true' },
  exposedPorts: [3000],
  networks: { appnet: '172.18.0.5', other: '10.0.0.7' },
  published: { 3000: 49153 },
  nanoCpus: 500_000_000,
  cpuQuota: 0,
  cpuPeriod: 0,
  memoryBytes: 268435456,
  health: undefined,
};
const ctx: DiscoveryContext = {
  service: undefined,
  ownNetworks: ['appnet'],
  network: undefined,
  addressMode: 'auto',
  healthPath: '/health',
  publishedHost: '127.0.0.1',
};
const c = (over: Partial<ContainerRecord>, labels: Record<string, string> = {}): ContainerRecord => ({
  ...base,
  ...over,
  labels: { ...base.labels, ...labels },
});

describe('containerToBackend', () => {
  it('maps a labelled container to a backend on the shared network', () => {
    const d = containerToBackend(base, ctx);
    expect(d).toEqual({
      spec: expect.objectContaining({
        id: 'abcdef012345',
        url: 'http://172.18.0.5:3000',
        name: 'web-1',
        source: 'docker',
        healthPath: '/health',
        cpuLimit: 0.5,
        memoryLimit: 268435456,
        sticky: { kind: 'none' },
        containerId: base.id,
      }),
    });
  });
  it.each([
    ['not enabled', c({}, { [LB_LABELS.enable]: 'false' }), 'is not true'],
    ['stopped', c({ running: false }), 'not running'],
    ['bad port label', c({}, { [LB_LABELS.port]: 'http' }), 'lb.port'],
    ['ambiguous ports', c({ exposedPorts: [80, 443] }), 'exposed ports'],
    ['bad weight', c({}, { [LB_LABELS.weight]: '-2' }), 'lb.weight'],
    ['bad sticky', c({}, { [LB_LABELS.sticky]: 'ip' }), 'lb.sticky'],
    ['missing network', c({}, { [LB_LABELS.network]: 'nope' }), 'not attached'],
    ['bad health status', c({}, { [LB_LABELS.healthStatus]: '2xx' }), 'lb.health.status'],
  ])('skips a container: %s', (_why, record, reason) => {
    const d = containerToBackend(record, ctx);
    expect('skip' in d && d.skip).toContain(reason);
  });
  it.each([
    ['no label, no HEALTH_PATH: a TCP check', {}, undefined, undefined, undefined],
    ['HEALTH_PATH: HTTP, default statuses', {}, '/health', '/health', '200-399'],
    [
      'lb.health.path + lb.health.status',
      { [LB_LABELS.healthPath]: '/', [LB_LABELS.healthStatus]: '200-499' },
      undefined,
      '/',
      '200-499',
    ],
  ])('health check from labels: %s', (_why, labels, envPath, path, status) => {
    const d = containerToBackend(c({}, labels), { ...ctx, healthPath: envPath });
    expect('spec' in d && { path: d.spec.healthPath, status: d.spec.healthStatus }).toEqual({ path, status });
  });
  it('skips lb.health.status without a health path (the default check is TCP)', () => {
    const d = containerToBackend(c({}, { [LB_LABELS.healthStatus]: '200-499' }), {
      ...ctx,
      healthPath: undefined,
    });
    expect('skip' in d && d.skip).toContain('needs an HTTP check');
  });
  // lb.maxconn pins the concurrency limit; a bad value keeps the container, with the adaptive
  // limit and one warning naming the label (docker-source logs it with the container's name)
  it.each([
    ['8', 8, undefined],
    ['0', undefined, 'lb.maxconn "0" must be at least 1: the adaptive concurrency limit applies'],
    ['-4', undefined, 'lb.maxconn "-4" is not a whole number: the adaptive concurrency limit applies'],
    ['lots', undefined, 'lb.maxconn "lots" is not a whole number: the adaptive concurrency limit applies'],
  ])('lb.maxconn=%s → limit %s, warning %s', (value, maxConn, warning) => {
    const d = containerToBackend(c({}, { [LB_LABELS.maxconn]: value }), ctx);
    if (!('spec' in d)) throw new Error(`skipped: ${d.skip}`);
    expect(d.spec.maxConn).toBe(maxConn);
    expect(d.warning).toBe(warning);
  });

  it('filters by LB_SERVICE', () => {
    expect('skip' in containerToBackend(c({}, { [LB_LABELS.service]: 'a' }), { ...ctx, service: 'b' })).toBe(
      true,
    );
    expect('spec' in containerToBackend(c({}, { [LB_LABELS.service]: 'b' }), { ...ctx, service: 'b' })).toBe(
      true,
    );
  });
  it.each<[string, readonly string[], Record<string, string>, string | undefined]>([
    ['on a network of its own only', ['appnet'], { [LB_LABELS.network]: 'other' }, 'not attached to'],
    ['no network shared, none named', ['elsewhere'], {}, 'not attached to'],
    ['host networking reaches every bridge', ['host'], { [LB_LABELS.network]: 'other' }, undefined],
    ['a shared one named', ['appnet', 'other'], { [LB_LABELS.network]: 'other' }, undefined],
  ])('a container on no network the balancer is attached to is skipped: %s', (_n, own, labels, skip) => {
    const d = containerToBackend(c({}, labels), { ...ctx, ownNetworks: own, addressMode: 'network' });
    if (skip === undefined) expect('spec' in d).toBe(true);
    else expect('skip' in d && d.skip).toContain(skip);
  });
  it.each<
    [string, DiscoveryContext['addressMode'], Record<string, string>, string | undefined, string | undefined]
  >([
    ['container address, no path: a TCP connect', 'network', {}, undefined, undefined],
    [
      'published port, no path: any HTTP answer (docker-proxy accepts TCP for a dead app)',
      'published',
      {},
      '/',
      '100-599',
    ],
    [
      'published port, a path: that HTTP check',
      'published',
      { [LB_LABELS.healthPath]: '/ready' },
      '/ready',
      '200-399',
    ],
  ])('health check: %s', (_n, addressMode, labels, path, status) => {
    const d = containerToBackend(c({}, labels), { ...ctx, addressMode, healthPath: undefined });
    expect('spec' in d && [d.spec.healthPath, d.spec.healthStatus]).toEqual([path, status]);
  });
  it('uses the published port when the balancer runs outside Docker', () => {
    const d = containerToBackend(base, { ...ctx, ownNetworks: [] });
    expect('spec' in d && d.spec.url).toBe('http://127.0.0.1:49153');
    const unpublished = containerToBackend(c({ published: {} }), { ...ctx, addressMode: 'published' });
    expect('skip' in unpublished && unpublished.skip).toContain('not published');
  });
  it('reads labels: port, health path, weight, sticky, slow start, network, quota-based CPU limit', () => {
    const d = containerToBackend(
      c(
        { nanoCpus: 0, cpuQuota: 200000, cpuPeriod: 100000 },
        {
          [LB_LABELS.port]: '8080',
          [LB_LABELS.healthPath]: '/ready',
          [LB_LABELS.weight]: '3',
          [LB_LABELS.sticky]: 'cookie',
          [LB_LABELS.stickyCookie]: 'sid',
          [LB_LABELS.slowStart]: '5000',
          [LB_LABELS.network]: 'other',
        },
      ),
      { ...ctx, ownNetworks: ['appnet', 'other'] },
    );
    expect('spec' in d && d.spec).toMatchObject({
      url: 'http://10.0.0.7:8080',
      healthPath: '/ready',
      weight: 3,
      sticky: { kind: 'cookie', cookie: 'sid' },
      slowStartMs: 5000,
      cpuLimit: 2,
    });
  });
});

describe('tasksToBackends (swarm)', () => {
  const service = {
    ID: 'svc1',
    Spec: {
      Name: 'web',
      Labels: { [LB_LABELS.enable]: 'true', [LB_LABELS.port]: '3000' },
      TaskTemplate: { Resources: { Limits: { NanoCPUs: 1_000_000_000 } } },
    },
  };
  const task = (id: string, state: string, ip: string) => ({
    ID: `${id}xxxxxxxxxxxxxxxx`,
    ServiceID: 'svc1',
    Slot: Number(id.slice(-1)),
    Status: { State: state },
    DesiredState: 'running',
    NetworksAttachments: [
      { Network: { Spec: { Name: 'ingress' } }, Addresses: ['10.0.0.9/24'] },
      { Network: { Spec: { Name: 'app' } }, Addresses: [`${ip}/24`] },
    ],
  });
  it('makes one backend per running task on the overlay network, never the ingress one', () => {
    const { specs } = tasksToBackends(
      service,
      [task('t1', 'running', '10.1.0.3'), task('t2', 'starting', '10.1.0.4')],
      {
        network: undefined,
        ownNetworks: [],
        healthPath: '/health',
        service: undefined,
      },
    );
    expect(specs).toHaveLength(1);
    expect(specs[0]).toMatchObject({
      url: 'http://10.1.0.3:3000',
      name: 'web.1',
      source: 'swarm',
      cpuLimit: 1,
    });
  });
  it('requires lb.port on Swarm services', () => {
    const s = { ...service, Spec: { ...service.Spec, Labels: { [LB_LABELS.enable]: 'true' } } };
    expect(
      tasksToBackends(s, [], { network: undefined, ownNetworks: [], healthPath: '/h', service: undefined })
        .skip,
    ).toContain('lb.port');
  });
});
