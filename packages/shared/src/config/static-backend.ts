// One BACKENDS entry (DISCOVERY=static): a base URL, optionally naming its service and routes
// in the fragment, which never reaches the backend:
//   http://127.0.0.1:9001#service=shop&host=shop.localhost&host=www.shop.localhost&path=/api&strip=true
// The keys mean what the lb.service, lb.host, lb.path and lb.path.strip labels mean, and
// `redirect=true` what lb.tls.redirect=true means.
import { parseBoolean, parseHostList, parsePathPrefix, type RouteLabels } from '../labels.js';

export interface StaticBackendEntry {
  /** Base URL, without the fragment and trailing slashes. */
  url: string;
  service?: string | undefined;
  routes?: RouteLabels | undefined;
}

const KEYS = new Set(['service', 'host', 'path', 'strip', 'redirect']);

/** Parses one entry; a string is the reason it is bad, naming the entry. */
export function parseStaticBackend(raw: string): StaticBackendEntry | string {
  const hash = raw.indexOf('#');
  const base = (hash < 0 ? raw : raw.slice(0, hash)).replace(/\/+$/, '');
  let u: URL;
  try {
    u = new URL(base);
  } catch {
    return `"${raw}" is not a URL`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `"${raw}" is not http(s)`;
  if (hash < 0) return { url: base };
  const params = new URLSearchParams(raw.slice(hash + 1));
  for (const key of params.keys())
    if (!KEYS.has(key)) return `"${raw}": unknown key "${key}" (service, host, path, strip, redirect)`;
  const service = params.get('service') ?? undefined;
  if (service !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/.test(service))
    return `"${raw}": service "${service}" (letters, digits, _ . -)`;
  const hosts = parseHostList(params.getAll('host').join(','));
  if (typeof hosts === 'string') return `"${raw}": host ${hosts}`;
  const path = parsePathPrefix(params.get('path') ?? undefined);
  if (typeof path === 'object') return `"${raw}": path ${path.error}`;
  const strip = parseBoolean(params.get('strip') ?? undefined);
  if (typeof strip === 'string') return `"${raw}": strip ${strip}`;
  if (strip === true && path === undefined) return `"${raw}": strip=true needs a path`;
  const redirect = parseBoolean(params.get('redirect') ?? undefined);
  if (typeof redirect === 'string') return `"${raw}": redirect ${redirect}`;
  const routes =
    hosts.length > 0 || path !== undefined || redirect === true
      ? { hosts, path, strip: strip === true, ...(redirect === true ? { tlsRedirect: true } : {}) }
      : undefined;
  return { url: base, ...(service === undefined ? {} : { service }), ...(routes ? { routes } : {}) };
}
