// Pure: what one check's result plus the engine's own HEALTHCHECK status say about a backend.
// No I/O: the prober (http-prober.ts) runs the checks; model/health-check.ts picks their kind.
// An image's Docker HEALTHCHECK is the app's own word on readiness, so it counts too.
import { parseStatusRanges, type StatusRanges, statusIn } from '@headroom/shared';
import type { HealthCheck } from '../model/health-check.js';

/** The result of one probe (a TCP connect, or an HTTP GET and its status). */
export type ProbeResult = { ok: true; status?: number | undefined } | { ok: false; reason: string };

/** What a check run means for the backend: pass, fail, and whether the fail skips HEALTH_FALL. */
export interface HealthVerdict {
  ok: boolean;
  reason?: string | undefined;
  /** Docker already retried its own check before saying unhealthy: out now, not after HEALTH_FALL more. */
  immediate: boolean;
}

/**
 * One probe and the container's Docker health ('starting' | 'healthy' | 'unhealthy' | undefined
 * when the image has no HEALTHCHECK) → the verdict.
 *  - `unhealthy` is always out, at once, whatever the probe says.
 *  - `starting` keeps a backend out under the TCP default (like Traefik: the image said how to
 *    tell it is ready, and a listening port is not that); an HTTP check the user asked for
 *    decides on its own.
 *  - `healthy` still needs the probe to pass: Docker checks from inside the container, the
 *    probe checks that the balancer reaches it.
 */
export function healthVerdict(
  kind: HealthCheck['kind'],
  probe: ProbeResult,
  dockerHealth?: string,
): HealthVerdict {
  if (dockerHealth === 'unhealthy')
    return { ok: false, reason: 'Docker HEALTHCHECK reports unhealthy', immediate: true };
  if (!probe.ok) return { ok: false, reason: probe.reason, immediate: false };
  if (kind === 'tcp' && dockerHealth === 'starting')
    return { ok: false, reason: 'Docker HEALTHCHECK still starting (port open)', immediate: false };
  return { ok: true, immediate: false };
}

const parsedCache = new Map<string, StatusRanges>();

/** An HTTP check's answer → probe result, by the check's status ranges. */
export function httpResult(statusCode: number, status: string): ProbeResult {
  let ranges = parsedCache.get(status);
  if (ranges === undefined) {
    const parsed = parseStatusRanges(status);
    ranges = typeof parsed === 'string' ? [[200, 399]] : parsed;
    parsedCache.set(status, ranges);
  }
  return statusIn(statusCode, ranges)
    ? { ok: true, status: statusCode }
    : { ok: false, reason: `HTTP ${statusCode} (up: ${status})` };
}
