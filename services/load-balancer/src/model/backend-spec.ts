// A backend as every part of the balancer sees it: plain data, no behaviour (Traefik's
// dynamic.Server in spirit). Discovery (docker, swarm, static + admin) produces a whole
// BackendSet each time; the balancing core diffs it against the previous one by `id`.
// Its own home so that the core, the proxy and the prober need nothing from discovery/.
import type { RouteLabels, StickyPolicy } from '@headroom/shared';

export interface BackendSpec {
  /** Stable id: the container id (12 hex) for docker, the task id for swarm, a hash of the URL for static. */
  id: string;
  /** Base URL the proxy sends to, e.g. http://172.18.0.5:3000 (no trailing slash). */
  url: string;
  /** For people: container name, task name, or the URL. */
  name: string;
  /** lb.service value ('' when unlabelled). */
  service: string;
  /**
   * The routes its service answers (lb.host, lb.path, lb.path.strip, or the Traefik import);
   * absent or empty: neither label, the service is the catch-all (any host, every path).
   */
  routes?: readonly RouteLabels[] | undefined;
  source: 'docker' | 'swarm' | 'static';
  /** Path of the active HTTP health check; undefined: a TCP connect (health/health-check.ts). */
  healthPath?: string | undefined;
  /** Statuses that count as up for the HTTP check, e.g. `200-499` (validated); undefined: 200-399. */
  healthStatus?: string | undefined;
  /** Explicit weight (lb.weight or admin registration); undefined → derived from cpuLimit, else 1. */
  weight?: number | undefined;
  /** CPU limit in cores (docker NanoCpus / 1e9, or CpuQuota/CpuPeriod); undefined when unlimited/unknown. */
  cpuLimit?: number | undefined;
  /** Memory limit in bytes; undefined when unlimited/unknown. */
  memoryLimit?: number | undefined;
  sticky: StickyPolicy;
  /** Static concurrency limit per backend (lb.maxconn); undefined: the adaptive limit. */
  maxConn?: number | undefined;
  /** Slow-start window override in ms (lb.slowstart). */
  slowStartMs?: number | undefined;
  /**
   * lb.timeout.body: response and body idle timeout in ms for long streams (SSE, long-poll),
   * instead of RESPONSE_TIMEOUT_MS and BODY_TIMEOUT_MS; 0: none. undefined: the global ones.
   */
  timeoutBodyMs?: number | undefined;
  /** Docker container id (full), when the backend is a container: the resource source streams its stats. */
  containerId?: string | undefined;
  /**
   * The DOCKER_HOSTS engine the container runs on, as configured (undefined: the one engine of
   * DOCKER_SOCKET/DOCKER_HOST): the engine its stats are asked of.
   */
  engine?: string | undefined;
  /** Docker health status when the container defines a HEALTHCHECK: 'starting' | 'healthy' | 'unhealthy'. */
  dockerHealth?: string | undefined;
  /** Swarm node id the task runs on (swarm discovery); undefined for docker and static backends. */
  node?: string | undefined;
  /** That node's hostname, for people (swarm discovery). */
  nodeName?: string | undefined;
}

export type BackendSet = readonly BackendSpec[];
