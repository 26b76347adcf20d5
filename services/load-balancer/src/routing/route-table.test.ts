import { describe, expect, it } from 'vitest';
import { normaliseHost } from './host.js';
import { buildRouteTable, type RouteRule, serviceRules, stripPrefix, underPrefix } from './route-table.js';

const rules: RouteRule[] = [
  ...serviceRules('shop', ['shop.example.com'], undefined, false),
  ...serviceRules('shop-api', ['shop.example.com'], '/api', true),
  ...serviceRules('tenants', ['*.example.com'], undefined, false),
  ...serviceRules('tenant-admin', ['*.example.com'], '/admin', false),
  ...serviceRules('docs', ['docs.example.com', 'docs.example.org'], undefined, false),
  ...serviceRules('api', [], '/api', false),
  ...serviceRules('api-v2', [], '/api/v2', true),
  ...serviceRules('web', [], undefined, false),
  ...serviceRules('v6', ['::1'], undefined, false),
];

describe('route table: host and path in, service out', () => {
  const { table, conflicts } = buildRouteTable(rules);
  it.each([
    // exact host beats wildcard beats no host
    ['shop.example.com', '/', 'shop'],
    ['shop.example.com', '/cart?x=1', 'shop'],
    ['a.example.com', '/', 'tenants'],
    ['docs.example.com', '/', 'docs'],
    ['docs.example.org', '/guide', 'docs'],
    ['other.org', '/', 'web'],
    [undefined, '/', 'web'],
    // longest prefix, segment-aware
    ['shop.example.com', '/api', 'shop-api'],
    ['shop.example.com', '/api/items', 'shop-api'],
    ['shop.example.com', '/api?q=1', 'shop-api'],
    ['shop.example.com', '/apix', 'shop'],
    ['other.org', '/api', 'api'],
    ['other.org', '/api/v1/x', 'api'],
    ['other.org', '/api/v2', 'api-v2'],
    ['other.org', '/api/v2/users', 'api-v2'],
    ['other.org', '/api/v20', 'api'],
    ['other.org', '/apix', 'web'],
    // a wildcard is one label, never the apex, never two labels
    ['b.example.com', '/admin/x', 'tenant-admin'],
    ['example.com', '/', 'web'],
    ['x.y.example.com', '/', 'web'],
    // a host whose prefixes do not match falls through to the wildcard, then to no host
    ['docs.example.com', '/api', 'docs'],
    ['a.example.com', '/api', 'tenants'],
    // normalisation: case, port, trailing dot, IPv6 brackets
    ['SHOP.Example.COM', '/', 'shop'],
    ['shop.example.com:8080', '/api', 'shop-api'],
    ['shop.example.com.', '/', 'shop'],
    ['shop.example.com.:443', '/', 'shop'],
    ['[::1]:8080', '/', 'v6'],
    ['[::1]', '/', 'v6'],
  ])('%s %s → %s', (host, url, service) => {
    expect(table.lookup(host, url)?.service).toBe(service);
  });
  it('has no conflicts', () => expect(conflicts).toEqual([]));
  it('paths are case-sensitive (as the backends see them)', () => {
    expect(table.lookup('other.org', '/API')?.service).toBe('web');
  });
});

describe('route table: no match', () => {
  const { table } = buildRouteTable(serviceRules('shop', ['shop.localhost'], undefined, false));
  it.each([
    ['other.localhost', '/'],
    [undefined, '/'],
    ['shop.localhost.evil.com', '/'],
  ])('%s %s → none', (host, url) => expect(table.lookup(host, url)).toBeUndefined());
  it('an empty table matches nothing', () => {
    expect(buildRouteTable([]).table.lookup('a', '/')).toBeUndefined();
  });
});

describe('route table: duplicate claims', () => {
  it('the first service keeps a claim, the second is reported with both names', () => {
    const { table, conflicts } = buildRouteTable([
      ...serviceRules('a', ['x.com'], '/p', false),
      ...serviceRules('b', ['X.com.'], '/p/', false),
      ...serviceRules('b', ['y.com'], '/p', false),
    ]);
    expect(conflicts).toEqual([{ host: 'x.com', path: '/p', kept: 'a', dropped: 'b' }]);
    expect(table.lookup('x.com', '/p')?.service).toBe('a');
    expect(table.lookup('y.com', '/p')?.service).toBe('b');
  });
  it('the service in the previous table keeps it, whatever the new rule order', () => {
    const first = buildRouteTable(serviceRules('old', [], undefined, false)).table;
    const { table, conflicts } = buildRouteTable(
      [...serviceRules('new', [], undefined, false), ...serviceRules('old', [], undefined, false)],
      first,
    );
    expect(table.lookup('any', '/')?.service).toBe('old');
    expect(conflicts).toEqual([{ host: '', path: '/', kept: 'old', dropped: 'new' }]);
  });
  it('one service claiming a route twice is no conflict', () => {
    const { conflicts } = buildRouteTable([
      ...serviceRules('a', ['x.com'], undefined, false),
      ...serviceRules('a', ['x.com'], undefined, false),
    ]);
    expect(conflicts).toEqual([]);
  });
});

describe('route table: many routes', () => {
  // 500 host-less prefixes (indexed by first segment) and 500 hosts: still the right answer
  const many: RouteRule[] = [];
  for (let i = 0; i < 500; i++) many.push(...serviceRules(`p${i}`, [], `/s${i}`, false));
  for (let i = 0; i < 500; i++) many.push(...serviceRules(`h${i}`, [`h${i}.test`], undefined, false));
  many.push(...serviceRules('deep', [], '/s7/deeper', false), ...serviceRules('root', [], '/', false));
  const { table } = buildRouteTable(many);
  it.each([
    ['x', '/s7', 'p7'],
    ['x', '/s7/a', 'p7'],
    ['x', '/s7/deeper/a', 'deep'],
    ['x', '/s77', 'p77'],
    ['x', '/s499?x', 'p499'],
    ['x', '/nope', 'root'],
    ['h42.test', '/s7', 'h42'],
  ])('%s %s → %s', (host, url, service) => expect(table.lookup(host, url)?.service).toBe(service));
});

describe('path helpers', () => {
  it.each([
    ['/api', '/api', true],
    ['/api/', '/api', true],
    ['/api?x', '/api', true],
    ['/apix', '/api', false],
    ['/ap', '/api', false],
    ['/anything', '/', true],
  ])('underPrefix(%s, %s) = %s', (url, prefix, yes) => expect(underPrefix(url, prefix)).toBe(yes));
  it.each([
    ['/api/x?q', '/api', '/x?q'],
    ['/api', '/api', '/'],
    ['/api?q=1', '/api', '/?q=1'],
    ['/api/', '/api', '/'],
    ['/x', '/', '/x'],
  ])('stripPrefix(%s, %s) = %s', (url, prefix, out) => expect(stripPrefix(url, prefix)).toBe(out));
  it.each([
    ['Example.COM', 'example.com'],
    ['example.com:80', 'example.com'],
    ['example.com.', 'example.com'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['', ''],
  ])('normaliseHost(%s) = %s', (raw, out) => expect(normaliseHost(raw)).toBe(out));
});
