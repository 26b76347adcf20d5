// The one home of every Docker label name Headroom reads or writes. Nothing else
// spells an `lb.` or `headroom.` label literally (a test keeps it that way).

/** Labels a user puts on a container (or a Swarm service) to put it behind the balancer. */
export const LB_LABELS = {
  /** `true` puts the container behind the balancer. */
  enable: 'lb.enable',
  /** Container port to send traffic to; defaults to the single exposed port. */
  port: 'lb.port',
  /** Logical service name; groups replicas, and the autoscaler's SERVICE matches it. */
  service: 'lb.service',
  /** Path of an active HTTP health check; without it (and HEALTH_PATH) a TCP connect checks the backend. */
  healthPath: 'lb.health.path',
  /** Relative capacity (positive number); default: CPU limit relative to the others, else 1. */
  weight: 'lb.weight',
  /** `cookie` or `header:<name>` session affinity for the service. */
  sticky: 'lb.sticky',
  /** Cookie name when `lb.sticky=cookie`; default `headroom_affinity`. */
  stickyCookie: 'lb.sticky.cookie',
  /** Slow-start window in ms for a joining backend; default from SLOW_START_MS. */
  slowStart: 'lb.slowstart',
  /** Docker network to reach the container on, when it is attached to several. */
  network: 'lb.network',
  /**
   * Scale to zero: the service's idle window in ms (on the containers, or the Swarm service).
   * After this long with no request the autoscaler puts it to sleep; the balancer holds the
   * next request and wakes it. Overrides the autoscaler's SCALE_TO_ZERO_AFTER_MS.
   */
  idleAfter: 'lb.idle.after',
  /** Front door: comma-separated host names this service answers (`*.example.com` wildcards). */
  host: 'lb.host',
  /** Front door: a path prefix this service answers (segment-aware: `/api` matches `/api` and `/api/…`). */
  path: 'lb.path',
  /** `true` removes the `lb.path` prefix before forwarding. */
  pathStrip: 'lb.path.strip',
  /** Statuses that count as up for the HTTP health check, e.g. `200-499` (default 200-399). */
  healthStatus: 'lb.health.status',
  /** `true` answers the service's plain-HTTP requests with a 308 to https. */
  tlsRedirect: 'lb.tls.redirect',
  /** Per-service body/response idle timeout in ms (long streams: SSE, long-poll). */
  timeoutBody: 'lb.timeout.body',
  /** A static per-backend concurrency limit for the service (overrides the adaptive limit). */
  maxconn: 'lb.maxconn',
} as const;

/** Traefik labels Headroom imports when a container has `traefik.enable=true` and no `lb.*` label. */
export const TRAEFIK_LABELS = {
  enable: 'traefik.enable',
  /** Prefix of `traefik.http.routers.<name>.rule`. */
  routerPrefix: 'traefik.http.routers.',
  /** Prefix of `traefik.http.services.<name>.loadbalancer.server.port`. */
  servicePrefix: 'traefik.http.services.',
  /** After `traefik.http.routers.<name>`: the router's rule, and the service it sends to. */
  routerRule: 'rule',
  routerService: 'service',
  /** After `traefik.http.services.<name>.`: the container port. */
  servicePort: 'loadbalancer.server.port',
} as const;

/** Labels that put a service under the autoscaler (one set per service, like a KEDA ScaledObject). */
export const AUTOSCALE_LABELS = {
  /** `true`: the autoscaler scales this service. */
  enable: 'autoscale.enable',
  min: 'autoscale.min',
  max: 'autoscale.max',
  /** Targets per metric; the metrics named are the ones used. */
  targetCpu: 'autoscale.target.cpu',
  targetMemory: 'autoscale.target.memory',
  targetRps: 'autoscale.target.rps',
  targetConcurrency: 'autoscale.target.concurrency',
} as const;

/** What a service's `autoscale.*` labels ask for; absent fields take the autoscaler's env defaults. */
export interface AutoscaleLabels {
  min?: number | undefined;
  max?: number | undefined;
  /** The metrics named by `autoscale.target.<metric>` labels, with their per-replica targets. */
  targets: { metric: 'cpu' | 'memory' | 'rps' | 'concurrency'; target: number }[];
}

/** A malformed `autoscale.*` label: which one, and why. */
export interface AutoscaleLabelError {
  label: string;
  message: string;
}

const TARGET_PREFIX = 'autoscale.target.';
const TARGET_METRICS = ['cpu', 'memory', 'rps', 'concurrency'] as const;

/**
 * Parses one container's (or Swarm service's) `autoscale.*` labels: min and max as integers
 * (0 ≤ min ≤ max), one positive target per named metric, no unknown `autoscale.` key.
 * The first error is returned, naming the label.
 */
