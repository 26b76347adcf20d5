import { describe, expect, it } from 'vitest';
import {
  allowedMethods,
  curlHint,
  publicBase,
  type RouteMethods,
  recordRoute,
} from './method-not-allowed.js';

describe('405 helpers', () => {
  const routes: RouteMethods = new Map();
  recordRoute(routes, '/cpu/toggle', 'POST');
  recordRoute(routes, '/cpu', ['GET', 'HEAD']);
  recordRoute(routes, '/memory', 'delete');
  recordRoute(routes, '/memory', 'POST');
  recordRoute(routes, '/memory', 'GET');

  it.each([
    ['/cpu/toggle', ['POST']],
    ['/cpu', ['GET', 'HEAD']],
    ['/memory', ['GET', 'POST', 'DELETE']],
    ['/nope', undefined],
  ])('%s allows %j', (path, methods) => {
    expect(allowedMethods(routes, path)).toEqual(methods);
  });

  it.each([
    [{ host: 'localhost:8080' }, 'http://localhost:8080'],
    // through the balancer: the host the client typed
    [
      { host: '127.0.0.1:41234', 'x-forwarded-host': 'localhost:8080', 'x-forwarded-proto': 'https' },
      'https://localhost:8080',
    ],
    [{ 'x-forwarded-host': 'a:1, b:2' }, 'http://a:1'],
    [{}, 'http://fallback:3000'],
  ])('public base of %j is %s', (headers, base) => {
    expect(publicBase(headers, 'fallback:3000')).toBe(base);
  });

  it.each([
    [['POST'], 'curl -X POST http://h/cpu/toggle'],
    [['GET', 'HEAD'], 'curl http://h/cpu/toggle'],
    [['HEAD'], 'curl -X HEAD http://h/cpu/toggle'],
    [['DELETE'], 'curl -X DELETE http://h/cpu/toggle'],
  ])('hint for %j', (allowed, hint) => {
    expect(curlHint(allowed, 'http://h/cpu/toggle')).toBe(hint);
  });
});
