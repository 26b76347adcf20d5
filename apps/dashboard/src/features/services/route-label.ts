// How a route reads in the route table: `host/path`, `*` for any host; what the balancer matches
// (exact host, then `*.x` wildcard, then any host; the longest path prefix) in one string.
import type { RouteView, ServiceSummary } from '@headroom/shared/contracts';

export function routeLabel(r: RouteView): string {
  if (r.host === '' && r.path === '/') return 'catch-all (any host, any path)';
  const host = r.host === '' ? '*' : r.host;
  const path = r.path === '/' ? '/' : r.path;
  return `${host}${path}${r.strip ? ' (prefix stripped)' : ''}`;
}

/** The service a backend belongs to, as /api/services names it (unlabelled: the catch-all). */
export function serviceOfBackend(b: { service: string }): string {
  return b.service === '' ? 'default' : b.service;
}

/** The services a person picks from: named ones first by name, the catch-all `default` last, and
 * only when it has backends or routes (a balancer with labelled services only keeps an empty one). */
export function selectableServices(services: readonly ServiceSummary[]): ServiceSummary[] {
  return services
    .filter((s) => s.name !== 'default' || s.backends > 0 || s.routes.length > 0)
    .sort((a, b) => (a.name === 'default' ? 1 : b.name === 'default' ? -1 : a.name.localeCompare(b.name)));
}
