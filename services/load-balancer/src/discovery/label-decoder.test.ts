// One decoder for Docker and Swarm: the same labels give the same backend fields and the same
// skip reasons on both (Swarm once dropped a bad lb.weight/lb.sticky silently, ignored lb.slowstart).
import { describe, expect, it } from 'vitest';
import type { ContainerRecord } from './container-record.js';
import { containerToBackend } from './container-to-backend.js';
import { decodeLabels } from './label-decoder.js';
import { type SwarmService, type SwarmTask, tasksToBackends } from './swarm-source.js';

const base = { 'lb.enable': 'true', 'lb.port': '3000', 'lb.service': 'app' };

function viaDocker(labels: Record<string, string>) {
  const c: ContainerRecord = {
    id: 'c'.repeat(64),
    name: 'app-1',
    running: true,
    labels,
    exposedPorts: [3000],
    networks: { net: '10.0.0.5' },
    published: {},
    nanoCpus: 0,
    cpuQuota: 0,
    cpuPeriod: 0,
    memoryBytes: 0,
    health: undefined,
  };
  return containerToBackend(c, {
    service: undefined,
    ownNetworks: ['net'],
    network: undefined,
    addressMode: 'network',
    healthPath: undefined,
    publishedHost: '127.0.0.1',
  });
}

function viaSwarm(labels: Record<string, string>) {
  const service = { ID: 'svc1', Spec: { Name: 'app', Labels: labels } } as SwarmService;
  const task = {
    ID: 't'.repeat(25),
    ServiceID: 'svc1',
    Slot: 1,
    DesiredState: 'running',
    Status: { State: 'running' },
    NetworksAttachments: [{ Network: { Spec: { Name: 'net' } }, Addresses: ['10.0.0.6/24'] }],
  } as SwarmTask;
  return tasksToBackends(service, [task], {
    network: 'net',
    ownNetworks: [],
    healthPath: undefined,
    service: undefined,
  });
}

describe('label decoder: Docker and Swarm read the same labels the same way', () => {
  it.each([
    [{ 'lb.weight': '2' }, { weight: 2 }],
    [{ 'lb.slowstart': '5000' }, { slowStartMs: 5000 }],
    [{ 'lb.sticky': 'cookie' }, { sticky: { kind: 'cookie', cookie: 'headroom_affinity' } }],
    [
      { 'lb.host': 'a.test,*.b.test', 'lb.path': '/api', 'lb.path.strip': 'true' },
      { routes: [{ hosts: ['a.test', '*.b.test'], path: '/api', strip: true }] },
    ],
    [{ 'lb.health.path': '/up' }, { healthPath: '/up', healthStatus: '200-399' }],
  ])('%j', (extra, fields) => {
    const d = viaDocker({ ...base, ...extra });
    const s = viaSwarm({ ...base, ...extra });
    expect('spec' in d && d.spec).toMatchObject(fields);
    expect(s.specs[0]).toMatchObject(fields);
  });

  it.each([
    [{ 'lb.weight': 'heavy' }, 'lb.weight'],
    [{ 'lb.sticky': 'sometimes' }, 'lb.sticky'],
    [{ 'lb.slowstart': '-1' }, 'lb.slowstart'],
    [{ 'lb.host': 'a*b.test' }, 'lb.host'],
    [{ 'lb.path': 'api' }, 'lb.path'],
    [{ 'lb.path.strip': 'true' }, 'lb.path.strip'],
  ])('bad %j: both skip, naming the label', (extra, label) => {
    const d = viaDocker({ ...base, ...extra });
    const s = viaSwarm({ ...base, ...extra });
    expect('skip' in d && d.skip).toContain(label);
    expect(s.specs).toEqual([]);
    expect(s.skip).toContain(label);
    expect(s.bad).toBe(true);
  });

  it('a Traefik-only container is imported; lb.* labels win over traefik.*', () => {
    const traefik = {
      'traefik.enable': 'true',
      'traefik.http.routers.blog.rule': 'Host(`blog.test`)',
      'traefik.http.services.blog.loadbalancer.server.port': '3000',
    };
    const d = viaDocker(traefik);
    expect('spec' in d && d.spec).toMatchObject({
      service: 'blog',
      url: 'http://10.0.0.5:3000',
      routes: [{ hosts: ['blog.test'], path: undefined, strip: false }],
    });
    const both = decodeLabels({ ...traefik, ...base }, {});
    expect('labels' in both && both.labels.origin).toBe('lb');
    const bad = viaDocker({ ...traefik, 'traefik.http.routers.blog.rule': 'HostRegexp(`.*`)' });
    expect('skip' in bad && bad.skip).toContain('"HostRegexp(`.*`)"');
  });
});