export function parseAutoscaleLabels(
  labels: Readonly<Record<string, string>>,
): { ok: true; value: AutoscaleLabels } | { ok: false; error: AutoscaleLabelError } {
  const value: AutoscaleLabels = { targets: [] };
  const known = new Set<string>([AUTOSCALE_LABELS.enable, AUTOSCALE_LABELS.min, AUTOSCALE_LABELS.max]);
  const int = (label: string): number | undefined | AutoscaleLabelError => {
    const raw = labels[label];
    if (raw === undefined || raw.trim() === '') return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 1000)
      return { label, message: `expected an integer 0..1000, got "${raw}"` };
    return n;
  };
  for (const [key, field] of [
    [AUTOSCALE_LABELS.min, 'min'],
    [AUTOSCALE_LABELS.max, 'max'],
  ] as const) {
    const n = int(key);
    if (typeof n === 'object') return { ok: false, error: n };
    value[field] = n;
  }
  if (value.max === 0)
    return { ok: false, error: { label: AUTOSCALE_LABELS.max, message: 'must be at least 1' } };
  if (value.min !== undefined && value.max !== undefined && value.min > value.max)
    return {
      ok: false,
      error: {
        label: AUTOSCALE_LABELS.min,
        message: `${value.min} exceeds ${AUTOSCALE_LABELS.max} ${value.max}`,
      },
    };
  for (const [key, raw] of Object.entries(labels)) {
    if (!key.startsWith('autoscale.') || known.has(key)) continue;
    if (!key.startsWith(TARGET_PREFIX))
      return { ok: false, error: { label: key, message: 'unknown autoscale label' } };
    const metric = key.slice(TARGET_PREFIX.length);
    if (!(TARGET_METRICS as readonly string[]).includes(metric))
      return {
        ok: false,
        error: { label: key, message: `unknown metric "${metric}" (one of ${TARGET_METRICS.join(', ')})` },
      };
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n <= 0)
      return { ok: false, error: { label: key, message: `expected a positive number, got "${raw}"` } };
    value.targets.push({ metric: metric as AutoscaleLabels['targets'][number]['metric'], target: n });
  }
  return { ok: true, value };
}

/** Labels the autoscaler writes on the replicas it creates. It never touches a container without them. */
export const OWNER_LABELS = {
  /** Value is {@link OWNER_VALUE}: the container was created by a Headroom autoscaler. */
  managedBy: 'headroom.managed-by',
  /** The SERVICE the replica belongs to (same value as `lb.service`). */
  service: 'headroom.service',
  /** Replica ordinal n of the name `<service>-<n>`. */
  replica: 'headroom.replica',
} as const;

export const OWNER_VALUE = 'headroom-autoscaler';

/** The stress backend's health path (compose and start-local set it; the balancer's default is a TCP check). */
export const DEFAULT_HEALTH_PATH = '/health';
/** Statuses that count as up for an HTTP health check without `lb.health.status` / HEALTH_STATUS. */
export const DEFAULT_HEALTH_STATUS = '200-399';
export const DEFAULT_STICKY_COOKIE = 'headroom_affinity';

/** Name of the n-th replica of a service; the single code path for replica names. */
export function replicaName(service: string, n: number): string {
  return `${service}-${n}`;
}

/** Inverse of {@link replicaName}; undefined when the name is not a replica of `service`. */
export function replicaIndex(service: string, name: string): number | undefined {
  const bare = name.startsWith('/') ? name.slice(1) : name;
  if (!bare.startsWith(`${service}-`)) return undefined;
  const rest = bare.slice(service.length + 1);
  if (!/^[1-9]\d*$/.test(rest)) return undefined;
  return Number(rest);
}

export type StickyPolicy =
  | { kind: 'none' }
  | { kind: 'cookie'; cookie: string }
  | { kind: 'header'; header: string };

/** Parses `lb.sticky` (+ `lb.sticky.cookie`). Returns an error string for a bad value. */
export function parseSticky(value: string | undefined, cookie: string | undefined): StickyPolicy | string {
  if (value === undefined || value === '' || value === 'none' || value === 'false') return { kind: 'none' };
  if (value === 'cookie')
    return { kind: 'cookie', cookie: cookie && cookie.length > 0 ? cookie : DEFAULT_STICKY_COOKIE };
  if (value.startsWith('header:')) {
    const header = value.slice('header:'.length).trim().toLowerCase();
    if (/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(header)) return { kind: 'header', header };
  }
  return `expected "cookie" or "header:<name>", got "${value}"`;
}

/** Parses `lb.enable`: Docker users write true/1/yes. */
export function isEnabled(value: string | undefined): boolean {
  return value !== undefined && /^(true|1|yes|on)$/i.test(value.trim());
}

/** Parses a positive finite number label (`lb.weight`, `lb.slowstart`); undefined when absent, string on error. */
export function parsePositiveNumber(
  value: string | undefined,
  allowZero = false,
): number | undefined | string {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) {
    return `expected a ${allowZero ? 'non-negative' : 'positive'} number, got "${value}"`;
  }
  return n;
}

