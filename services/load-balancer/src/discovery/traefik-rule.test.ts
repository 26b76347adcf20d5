import { describe, expect, it } from 'vitest';
import { parseTraefikRule, traefikImport } from './traefik-rule.js';

describe('Traefik rule subset: rule in, routes out', () => {
  it.each([
    ['Host(`a.test`)', ['a.test'], undefined],
    ['Host(`A.test`, `b.test`)', ['a.test', 'b.test'], undefined],
    ['Host(`a.test`) || Host(`b.test`)', ['a.test', 'b.test'], undefined],
    ['Host("a.test")', ['a.test'], undefined],
    ['PathPrefix(`/api`)', [], '/api'],
    ['Host(`a.test`) && PathPrefix(`/api`)', ['a.test'], '/api'],
    ['PathPrefix(`/api`) && Host(`a.test`)', ['a.test'], '/api'],
    ['(Host(`a.test`) || Host(`b.test`)) && PathPrefix(`/x`)', ['a.test', 'b.test'], '/x'],
    ['  Host( `*.a.test` )  ', ['*.a.test'], undefined],
  ])('%s', (rule, hosts, path) => {
    expect(parseTraefikRule(rule)).toEqual({ hosts, path, strip: false });
  });

  it.each([
    ['HostRegexp(`{sub:[a-z]+}.a.test`)', 'HostRegexp is not imported'],
    ['Path(`/exact`)', 'Path is not imported'],
    ['Host(`a.test`) || PathPrefix(`/x`)', '|| is not imported'],
    ['Host(`a.test`) && Method(`GET`)', 'only one host group and one PathPrefix'],
    ['PathPrefix(`/a`) && PathPrefix(`/b`)', 'only one host group and one PathPrefix'],
    ["Host('a.test')", 'cannot read'],
    ['Host(`a.test`', 'cannot read'],
    ['!Host(`a.test`)', 'cannot read'],
    ['Host(`a b`)', 'not a host name'],
    ['PathPrefix(`api`)', 'starting with "/"'],
  ])('%s is refused, quoted', (rule, why) => {
    const r = parseTraefikRule(rule);
    expect(typeof r).toBe('string');
    expect(r).toContain(`"${rule}"`);
    expect(r).toContain(why);
  });
});

describe('Traefik labels: service, port and routes', () => {
  const R = 'traefik.http.routers.';
  const S = 'traefik.http.services.';
  it.each([
    [
      'router and service',
      { [`${R}web.rule`]: 'Host(`w.test`)', [`${S}site.loadbalancer.server.port`]: '8080' },
      { service: 'site', port: 8080, routes: [{ hosts: ['w.test'], path: undefined, strip: false }] },
    ],
    [
      'router only: named after the router, port left to the exposed one',
      { [`${R}blog.rule`]: 'PathPrefix(`/blog`)' },
      { service: 'blog', port: undefined, routes: [{ hosts: [], path: '/blog', strip: false }] },
    ],
    [
      'two routers to one service',
      {
        [`${R}a.rule`]: 'Host(`a.test`)',
        [`${R}a.service`]: 'app',
        [`${R}b.rule`]: 'Host(`b.test`) && PathPrefix(`/v2`)',
        [`${R}b.service`]: 'app',
        [`${S}app.loadbalancer.server.port`]: '3000',
      },
      {
        service: 'app',
        port: 3000,
        routes: [
          { hosts: ['a.test'], path: undefined, strip: false },
          { hosts: ['b.test'], path: '/v2', strip: false },
        ],
      },
    ],
  ])('%s', (_name, labels, want) => expect(traefikImport(labels)).toEqual(want));

  it.each([
    [{}, 'no traefik.http.routers'],
    [{ [`${R}a.rule`]: 'Path(`/x`)' }, '"Path(`/x`)"'],
    [{ [`${R}a.rule`]: 'Host(`a`)', [`${S}a.loadbalancer.server.port`]: 'http' }, 'expected a port'],
    [
      {
        [`${R}a.rule`]: 'Host(`a`)',
        [`${R}a.service`]: 'x',
        [`${R}b.rule`]: 'Host(`b`)',
        [`${R}b.service`]: 'y',
      },
      'several Traefik services',
    ],
  ])('%j is skipped: %s', (labels, why) => {
    const r = traefikImport(labels as Record<string, string>);
    expect(typeof r).toBe('string');
    expect(r).toContain(why);
  });
});
