// Which service a request goes to when an autoscaler announces a sleep (PUT /api/service/state
// {service}) before the balancer has seen any backend: the registry's route table, with stand-in
// units (the table needs only how many requests wait in their queues for a wake).
import type { Logger } from '@headroom/shared';
import { describe, expect, it } from 'vitest';
import type { BackendSpec } from '../model/backend-spec.js';
import { ServiceRegistry, type ServiceUnit } from './service-registry.js';

const logger = { error: () => undefined } as unknown as Logger;

function registry(lbService: string): ServiceRegistry {
  return new ServiceRegistry(
    (key) =>
      ({
        key,
        core: { setBackends: () => ({ added: [], removed: [], changed: [] }) },
        hold: { rehome: () => undefined },
        queue: { waiting: () => 0 },
      }) as unknown as ServiceUnit,
    logger,
    'round-robin',
    lbService,
  );
}

function backend(service: string, host?: string): BackendSpec {
  return {
    id: `${service}-1`,
    url: 'http://127.0.0.1:1',
    name: `${service}-1`,
    service,
    source: 'static',
    sticky: { kind: 'none' },
    ...(host ? { routes: [{ hosts: [host] }] } : {}),
  } as BackendSpec;
}

type Setup = (r: ServiceRegistry) => void;

describe('a sleep announced for a named service: who answers the catch-all (ServiceRegistry.announced)', () => {
  it.each<[string, string, Setup, string, string]>([
    // the README's one-service set-up: no LB_SERVICE, the autoscaler's SERVICE=web sleeps first
    ['nothing known, no LB_SERVICE: the named service takes it', '', () => undefined, 'web', 'web'],
    ['LB_SERVICE=shop: it keeps its own catch-all', 'shop', () => undefined, 'web', 'shop'],
    [
      'an unlabelled backend serves already: the default keeps it',
      '',
      (r) => r.setBackends([backend('')], 0),
      'web',
      '',
    ],
    [
      'another service has its route already: no catch-all handed out',
      '',
      (r) => r.setBackends([backend('api', 'api.example.com')], 0),
      'web',
      '(no route)',
    ],
    ['"default" announced: the unnamed one', '', () => undefined, '', ''],
  ])('%s', (_name, lbService, setup, announced, expected) => {
    const r = registry(lbService);
    setup(r);
    const unit = r.announced(announced);
    expect(unit.key).toBe(announced);
    expect(r.route('anything.example.org', '/x')?.service ?? '(no route)').toBe(expected);
  });

  it("the named service's replicas, once registered, keep the catch-all", () => {
    const r = registry('');
    r.announced('web');
    r.setBackends([backend('web')], 0);
    expect(r.route(undefined, '/')?.service).toBe('web');
    expect(r.defaultUnit().key).toBe('web');
  });
});
