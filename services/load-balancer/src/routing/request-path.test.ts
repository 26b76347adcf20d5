// The request path in normal form (RFC 3986 §6.2.2, Envoy's normalize_path): raw path in,
// the path routes are matched on and the backend receives out, or a 400.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROXY_ERRORS } from '../errors.js';
import { normaliseRequestPath } from './request-path.js';
import { buildRouteTable } from './route-table.js';

const BAD = PROXY_ERRORS.invalidPath;

// [raw request-target, normal form, or the error it is answered with]
const ROWS: Array<[string, string | typeof BAD]> = [
  // already normal: returned as is
  ['/', '/'],
  ['/api/items?x=1', '/api/items?x=1'],
  ['/static/app.v2.js', '/static/app.v2.js'],
  ['/.well-known/acme-challenge/t', '/.well-known/acme-challenge/t'],
  ['/a/..b/c.', '/a/..b/c.'],
  // dot segments (§5.2.4)
  ['/api/../admin', '/admin'],
  ['/api/./items', '/api/items'],
  ['/a/b/c/./../../g', '/a/g'],
  ['/a/b/..', '/a/'],
  ['/a/b/.', '/a/b/'],
  ['/..', '/'],
  ['/../../etc/passwd', '/etc/passwd'],
  ['/.', '/'],
  ['/a//../b', '/a/b'],
  // escaped unreserved characters decoded (§6.2.2.2)
  ['/%61pi', '/api'],
  ['/%41%5A%30%2D%2e%5F%7e', '/AZ0-._~'],
  // ...before dot segments are removed: an encoded '..' is one too
  ['/api/%2e%2e/admin', '/admin'],
  ['/api/%2E./admin', '/admin'],
  // other escapes kept, hex upper-case (§6.2.2.1): an encoded slash is data, not a separator
  ['/a%2fb', '/a%2Fb'],
  ['/api/..%2fadmin', '/api/..%2Fadmin'],
  ['/caf%c3%a9', '/caf%C3%A9'],
  ['/a%20b', '/a%20b'],
  ['/a%3ab', '/a%3Ab'],
  ['/%25', '/%25'],
  ['/%2561', '/%2561'],
  // the query is the backend's: never touched, even with dots or bad escapes in it
  ['/a/../b?x=/../%zz&y=%61', '/b?x=/../%zz&y=%61'],
  ['/%61?', '/a?'],
  // malformed escapes: 400
  ['/%zz', BAD],
  ['/api/%2', BAD],
  ['/api/%', BAD],
  ['/%g0/x', BAD],
  ['/%0', BAD],
  // not origin-form: not this function's (absolute-form is converted before, '*' has no path)
  ['*', '*'],
];

describe('normaliseRequestPath (RFC 3986 §6.2.2)', () => {
  it.each(ROWS)('%s → %s', (raw, want) => {
    const got = normaliseRequestPath(raw);
    if (want === BAD) {
      expect(typeof got).toBe('object');
      expect((got as { message: string }).message).toMatch(/malformed percent-encoding/);
    } else expect(got).toBe(want);
  });

  it('returns the very string when there is nothing to do (no allocation on the common path)', () => {
    const raw = `/api/items/${'x'.repeat(20)}?q=1`;
    expect(normaliseRequestPath(raw)).toBe(raw);
  });

  const pathChar = fc.constantFrom(
    'a',
    'Z',
    '0',
    '.',
    '/',
    '-',
    '~',
    '%2e',
    '%2E',
    '%61',
    '%2f',
    '%c3',
    '..',
    './',
  );
  const path = fc.array(pathChar, { maxLength: 20 }).map((cs) => `/${cs.join('')}`);

  it('is idempotent, leaves no dot segment, and keeps the query (property)', () => {
    fc.assert(
      fc.property(path, fc.string(), (p, q) => {
        const once = normaliseRequestPath(`${p}?${q}`);
        expect(typeof once).toBe('string');
        const s = once as string;
        expect(normaliseRequestPath(s)).toBe(s);
        const [pathPart] = s.split('?', 1);
        expect(pathPart!.split('/').slice(1)).not.toContain('.');
        expect(pathPart!.split('/').slice(1)).not.toContain('..');
        expect(s.slice(pathPart!.length)).toBe(`?${q}`);
      }),
    );
  });
});

describe('routes are matched on the normal form', () => {
  const { table } = buildRouteTable([
    { service: 'api', host: '', path: '/api', strip: false },
    { service: 'web', host: '', path: '/', strip: false },
  ]);
  const serviceOf = (raw: string) => {
    const p = normaliseRequestPath(raw);
    return typeof p === 'string' ? table.lookup('x', p)?.service : 'bad';
  };

  it.each([
    ['/api/../admin', 'web'],
    ['/api/%2e%2e/admin', 'web'],
    ['/%61pi', 'api'],
    ['/%61pi/items?x=1', 'api'],
    ['/x/../api/items', 'api'],
    ['/apix', 'web'],
  ])('%s → %s', (raw, service) => {
    expect(serviceOf(raw)).toBe(service);
  });
});
