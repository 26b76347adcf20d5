// Pure: a container record and the balancer's own situation → a BackendSpec, or the
// reason it is skipped. A bad label skips only that container.
import {
  isEnabled,
  LB_LABELS,
  parsePort,
  parsePositiveNumber,
  parseRouteLabels,
  parseSticky,
} from '@headroom/shared';
import { chooseHealthCheck } from '../model/health-check.js';
import type { BackendSpec } from './backend-set.js';
import type { ContainerRecord } from './container-record.js';

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

export type ContainerDecision = { spec: BackendSpec } | { skip: string };

export function containerToBackend(c: ContainerRecord, ctx: DiscoveryContext): ContainerDecision {
  const l = c.labels;
  if (!isEnabled(l[LB_LABELS.enable])) return { skip: `${LB_LABELS.enable} is not true` };
  if (!c.running) return { skip: 'not running' };
  const service = l[LB_LABELS.service] ?? '';
  if (ctx.service !== undefined && service !== ctx.service)
    return { skip: `${LB_LABELS.service} is "${service}", not "${ctx.service}"` };

  const port = parsePort(l[LB_LABELS.port]);
  if (typeof port === 'string') return { skip: `${LB_LABELS.port}: ${port}` };
  let containerPort = port;
  if (containerPort === undefined) {
    if (c.exposedPorts.length !== 1) {
      return {
        skip: `no ${LB_LABELS.port} label and ${c.exposedPorts.length} exposed ports (need exactly one)`,
      };
    }
    containerPort = c.exposedPorts[0]!;
  }
  const weight = parsePositiveNumber(l[LB_LABELS.weight]);
  if (typeof weight === 'string') return { skip: `${LB_LABELS.weight}: ${weight}` };
  const slowStart = parsePositiveNumber(l[LB_LABELS.slowStart], true);
  if (typeof slowStart === 'string') return { skip: `${LB_LABELS.slowStart}: ${slowStart}` };
  const sticky = parseSticky(l[LB_LABELS.sticky], l[LB_LABELS.stickyCookie]);
  if (typeof sticky === 'string') return { skip: `${LB_LABELS.sticky}: ${sticky}` };
  const check = chooseHealthCheck(
    { path: l[LB_LABELS.healthPath], status: l[LB_LABELS.healthStatus] },
    { path: ctx.healthPath, status: ctx.healthStatus },
  );
  if (typeof check === 'string')
    return { skip: `${LB_LABELS.healthPath}/${LB_LABELS.healthStatus}: ${check}` };
  const routes = parseRouteLabels(l);
  if (typeof routes === 'string') return { skip: routes };

  const usePublished =
    ctx.addressMode === 'published' || (ctx.addressMode === 'auto' && ctx.ownNetworks.length === 0);
  let url: string;
  if (usePublished) {
    const hostPort = c.published[containerPort];
    if (hostPort === undefined)
      return { skip: `port ${containerPort} is not published (the balancer runs outside Docker)` };
    url = `http://${ctx.publishedHost}:${hostPort}`;
  } else {
    const wanted = l[LB_LABELS.network] ?? ctx.network;
    const names = Object.keys(c.networks);
    const net = wanted ?? names.find((n) => ctx.ownNetworks.includes(n)) ?? names[0];
    const ip = net === undefined ? undefined : c.networks[net];
    if (!ip) return { skip: wanted ? `not attached to network "${wanted}"` : 'no network address' };
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
      routes,
      source: 'docker',
      healthPath: check.kind === 'http' ? check.path : undefined,
      healthStatus: check.kind === 'http' ? check.status : undefined,
      weight,
      cpuLimit,
      memoryLimit: c.memoryBytes > 0 ? c.memoryBytes : undefined,
      sticky,
      slowStartMs: slowStart,
      containerId: c.id,
      dockerHealth: c.health,
    },
  };
}
