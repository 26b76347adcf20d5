import type { ServiceSummary } from '@headroom/shared/contracts';
import { describe, expect, it } from 'vitest';
import { routeLabel, selectableServices } from './route-label';

describe('routeLabel', () => {
  it.each([
    [{ host: 'shop.example.com', path: '/', strip: false }, 'shop.example.com/'],
    [{ host: '', path: '/api', strip: true }, '*/api (prefix stripped)'],
    [{ host: '*.example.com', path: '/', strip: false }, '*.example.com/'],
    [{ host: '', path: '/', strip: false }, 'catch-all (any host, any path)'],
  ])('%j → %s', (route, want) => {
    expect(routeLabel(route)).toBe(want);
  });
});

describe('selectableServices', () => {
  const s = (name: string, backends: number, routes = 0): ServiceSummary => ({
    name,
    routes: Array.from({ length: routes }, () => ({ host: 'h', path: '/', strip: false })),
    mode: 'resource-aware',
    state: 'awake',
    backends,
    healthy: backends,
  });
  it('sorts by name with the catch-all last, and hides an empty catch-all', () => {
    expect(selectableServices([s('default', 2), s('shop', 1), s('blog', 1)]).map((x) => x.name)).toEqual([
      'blog',
      'shop',
      'default',
    ]);
    expect(selectableServices([s('default', 0), s('shop', 1)]).map((x) => x.name)).toEqual(['shop']);
  });
});
