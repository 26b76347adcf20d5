// The route table, pure: rules in (which service answers which host and path prefix), an
// immutable table out, and lookup(host, url) → the route, or undefined (the proxy answers
// 404 LB_ERR_NO_ROUTE). Order, as Caddy's site blocks and NGINX's server_name/location:
//   1. an exact host beats a one-label wildcard (`*.example.com`) beats no host;
//   2. within that host, the longest path prefix, segment-aware (`/api` matches `/api`,
//      `/api/x` and `/api?q`, never `/apix`);
//   3. when no prefix of the exact host matches, the wildcard's routes are tried, then the
//      host-less ones (a host with only `/api` does not hide the catch-all's `/`).
// Not Traefik's rule-length priority (research/front-door-and-overload.md §1.3: renaming a
// prefix can change the winner there). Two services claiming the same host and path is a
// configuration error: the claim that was in the previous table keeps it, else the first
// in rule order; the builder reports each conflict with both names for the caller to log.
// Lookup cost: one Map get per host tier plus a scan of that host's prefixes, longest
// first, which stays short however many services there are (bench: pnpm bench routing).
import { normaliseHost } from './host.js';

/** One claim: `service` answers `host` ('' = any host; `*.x.y` = one label under x.y) under `path`. */
export interface RouteRule {
  readonly service: string;
  readonly host: string;
  /** A path prefix starting with '/'; '/' = every path. */
  readonly path: string;
  /** Remove `path` from the request's path before forwarding (lb.path.strip). */
  readonly strip: boolean;
}

/** A route of the table (the lookup's answer): the rule in normal form. */
export interface Route extends RouteRule {}

export interface RouteConflict {
  readonly host: string;
  readonly path: string;
  /** The service that keeps the route. */
  readonly kept: string;
  /** The service whose claim is ignored. */
  readonly dropped: string;
}

