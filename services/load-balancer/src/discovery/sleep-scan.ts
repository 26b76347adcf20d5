// Scale to zero (issue #19): what a container list says about the balanced service's sleep,
// pure. A service is asleep when discovery finds its stopped containers (the docker runtime
// keeps one stopped for a fast start) and no running one; a balancer restarted while it
// sleeps knows so from the list alone. The idle window comes from `lb.idle.after`.
import { isEnabled, LB_LABELS, type RouteLabels } from '@headroom/shared';
import { decodeLabels } from './label-decoder.js';

export interface ContainerSummary {
  readonly State?: string;
  readonly Labels?: Record<string, string> | null;
  readonly NetworkSettings?: { readonly Networks?: Record<string, unknown> | null } | null;
}

export interface SleepScan {
  /** Labeled containers of the service that are not stopped. */
  readonly running: number;
  /** Labeled containers of the service that are stopped (exited, created, dead). */
  readonly stopped: number;
  /** `lb.idle.after` (ms) of the service's containers; null when none carries a valid one. */
  readonly idleAfterMs: number | null;
}

const STOPPED = new Set(['exited', 'created', 'dead']);

export function isStopped(state: string | undefined): boolean {
  return state !== undefined && STOPPED.has(state);
}

/** `service`: LB_SERVICE (only its containers count); undefined: every lb.enable=true container. */
export function scanForSleep(summaries: readonly ContainerSummary[], service: string | undefined): SleepScan {
  let running = 0;
  let stopped = 0;
  let idleAfterMs: number | null = null;
  for (const s of summaries) {
    const labels = s.Labels ?? {};
    if (!isEnabled(labels[LB_LABELS.enable])) continue;
    if (service !== undefined && labels[LB_LABELS.service] !== service) continue;
    if (isStopped(s.State)) stopped++;
    else running++;
    const idle = parseIdleAfter(labels[LB_LABELS.idleAfter]);
    if (idle !== null) idleAfterMs = idleAfterMs === null ? idle : Math.min(idleAfterMs, idle);
  }
  return { running, stopped, idleAfterMs };
}

export interface SwarmServiceSummary {
  readonly ID: string;
  readonly Spec?: {
    readonly Name?: string;
    readonly Labels?: Record<string, string>;
    readonly Mode?: { readonly Replicated?: { readonly Replicas?: number } };
  };
}

/**
 * Swarm: the autoscaler sleeps a service by setting its replicas to 0 (the labels stay on the
 * spec), so a labeled replicated service at 0 counts as stopped; `running` is its tasks that
 * discovery publishes as backends. One scan per service (by lb.service, else the service's
 * name, as discovery names the backends' service), so each sleeps and wakes on its own, as on
 * Docker: with several labelled services, one asleep beside others awake is held and woken as
 * itself, not merged into the default service. `service` (LB_SERVICE): only that one.
 */
export function scanSwarmByService(
  services: readonly SwarmServiceSummary[],
  backends: readonly { readonly service: string }[],
  service: string | undefined,
): Map<string, ServiceScan> {
  const out = new Map<
    string,
    { running: number; stopped: number; idleAfterMs: number | null; routes: RouteLabels[] }
  >();
  for (const s of services) {
    const labels = s.Spec?.Labels ?? {};
    const decoded = decodeLabels(labels, {});
    if ('skip' in decoded) continue;
    const key = decoded.labels.service ?? s.Spec?.Name ?? s.ID;
    if (service !== undefined && key !== service) continue;
    let e = out.get(key);
    if (e === undefined) {
      e = {
        running: backends.filter((b) => b.service === key).length,
        stopped: 0,
        idleAfterMs: null,
        routes: [],
      };
      out.set(key, e);
    }
    if (s.Spec?.Mode?.Replicated?.Replicas === 0) e.stopped++;
    const idle = parseIdleAfter(labels[LB_LABELS.idleAfter]);
    if (idle !== null) e.idleAfterMs = e.idleAfterMs === null ? idle : Math.min(e.idleAfterMs, idle);
    if (e.routes.length === 0) e.routes.push(...decoded.labels.routes);
  }
  return out;
}

/**
 * DOCKER_HOSTS: the service over every engine. An engine not scanned yet (null) could hold the
 * running replica, so until each has answered once the merge says nothing (null).
 */
export function mergeScans(scans: readonly (SleepScan | null)[]): SleepScan | null {
  let running = 0;
  let stopped = 0;
  let idleAfterMs: number | null = null;
  for (const s of scans) {
    if (s === null) return null;
    running += s.running;
    stopped += s.stopped;
    if (s.idleAfterMs !== null)
      idleAfterMs = idleAfterMs === null ? s.idleAfterMs : Math.min(idleAfterMs, s.idleAfterMs);
  }
  return { running, stopped, idleAfterMs };
}

/** A positive integer number of ms; anything else is ignored (the autoscaler reports a bad label). */
export function parseIdleAfter(raw: string | undefined): number | null {
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return null;
  const n = Number(raw.trim());
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** One service's part of a container list: its sleep facts, and the routes its containers declare. */
export interface ServiceScan extends SleepScan {
  /** The routes of its containers (lb.host / lb.path or Traefik's), so a sleeping service keeps them. */
  readonly routes: readonly RouteLabels[];
}

/**
 * Every service of a container list (lb.enable=true, or Traefik-only), by lb.service value
 * ('' unlabelled): each sleeps and wakes on its own. `service` (LB_SERVICE): only that one.
 */
export function scanByService(
  summaries: readonly ContainerSummary[],
  service: string | undefined,
  /** DOCKER_NETWORK: a container not on it is not discovered, so it is no service either. */
  network?: string | undefined,
): Map<string, ServiceScan> {
  const out = new Map<
    string,
    { running: number; stopped: number; idleAfterMs: number | null; routes: RouteLabels[] }
  >();
  for (const s of summaries) {
    const labels = s.Labels ?? {};
    if (network !== undefined && s.NetworkSettings?.Networks?.[network] === undefined) continue;
    const decoded = decodeLabels(labels, {});
    if ('skip' in decoded) continue;
    const key = decoded.labels.service ?? '';
    if (service !== undefined && key !== service) continue;
    let e = out.get(key);
    if (e === undefined) {
      e = { running: 0, stopped: 0, idleAfterMs: null, routes: [] };
      out.set(key, e);
    }
    if (isStopped(s.State)) e.stopped++;
    else e.running++;
    const idle = parseIdleAfter(labels[LB_LABELS.idleAfter]);
    if (idle !== null) e.idleAfterMs = e.idleAfterMs === null ? idle : Math.min(e.idleAfterMs, idle);
    if (e.routes.length === 0) e.routes.push(...decoded.labels.routes);
  }
  return out;
}
