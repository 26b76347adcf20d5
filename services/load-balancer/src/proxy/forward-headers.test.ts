import { describe, expect, it } from 'vitest';
import { downstreamResponseHeaders, readCookie, upstreamRequestHeaders } from './forward-headers.js';
import { classifyFailure, mayRetry } from './retry-decision.js';

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
  it('appends to an existing X-Forwarded-For and keeps given proto/host', () => {
    const out = upstreamRequestHeaders(
      { 'x-forwarded-for': '1.2.3.4', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'a', host: 'b' },
      { remoteAddress: '127.0.0.1', encrypted: false },
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
