// Pure: which active check a backend gets, from its labels (or registration) and the
// balancer-wide HEALTH_PATH / HEALTH_STATUS. Here, beside BackendSpec, because discovery
// decides it and discovery imports nothing from health/.
//
// Why a TCP connect by default: most apps have no /health (a default nginx answers 404 there,
// a WebSocket-only server 426), and an HTTP check they fail keeps them out of rotation for
// good. HAProxy's plain `check` is a TCP connect too.
import { DEFAULT_HEALTH_STATUS, parseStatusRanges } from '@headroom/shared';

export type HealthCheck = { kind: 'tcp' } | { kind: 'http'; path: string; status: string };

/** What a backend (its labels, or a registration) says, and the balancer-wide defaults. */
export interface HealthCheckInput {
  /** lb.health.path (or the registration's healthPath). */
  path?: string | undefined;
  /** lb.health.status. */
  status?: string | undefined;
}
export interface HealthCheckDefaults {
  /** HEALTH_PATH; undefined: TCP. */
  path?: string | undefined;
  /** HEALTH_STATUS. */
  status?: string | undefined;
}

/**
 * The check kind: an HTTP GET when a path is set (the backend's, else HEALTH_PATH), with the
 * statuses that count as up (the backend's, else HEALTH_STATUS, else 200-399); otherwise a TCP
 * connect. A bad path or status is an error string (the caller skips that backend and says why).
 */
export function chooseHealthCheck(
  own: HealthCheckInput,
  defaults: HealthCheckDefaults = {},
): HealthCheck | string {
  const path = nonEmpty(own.path) ?? nonEmpty(defaults.path);
  if (path === undefined) {
    if (nonEmpty(own.status) !== undefined)
      return `a health status needs an HTTP check: set the health path too (the default check is a TCP connect)`;
    return { kind: 'tcp' };
  }
  if (!path.startsWith('/')) return `expected a path starting with /, got "${path}"`;
  const status = nonEmpty(own.status) ?? nonEmpty(defaults.status) ?? DEFAULT_HEALTH_STATUS;
  const parsed = parseStatusRanges(status);
  if (typeof parsed === 'string') return parsed;
  return { kind: 'http', path, status: status.replace(/\s+/g, '') };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** The check a spec carries (healthPath undefined: TCP). */
export function checkOf(spec: {
  healthPath?: string | undefined;
  healthStatus?: string | undefined;
}): HealthCheck {
  return spec.healthPath === undefined
    ? { kind: 'tcp' }
    : { kind: 'http', path: spec.healthPath, status: spec.healthStatus ?? DEFAULT_HEALTH_STATUS };
}

/**
 * The default check on a published port (discovery/container-to-backend.ts): every status
 * counts, the check asks only whether the app answers HTTP. Like the TCP default it is not the
 * app's readiness, so Docker's `starting` still keeps the backend out (health/health-check.ts).
 */
export const ANY_HTTP_ANSWER = '100-599';

/** Whether a backend's check is one of the two defaults (no health path asked for). */
export function isDefaultCheck(healthPath: string | undefined, healthStatus: string | undefined): boolean {
  return healthPath === undefined || (healthPath === '/' && healthStatus === ANY_HTTP_ANSWER);
}
