// Pure: a container record and the balancer's own situation → a BackendSpec, or the
// reason it is skipped. A bad label skips only that container.
import { LB_LABELS } from '@headroom/shared';
import { ANY_HTTP_ANSWER, type HealthCheck } from '../model/health-check.js';
import type { BackendSpec } from './backend-set.js';
import type { ContainerRecord } from './container-record.js';
import { decodeLabels } from './label-decoder.js';

export interface DiscoveryContext {
  /** Only containers whose lb.service equals this (LB_SERVICE). */
  service: string | undefined;
  /** Networks the balancer's own container is on (empty when it runs outside Docker). */
  ownNetworks: readonly string[];
  /** DOCKER_NETWORK. */
  network: string | undefined;
  /** network: container IP; published: 127.0.0.1 + host port; auto: network when the balancer is in Docker. */
  addressMode: 'auto' | 'network' | 'published';
  /** HEALTH_PATH (undefined: TCP checks) and HEALTH_STATUS. */
  healthPath: string | undefined;
  healthStatus?: string | undefined;
  publishedHost: string;
}

/**
 * A skip with `bad`: a label the user must fix (logged as a warning, once). A spec with
 * `warning`: a label was ignored but the container is balanced (a bad lb.maxconn), said once.
 */
export type ContainerDecision = { spec: BackendSpec; warning?: string } | { skip: string; bad?: boolean };

export function containerToBackend(c: ContainerRecord, ctx: DiscoveryContext): ContainerDecision {
  const decoded = decodeLabels(c.labels, { path: ctx.healthPath, status: ctx.healthStatus });
  if ('skip' in decoded) return decoded;
  const d = decoded.labels;
  if (!c.running) return { skip: 'not running' };
  const service = d.service ?? '';
  if (ctx.service !== undefined && service !== ctx.service)
    return { skip: `${LB_LABELS.service} is "${service}", not "${ctx.service}"` };
  let containerPort = d.port;
  if (containerPort === undefined) {
    if (c.exposedPorts.length !== 1) {
      return {
        skip: `no ${d.origin === 'lb' ? LB_LABELS.port : 'loadbalancer.server.port'} label and ${c.exposedPorts.length} exposed ports (need exactly one)`,
        bad: true,
      };
    }
    containerPort = c.exposedPorts[0]!;
  }
  const { check, weight, sticky, routes } = d;
  const slowStart = d.slowStartMs;

  const usePublished =
    ctx.addressMode === 'published' || (ctx.addressMode === 'auto' && ctx.ownNetworks.length === 0);
  let url: string;
  if (usePublished) {
    const hostPort = c.published[containerPort];
    if (hostPort === undefined)
      return { skip: `port ${containerPort} is not published (the balancer runs outside Docker)` };
    url = `http://${ctx.publishedHost}:${hostPort}`;
  } else {
    const wanted = d.network ?? ctx.network;
    const names = Object.keys(c.networks);
    const net = wanted ?? names.find((n) => ctx.ownNetworks.includes(n)) ?? names[0];
    const ip = net === undefined ? undefined : c.networks[net];
    if (!ip) return { skip: wanted ? `not attached to network "${wanted}"` : 'no network address' };
    // A balancer in a container reaches only the networks it is attached to (bridge networks are
    // isolated from each other): a container on none of them would only ever fail its checks,
    // and as an unrouted service it would take the catch-all's unknown hosts (a 503 instead of
    // the 404). Two stacks on one engine keep to their own apps. Host networking reaches every
    // bridge, so it is not filtered.
    if (ctx.ownNetworks.length > 0 && !ctx.ownNetworks.includes('host') && !ctx.ownNetworks.includes(net!))
      return { skip: `on network "${net}", which this balancer is not attached to` };
    url = `http://${ip}:${containerPort}`;
  }
  const cpuLimit =
    c.nanoCpus > 0
      ? c.nanoCpus / 1e9
      : c.cpuQuota > 0 && c.cpuPeriod > 0
        ? c.cpuQuota / c.cpuPeriod
        : undefined;
  return {
    spec: {
      id: c.id.slice(0, 12),
      url,
      name: c.name,
      service,
      routes: routes.length > 0 ? routes : undefined,
      source: 'docker',
      ...healthOf(check, usePublished),
      weight,
      cpuLimit,
      memoryLimit: c.memoryBytes > 0 ? c.memoryBytes : undefined,
      sticky,
      slowStartMs: slowStart,
      maxConn: d.maxConn,
      timeoutBodyMs: d.timeoutBodyMs,
      containerId: c.id,
      dockerHealth: c.health,
    },
    ...(d.warning ? { warning: d.warning } : {}),
  };
}

/**
 * The active check. A TCP connect (the default) proves the app listens only on the container's
 * own address: a published port is docker-proxy's, which accepts before the app listens (and
 * after it died), so there the default is an HTTP GET of / that any answer passes (any status:
 * an app without /health still counts, a WebSocket-only one answering 426 too).
 */
function healthOf(
  check: HealthCheck,
  published: boolean,
): { healthPath: string | undefined; healthStatus: string | undefined } {
  if (check.kind === 'http') return { healthPath: check.path, healthStatus: check.status };
  return published
    ? { healthPath: '/', healthStatus: ANY_HTTP_ANSWER }
    : { healthPath: undefined, healthStatus: undefined };
}
