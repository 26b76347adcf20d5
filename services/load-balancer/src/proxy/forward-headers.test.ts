import { parseCidr } from '@headroom/shared';
import { describe, expect, it } from 'vitest';
import { downstreamResponseHeaders, readCookie, upstreamRequestHeaders } from './forward-headers.js';
import { classifyFailure, mayRetry } from './retry-decision.js';
import { TrustedProxies } from './trusted-proxies.js';

describe('upstreamRequestHeaders', () => {
  it('drops hop-by-hop headers and those named in Connection, keeps the rest', () => {
    const out = upstreamRequestHeaders(
      {
        host: 'example.test',
        connection: 'keep-alive, X-Secret-Hop, close',
        'keep-alive': 'timeout=5',
        'x-secret-hop': '1',
        te: 'trailers',
        upgrade: 'h2c',
        'proxy-authorization': 'Basic x',
        'transfer-encoding': 'chunked',
        accept: 'application/json',
        'x-custom': 'y',
      },
      { remoteAddress: '10.0.0.9', encrypted: false },
    );
    expect(out).toEqual({
      host: 'example.test',
      accept: 'application/json',
      'x-custom': 'y',
      'x-forwarded-for': '10.0.0.9',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'example.test',
    });
  });
  it('from a trusted proxy: appends to an existing X-Forwarded-For and keeps given proto/host', () => {
    const out = upstreamRequestHeaders(
      { 'x-forwarded-for': '1.2.3.4', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'a', host: 'b' },
      { remoteAddress: '127.0.0.1', encrypted: false, trusted: true },
    );
    expect(out['x-forwarded-for']).toBe('1.2.3.4, 127.0.0.1');
    expect(out['x-forwarded-proto']).toBe('https');
    expect(out['x-forwarded-host']).toBe('a');
  });
  it('a request that came over TLS is https to the backend, whatever the client sent', () => {
    for (const given of [undefined, 'http', 'https']) {
      const incoming = given === undefined ? { host: 'a' } : { host: 'a', 'x-forwarded-proto': given };
      expect(
        upstreamRequestHeaders(incoming, { remoteAddress: '::1', encrypted: true })['x-forwarded-proto'],
      ).toBe('https');
    }
  });
  it('strips hop-by-hop response headers', () => {
    expect(
      downstreamResponseHeaders({
        connection: 'x-a',
        'x-a': '1',
        'keep-alive': 't',
        'content-type': 'text/plain',
      }),
    ).toEqual({
      'content-type': 'text/plain',
    });
  });
});

describe('TRUSTED_PROXIES: whose X-Forwarded-* is kept', () => {
  const sent = {
    host: 'app.test',
    'x-forwarded-for': '6.6.6.6',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'bank.test',
    'x-forwarded-port': '443',
    forwarded: 'for=6.6.6.6;proto=https',
    'x-real-ip': '6.6.6.6',
  };
  const proxies = new TrustedProxies(['10.0.0.0/8', '192.168.1.7', 'fd00::/8']);
  // peer → trusted?, then what the backend gets
  const rows: Array<[string, string, boolean, Record<string, string | undefined>]> = [
    [
      'untrusted IPv4 peer: its headers dropped, ours written',
      '203.0.113.5',
      false,
      {
        'x-forwarded-for': '203.0.113.5',
        'x-forwarded-proto': 'http',
        'x-forwarded-host': 'app.test',
        'x-forwarded-port': undefined,
        forwarded: undefined,
        'x-real-ip': undefined,
      },
    ],
    [
      'a peer inside a trusted CIDR: kept, client appended',
      '10.1.2.3',
      true,
      {
        'x-forwarded-for': '6.6.6.6, 10.1.2.3',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'bank.test',
        'x-forwarded-port': '443',
        forwarded: 'for=6.6.6.6;proto=https',
        'x-real-ip': '6.6.6.6',
      },
    ],
    ['a single trusted address', '192.168.1.7', true, { 'x-forwarded-for': '6.6.6.6, 192.168.1.7' }],
    ['the address next to it', '192.168.1.8', false, { 'x-forwarded-for': '192.168.1.8' }],
    ['IPv4-mapped IPv6 peer in a trusted CIDR', '::ffff:10.9.9.9', true, { 'x-forwarded-proto': 'https' }],
    ['IPv6 peer in a trusted CIDR', 'fd12::1', true, { 'x-forwarded-host': 'bank.test' }],
    ['IPv6 peer outside', '2001:db8::1', false, { 'x-forwarded-host': 'app.test' }],
    ['unknown peer address', '', false, { 'x-forwarded-proto': 'http' }],
  ];
  it.each(rows)('%s', (_name, peer, trusted, want) => {
    expect(proxies.has(peer || undefined)).toBe(trusted);
    const out = upstreamRequestHeaders(sent, { remoteAddress: peer || undefined, encrypted: false, trusted });
    for (const [k, v] of Object.entries(want)) expect(out[k], k).toBe(v);
  });
  it('no TRUSTED_PROXIES (the default): nobody is trusted', () => {
    expect(new TrustedProxies([]).has('127.0.0.1')).toBe(false);
  });
  it.each([
    ['10.0.0.0/8', true],
    ['10.0.0.1', true],
    ['::1/128', true],
    ['0.0.0.0/0', true],
    ['10.0.0.0/33', false],
    ['10.0.0/8', false],
    ['example.com', false],
    ['10.0.0.0/8/1', false],
    ['fd00::/129', false],
  ])('parseCidr(%s) valid: %s', (entry, valid) => {
    expect(typeof parseCidr(entry) !== 'string').toBe(valid);
  });
});

describe('readCookie', () => {
  it.each([
    ['a=1; sid=abc; b=2', 'sid', 'abc'],
    ['sid=abc', 'sid', 'abc'],
    ['xsid=1; sid = z ', 'sid', 'z'],
    ['a=1', 'sid', undefined],
    [undefined, 'sid', undefined],
  ])('%s → %s', (header, name, value) => {
    expect(readCookie(header, name)).toBe(value);
  });
});

describe('mayRetry', () => {
  it.each([
    ['GET', false, 'connect-error', 0, 1, true],
    ['GET', false, 'connect-timeout', 0, 1, true],
    ['GET', false, 'connect-error', 1, 1, false],
    ['GET', false, 'headers-timeout', 0, 1, false],
    ['POST', false, 'connect-error', 0, 1, false],
    ['PUT', true, 'connect-error', 0, 1, false],
    ['DELETE', false, 'reset', 0, 1, true],
    ['GET', false, 'reset', 0, 1, true],
    ['POST', false, 'reset', 0, 1, false],
    ['GET', false, 'body-timeout', 0, 1, false],
    ['GET', false, 'other', 0, 1, false],
  ] as const)('%s body=%s %s attempt %i/%i → %s', (method, body, failure, attempt, retries, expected) => {
    expect(mayRetry(method, body, failure, attempt, retries)).toBe(expected);
  });
  it('classifies errors', () => {
    expect(classifyFailure({ code: 'ECONNREFUSED' })).toBe('connect-error');
    expect(classifyFailure({ code: 'UND_ERR_HEADERS_TIMEOUT' })).toBe('headers-timeout');
    expect(classifyFailure(new Error('x'))).toBe('other');
  });
});