/** Parses `lb.port`. */
export function parsePort(value: string | undefined): number | undefined | string {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) return `expected a port 1..65535, got "${value}"`;
  return n;
}

/** Inclusive HTTP status ranges, e.g. [[200, 499]] for `200-499`. */
export type StatusRanges = ReadonlyArray<readonly [number, number]>;

/**
 * Parses `lb.health.status` (and HEALTH_STATUS): comma-separated statuses or inclusive ranges,
 * e.g. `200-499` or `200,204,300-399`. Returns an error string for a bad value.
 */
export function parseStatusRanges(value: string): StatusRanges | string {
  const out: Array<readonly [number, number]> = [];
  const items = value.split(',').map((s) => s.trim());
  for (const item of items) {
    const m = /^(\d{3})(?:\s*-\s*(\d{3}))?$/.exec(item);
    const lo = m ? Number(m[1]) : Number.NaN;
    const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
    if (!m || lo < 100 || hi > 599 || lo > hi)
      return `expected statuses 100..599 or ranges like 200-499, comma-separated, got "${value}"`;
    out.push([lo, hi]);
  }
  return out;
}

export function statusIn(status: number, ranges: StatusRanges): boolean {
  for (const [lo, hi] of ranges) if (status >= lo && status <= hi) return true;
  return false;
}

/** Parses `lb.path.strip` (and other true/false labels): undefined when absent, string on error. */
export function parseBoolean(value: string | undefined): boolean | undefined | string {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^(true|1|yes|on)$/i.test(value.trim())) return true;
  if (/^(false|0|no|off)$/i.test(value.trim())) return false;
  return `expected true or false, got "${value}"`;
}

/** Checks one host a route names: a DNS name or IP, or `*.` + a name (one label). Error string, or undefined. */
export function hostRuleError(host: string): string | undefined {
  const h = host.startsWith('*.') ? host.slice(2) : host;
  if (h.length === 0) return `"${host}" is not a host name`;
  if (h.includes('*'))
    return `"${host}": a wildcard is only allowed as the whole first label (*.example.com)`;
  if (/[^ -~]/.test(h) && !/\s/.test(h)) return `"${host}": only ASCII host names (write an IDN as xn--…)`;
  if (!/^(\[[0-9a-f:.]+\]|[a-z0-9._-]+|[0-9a-f:.]+)$/i.test(h)) return `"${host}" is not a host name`;
  return undefined;
}

/** Parses `lb.host`: comma-separated host names (`*.example.com` allowed); [] when absent, string on error. */
export function parseHostList(value: string | undefined): string[] | string {
  if (value === undefined || value.trim() === '') return [];
  const hosts = value
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h.length > 0);
  for (const h of hosts) {
    const err = hostRuleError(h);
    if (err !== undefined) return err;
  }
  return hosts.map((h) => h.toLowerCase());
}

/** Parses `lb.path`: a path prefix starting with '/'; undefined when absent, string on error. */
export function parsePathPrefix(value: string | undefined): string | undefined | { error: string } {
  if (value === undefined || value.trim() === '') return undefined;
  const p = value.trim();
  if (!p.startsWith('/')) return { error: `expected a path starting with "/", got "${value}"` };
  if (/[\s?#]/.test(p) || /[^\x21-\x7e]/.test(p))
    return { error: `"${value}": no spaces, "?", "#" or non-ASCII in a path prefix` };
  return p;
}

/** The routes a container (or Swarm service) declares with lb.host / lb.path / lb.path.strip. */
export interface RouteLabels {
  hosts: string[];
  path?: string | undefined;
  strip: boolean;
  /** lb.tls.redirect=true: the service's plain-HTTP requests get a 308 to https. */
  tlsRedirect?: boolean | undefined;
}

/** Decodes the route labels; an error string names the label. */
export function parseRouteLabels(labels: Record<string, string>): RouteLabels | string {
  const hosts = parseHostList(labels[LB_LABELS.host]);
  if (typeof hosts === 'string') return `${LB_LABELS.host}: ${hosts}`;
  const path = parsePathPrefix(labels[LB_LABELS.path]);
  if (typeof path === 'object') return `${LB_LABELS.path}: ${path.error}`;
  const strip = parseBoolean(labels[LB_LABELS.pathStrip]);
  if (typeof strip === 'string') return `${LB_LABELS.pathStrip}: ${strip}`;
  if (strip === true && path === undefined) return `${LB_LABELS.pathStrip}=true needs ${LB_LABELS.path}`;
  const tlsRedirect = parseBoolean(labels[LB_LABELS.tlsRedirect]);
  if (typeof tlsRedirect === 'string') return `${LB_LABELS.tlsRedirect}: ${tlsRedirect}`;
  return { hosts, path, strip: strip === true, ...(tlsRedirect === true ? { tlsRedirect } : {}) };
}