/** `/api/` → `/api`; '' → '/'. A prefix is compared segment-wise, so its trailing slash says nothing. */
export function normalisePath(path: string): string {
  let p = path.startsWith('/') ? path : `/${path}`;
  while (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

/** Does `url` (path plus query) fall under `prefix` (normal form), segment-aware? */
export function underPrefix(url: string, prefix: string): boolean {
  const n = prefix.length;
  if (n === 1) return true; // '/'
  if (!url.startsWith(prefix)) return false;
  if (url.length === n) return true;
  const c = url.charCodeAt(n);
  return c === 47 /* / */ || c === 63 /* ? */ || c === 35; /* # */
}

/** The path a stripped route forwards: `/api/x?q` under `/api` → `/x?q`; `/api` → `/`; `/api?q` → `/?q`. */
export function stripPrefix(url: string, prefix: string): string {
  if (prefix.length === 1) return url;
  const rest = url.slice(prefix.length);
  return rest.length === 0 || rest.charCodeAt(0) !== 47 ? `/${rest}` : rest;
}

/** Host-less routes longer than this are indexed by their first segment (so 500 of them stay a short scan). */
const SCAN_LIMIT = 16;

/** The prefixes of one host tier, longest first. */
class PrefixList {
  readonly all: Route[] = [];
  /** first segment ('/api' of '/api/v1') → the routes under it, longest first; plus '/' ones in `root`. */
  private bySegment: Map<string, Route[]> | undefined;
  private root: Route[] = [];

  add(r: Route): void {
    this.all.push(r);
  }

  seal(): void {
    this.all.sort((a, b) => b.path.length - a.path.length);
    if (this.all.length <= SCAN_LIMIT) return;
    this.bySegment = new Map();
    for (const r of this.all) {
      if (r.path === '/') {
        this.root.push(r);
        continue;
      }
      const key = firstSegment(r.path);
      let list = this.bySegment.get(key);
      if (list === undefined) {
        list = [];
        this.bySegment.set(key, list);
      }
      list.push(r);
    }
  }

  match(url: string): Route | undefined {
    const index = this.bySegment;
    if (index === undefined) {
      const all = this.all;
      for (let i = 0; i < all.length; i++) if (underPrefix(url, all[i]!.path)) return all[i];
      return undefined;
    }
    const list = index.get(firstSegment(url));
    if (list !== undefined)
      for (let i = 0; i < list.length; i++) if (underPrefix(url, list[i]!.path)) return list[i];
    return this.root[0];
  }
}

/** '/api/v1?x' → '/api'; '/api?x' → '/api'; '/' → '/'. */
function firstSegment(url: string): string {
  let end = 1;
  while (end < url.length) {
    const c = url.charCodeAt(end);
    if (c === 47 || c === 63 || c === 35) break;
    end++;
  }
  return url.slice(0, end);
}

export class RouteTable {
  private readonly exact = new Map<string, PrefixList>();
  /** `*.example.com` is kept under `example.com`: a host's parent domain is one indexOf away. */
  private readonly wildcard = new Map<string, PrefixList>();
  private readonly anyHost = new PrefixList();
  /** `host path` → service, for owner(). */
  private readonly claims = new Map<string, string>();
  readonly routes: readonly Route[];

  constructor(routes: readonly Route[]) {
    this.routes = routes;
    for (const r of routes) {
      this.claims.set(`${r.host} ${r.path}`, r.service);
      if (r.host === '') this.anyHost.add(r);
      else if (r.host.startsWith('*.')) listOf(this.wildcard, r.host.slice(2)).add(r);
      else listOf(this.exact, r.host).add(r);
    }
    for (const l of this.exact.values()) l.seal();
    for (const l of this.wildcard.values()) l.seal();
    this.anyHost.seal();
  }

  get size(): number {
    return this.routes.length;
  }

  /** The route for a request: `host` as the client sent it (Host header), `url` its path and query. */
  lookup(host: string | undefined, url: string): Route | undefined {
    const h = normaliseHost(host);
    if (h !== '') {
      const exact = this.exact.get(h);
      if (exact !== undefined) {
        const r = exact.match(url);
        if (r !== undefined) return r;
      }
      if (this.wildcard.size > 0) {
        const dot = h.indexOf('.');
        if (dot > 0) {
          const wild = this.wildcard.get(h.slice(dot + 1));
          if (wild !== undefined) {
            const r = wild.match(url);
            if (r !== undefined) return r;
          }
        }
      }
    }
    return this.anyHost.match(url);
  }

  /** The service that owns this exact claim, if any. */
  owner(host: string, path: string): string | undefined {
    return this.claims.get(`${host} ${path}`);
  }
}

function listOf(m: Map<string, PrefixList>, key: string): PrefixList {
  let l = m.get(key);
  if (l === undefined) {
    l = new PrefixList();
    m.set(key, l);
  }
  return l;
}

export const EMPTY_TABLE = new RouteTable([]);

/**
 * Builds the table. `previous`: the table in force, whose owners keep their claims (a service
 * that starts later and claims a taken route is the one reported, whatever the rule order).
 */
export function buildRouteTable(
  rules: readonly RouteRule[],
  previous: RouteTable = EMPTY_TABLE,
): { table: RouteTable; conflicts: RouteConflict[] } {
  const owners = new Map<string, Route>();
  const conflicts: RouteConflict[] = [];
  const normal = rules.map(
    (r): Route =>
      Object.freeze({
        service: r.service,
        host: normaliseRuleHost(r.host),
        path: normalisePath(r.path),
        strip: r.strip,
      }),
  );
  // claims held in the previous table first (stable otherwise): first come keeps it
  const held = (r: Route) => previous.owner(r.host, r.path) === r.service;
  const ordered = [...normal.filter(held), ...normal.filter((r) => !held(r))];
  for (const r of ordered) {
    const key = `${r.host} ${r.path}`;
    const had = owners.get(key);
    if (had === undefined) owners.set(key, r);
    else if (had.service !== r.service)
      conflicts.push({ host: r.host, path: r.path, kept: had.service, dropped: r.service });
  }
  return { table: new RouteTable([...owners.values()]), conflicts };
}

/** A rule's host: lower-case, no trailing dot; `*.Example.COM` → `*.example.com`. */
function normaliseRuleHost(host: string): string {
  if (host.startsWith('*.')) return `*.${normaliseHost(host.slice(2))}`;
  return normaliseHost(host);
}

/** The rules a service's labels make: each host × its path; neither → the catch-all (any host, '/'). */
export function serviceRules(
  service: string,
  hosts: readonly string[],
  path: string | undefined,
  strip: boolean,
): RouteRule[] {
  const p = path ?? '/';
  if (hosts.length === 0) return [{ service, host: '', path: p, strip }];
  return hosts.map((host) => ({ service, host, path: p, strip }));
}
