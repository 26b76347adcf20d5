// Scale to zero (issue #19): the balanced service's state machine, pure (no I/O, no clock).
// The proxy holds requests while the service is `sleeping` or `waking`; the first backend
// that passes a health check makes it `awake` and releases them. Every transition carries a
// reason code, logged once at info by the adapter.
import type { ServiceState } from '@headroom/shared';

export const SERVICE_REASONS = {
  Started: 'the balancer started: replicas decide',
  AutoscalerSaidIdle: 'the autoscaler announced a sleep (PUT /api/service/state)',
  AutoscalerSaidAwake: 'the autoscaler aborted the sleep (PUT /api/service/state)',
  DiscoveredAsleep:
    'discovery sees the service with no running replica (stopped labeled containers, or 0 Swarm replicas)',
  RequestHeld: 'a request was held: asking the autoscaler to wake the service',
  RequestWithoutBackend:
    'a request arrived with no backend and no known state (before any announcement, sleep scan or health pass): held, asking the autoscaler to wake the service',
  FirstHealthPass: 'a backend passed its first health check: releasing the held requests',
  HeldWithoutBackend:
    'requests are held and the service has no backend left (its replicas are gone since it woke, or the aborted sleep kept none): asking the autoscaler to wake it again',
} as const;
export type ServiceReasonCode = keyof typeof SERVICE_REASONS;

export interface ServiceStatus {
  readonly state: ServiceState;
  readonly reason: ServiceReasonCode;
  /** Since when (ms since epoch) it is in this state. */
  readonly since: number;
  /** Free text from the caller (the autoscaler's reason, the backend's id). */
  readonly detail?: string;
}

export type ServiceEvent =
  /** PUT /api/service/state {state:'sleeping'}: announced before the last replicas drain. */
  | { readonly kind: 'announce-sleep'; readonly detail?: string }
  /** PUT /api/service/state {state:'awake'}: the autoscaler aborted a sleep. */
  | { readonly kind: 'announce-awake'; readonly detail?: string }
  /**
   * Discovery's view after a sync: running = backends it found, asleep = it also found the
   * service's stopped containers (docker) or the service spec at 0 replicas (swarm).
   */
  | { readonly kind: 'discovered'; readonly running: number; readonly asleep: boolean }
  /**
   * The proxy received a request it could hold; `backends`: how many the service has in its
   * pool (any state), when the caller knows.
   */
  | { readonly kind: 'request'; readonly backends?: number }
  /** A backend went from unknown/unhealthy to healthy (its first pass since it appeared). */
  | { readonly kind: 'health-pass'; readonly backend: string }
  /**
   * What the service has now, after a backend set or a change of state: `backends` in its pool
   * (any state), `held` requests waiting in its queue for a wake (cause `hold`).
   */
  | { readonly kind: 'pool'; readonly backends: number; readonly held: number };

export function initialStatus(now: number): ServiceStatus {
  return { state: 'awake', reason: 'Started', since: now };
}

/**
 * The next status, or the same object when nothing changes (callers compare by identity to
 * log each change once). Why each rule:
 * - sleeping is entered only when announced or when discovery sees no running replica: a
 *   replica still draining after the announcement must not flip it back to awake;
 * - only a health pass makes it awake from sleeping/waking (a started container that does not
 *   answer yet cannot take the held requests);
 * - a request turns sleeping into waking (one wake call); waking stays waking until a pass;
 * - so does a request to a service with no backend while nothing is known of it (the balancer
 *   just started: with MIN_REPLICAS=0 the autoscaler may not have announced its sleep yet, and
 *   a 503 there would be a failed first request that a wake would have served);
 * - held requests of an awake service with no backend at all turn it back to waking (a new
 *   wake): they were held for a wake that ended with no replica to take them (its replica gone
 *   before the hand-off, or a sleep aborted after the last one stopped), and awake nobody asks
 *   for another, so they would wait out HOLD_TIMEOUT_MS for nothing. Only with held requests:
 *   a known-awake service that merely has no backend still answers new requests 503 at once.
 */
export function nextStatus(s: ServiceStatus, e: ServiceEvent, now: number): ServiceStatus {
  switch (e.kind) {
    case 'announce-sleep':
      return s.state === 'awake' ? to('sleeping', 'AutoscalerSaidIdle', now, e.detail) : s;
    case 'announce-awake':
      // also from waking: an aborted sleep keeps its replica, and no new one will pass a first check
      return s.state === 'awake' ? s : to('awake', 'AutoscalerSaidAwake', now, e.detail);
    case 'discovered':
      return s.state === 'awake' && e.running === 0 && e.asleep ? to('sleeping', 'DiscoveredAsleep', now) : s;
    case 'request':
      if (s.state === 'sleeping') return to('waking', 'RequestHeld', now);
      return unknownAndEmpty(s, e.backends) ? to('waking', 'RequestWithoutBackend', now) : s;
    case 'health-pass':
      return s.state === 'awake' ? s : to('awake', 'FirstHealthPass', now, e.backend);
    case 'pool':
      return strandedHeld(s, e.backends, e.held) ? to('waking', 'HeldWithoutBackend', now) : s;
  }
}

/** Awake, no backend in the pool, and requests held for a wake: nothing will take them without another. */
export function strandedHeld(s: ServiceStatus, backends: number, held: number): boolean {
  return s.state === 'awake' && backends === 0 && held > 0;
}

/**
 * Requests are held (not answered 503 at once) only while the service has no replica to serve
 * them: asleep or waking, or with no backend at all while nothing is known of it yet.
 */
export function holds(s: ServiceStatus, backends?: number): boolean {
  return s.state !== 'awake' || unknownAndEmpty(s, backends);
}

/** Awake only by default (nothing said or seen since start) and no backend in the pool. */
function unknownAndEmpty(s: ServiceStatus, backends: number | undefined): boolean {
  return s.state === 'awake' && s.reason === 'Started' && backends === 0;
}

function to(state: ServiceState, reason: ServiceReasonCode, since: number, detail?: string): ServiceStatus {
  return detail === undefined ? { state, reason, since } : { state, reason, since, detail };
}

/**
 * Browsers get the opt-in waiting page (HOLD_HTML_PAGE) instead of being held; everything
 * else (APIs, curl, fetch with no Accept) waits in the service's queue until served or timed out.
 */
export function wantsWaitingPage(accept: string | undefined, pageEnabled: boolean): boolean {
  return pageEnabled && accept?.includes('text/html') === true;
}
