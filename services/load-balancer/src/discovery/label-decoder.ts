// The one label decoder: what a container's (or a Swarm service's) labels say, for Docker and
// Swarm discovery alike, so both honour every label the same way (before it, Swarm dropped a
// bad lb.weight or lb.sticky silently and ignored lb.slowstart). Pure. A container with
// `traefik.enable=true` and no lb.* label is read through the Traefik import instead. A bad
// label is a skip with `bad: true`: the source logs it once, naming the container.
import {
  isEnabled,
  LB_LABELS,
  parsePort,
  parsePositiveNumber,
  parseRouteLabels,
  parseSticky,
  type RouteLabels,
  type StickyPolicy,
  TRAEFIK_LABELS,
} from '@headroom/shared';
import { chooseHealthCheck, type HealthCheck, type HealthCheckDefaults } from '../model/health-check.js';
import { parseMaxConn } from '../model/max-conn.js';
import { traefikImport } from './traefik-rule.js';

export interface DecodedLabels {
  /** lb.service, or the Traefik service; undefined: not named (the source picks its default). */
  service: string | undefined;
  /** lb.port or the Traefik server port; undefined: the single exposed port. */
  port: number | undefined;
  weight: number | undefined;
  slowStartMs: number | undefined;
  /** lb.timeout.body: the service's response and body idle timeout in ms (0: none); undefined: the global ones. */
  timeoutBodyMs: number | undefined;
  sticky: StickyPolicy;
  check: HealthCheck;
  /** Empty: neither lb.host nor lb.path (the service is the catch-all). */
  routes: RouteLabels[];
  network: string | undefined;
  /** lb.maxconn: a static concurrency limit per backend; undefined: the adaptive limit. */
  maxConn: number | undefined;
  /** A label that was ignored without skipping the container (a bad lb.maxconn): logged once. */
  warning: string | undefined;
  /** Where they came from: the container's lb.* labels, or its Traefik labels. */
  origin: 'lb' | 'traefik';
}

export type LabelDecision = { labels: DecodedLabels } | { skip: string; bad: boolean };

const LB_PREFIX = LB_LABELS.enable.slice(0, LB_LABELS.enable.indexOf('.') + 1);

/** Read as Traefik's: traefik.enable=true and no lb.* label at all. */
export function isTraefikOnly(labels: Record<string, string>): boolean {
  if (!isEnabled(labels[TRAEFIK_LABELS.enable])) return false;
  for (const key in labels) if (key.startsWith(LB_PREFIX)) return false;
  return true;
}

export function decodeLabels(labels: Record<string, string>, defaults: HealthCheckDefaults): LabelDecision {
  if (isTraefikOnly(labels)) {
    const t = traefikImport(labels);
    if (typeof t === 'string') return { skip: `Traefik labels: ${t}`, bad: true };
    const check = chooseHealthCheck({}, defaults);
    if (typeof check === 'string') return { skip: check, bad: true };
    return {
      labels: {
        service: t.service,
        port: t.port,
        weight: undefined,
        slowStartMs: undefined,
        timeoutBodyMs: undefined,
        sticky: { kind: 'none' },
        check,
        routes: t.routes,
        network: undefined,
        maxConn: undefined,
        warning: undefined,
        origin: 'traefik',
      },
    };
  }
  if (!isEnabled(labels[LB_LABELS.enable])) return { skip: `${LB_LABELS.enable} is not true`, bad: false };
  const port = parsePort(labels[LB_LABELS.port]);
  if (typeof port === 'string') return { skip: `${LB_LABELS.port}: ${port}`, bad: true };
  const weight = parsePositiveNumber(labels[LB_LABELS.weight]);
  if (typeof weight === 'string') return { skip: `${LB_LABELS.weight}: ${weight}`, bad: true };
  const slowStart = parsePositiveNumber(labels[LB_LABELS.slowStart], true);
  if (typeof slowStart === 'string') return { skip: `${LB_LABELS.slowStart}: ${slowStart}`, bad: true };
  const sticky = parseSticky(labels[LB_LABELS.sticky], labels[LB_LABELS.stickyCookie]);
  if (typeof sticky === 'string') return { skip: `${LB_LABELS.sticky}: ${sticky}`, bad: true };
  const timeoutBody = parsePositiveNumber(labels[LB_LABELS.timeoutBody], true);
  if (typeof timeoutBody === 'string') return { skip: `${LB_LABELS.timeoutBody}: ${timeoutBody}`, bad: true };
  const check = chooseHealthCheck(
    { path: labels[LB_LABELS.healthPath], status: labels[LB_LABELS.healthStatus] },
    defaults,
  );
  if (typeof check === 'string')
    return { skip: `${LB_LABELS.healthPath}/${LB_LABELS.healthStatus}: ${check}`, bad: true };
  const routes = parseRouteLabels(labels);
  if (typeof routes === 'string') return { skip: routes, bad: true };
  // a bad lb.maxconn does not take the container out: the adaptive limit applies, and the log says why
  const maxConn = parseMaxConn(labels[LB_LABELS.maxconn]);
  const service = labels[LB_LABELS.service];
  return {
    labels: {
      service: service === undefined || service === '' ? undefined : service,
      port,
      weight,
      slowStartMs: slowStart,
      timeoutBodyMs: timeoutBody === undefined ? undefined : Math.round(timeoutBody),
      sticky,
      check,
      // lb.tls.redirect rides on the route labels: kept even without a host or path
      routes:
        routes.hosts.length > 0 || routes.path !== undefined || routes.tlsRedirect === true ? [routes] : [],
      network: labels[LB_LABELS.network],
      maxConn: typeof maxConn === 'number' ? maxConn : undefined,
      warning:
        typeof maxConn === 'object'
          ? `${LB_LABELS.maxconn} ${maxConn.invalid}: the adaptive concurrency limit applies`
          : undefined,
      origin: 'lb',
    },
  };
}
