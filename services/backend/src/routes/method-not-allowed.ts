// A path that exists with another method answers 405 with `Allow` and the command that
// works: `curl http://localhost:8080/cpu/toggle` is what people type first, and a 404 "no
// route" told them the path was wrong when only the method was. Pure helpers; the hook in
// app.ts records every route's methods.

/** Path → methods, filled from Fastify's onRoute hook. */
export type RouteMethods = Map<string, Set<string>>;

export function recordRoute(routes: RouteMethods, url: string, method: string | string[]): void {
  const set = routes.get(url) ?? new Set<string>();
  for (const m of Array.isArray(method) ? method : [method]) set.add(m.toUpperCase());
  routes.set(url, set);
}

/** The methods `path` answers, in a stable order, or undefined when the path is unknown. */
export function allowedMethods(routes: RouteMethods, path: string): string[] | undefined {
  const set = routes.get(path);
  if (!set || set.size === 0) return undefined;
  const order = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
  return [...set].sort((a, b) => order.indexOf(a) - order.indexOf(b) || a.localeCompare(b));
}

/** The request's own base URL as the client typed it (through the balancer: its host). */
export function publicBase(
  headers: Record<string, string | string[] | undefined>,
  fallbackHost: string,
): string {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim();
  const proto = first(headers['x-forwarded-proto']) ?? 'http';
  const host = first(headers['x-forwarded-host']) ?? first(headers.host) ?? fallbackHost;
  return `${proto}://${host}`;
}

/** The curl line that would have worked: the first allowed method other than HEAD. */
export function curlHint(allowed: readonly string[], url: string): string {
  const method = allowed.find((m) => m !== 'HEAD') ?? allowed[0] ?? 'GET';
  return method === 'GET' ? `curl ${url}` : `curl -X ${method} ${url}`;
}
