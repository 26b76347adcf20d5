// Health, ejection and drain transitions of one slot. Each function applies one event to
// the slot and returns the change it made (or null), so the balancer can tell its listener
// and a test can read the transition table directly. No I/O, no clock.
import type { BackendState } from '@headroom/shared';
import type { BackendTransition, Outcome, TransitionCode, TransitionTo } from './balancer-core.js';
import type { Slot } from './slot.js';
import { SLOW_START_FLOOR } from './slow-start.js';

export interface HealthRules {
  healthRise: number;
  healthFall: number;
  ejectAfterFailures: number;
  ejectCooldownMs: number;
}

export function stateOf(s: Slot): BackendState {
  return s.draining ? 'draining' : s.healthy ? 'healthy' : 'unhealthy';
}

function transition(
  s: Slot,
  from: BackendState,
  to: TransitionTo,
  code: TransitionCode,
  reason: string,
  at: number,
): BackendTransition {
  return { id: s.id, name: s.spec.name, from, to, code, reason, at };
}

/**
 * An active health check result. `immediate`: a fail that counts as HEALTH_FALL fails at once
 * (Docker's own HEALTHCHECK said unhealthy, after its own retries).
 */
export function applyHealthCheck(
  s: Slot,
  ok: boolean,
  now: number,
  rules: HealthRules,
  detail?: string,
  immediate = false,
): BackendTransition | null {
  const from = stateOf(s);
  if (ok) {
    s.fails = 0;
    s.passes++;
    if (s.healthy || s.passes < rules.healthRise || now < s.ejectedUntil) return null;
    const wasEjected = s.ejectedUntil > Number.NEGATIVE_INFINITY && s.reason?.startsWith('ejected') === true;
    s.healthy = true;
    s.reason = null;
    s.consecutiveFailures = 0;
    // a backend that joins or returns ramps up from a small share
    s.since = now;
    const first = !s.everHealthy;
    if (first) s.joinedAt = now;
    s.everHealthy = true;
    const why = first
      ? `first health check passed (${s.passes}/${rules.healthRise})`
      : wasEjected
        ? 'health check passed after the ejection cooldown'
        : `health check passed ${s.passes} time(s) in a row`;
    return transition(s, from, 'healthy', 'health-check-passed', why, now);
  }
  s.passes = 0;
  s.fails++;
  const reason = `health check failed: ${detail ?? 'unknown'}`;
  if (s.healthy && (immediate || s.fails >= rules.healthFall)) {
    s.healthy = false;
    s.reason = reason;
    return transition(
      s,
      from,
      'unhealthy',
      'health-check-failed',
      immediate ? reason : `${reason} (${s.fails} in a row, fall ${rules.healthFall})`,
      now,
    );
  }
  // still out: keep the latest reason once an ejection's cooldown is over
  if (!s.healthy && s.ejectedUntil <= now) s.reason = reason;
  return null;
}

/**
 * A proxied exchange's outcome (passive health). `othersEligible`: passive ejection never
 * takes out the last backend, which would turn errors into 503s for everyone.
 */
export function applyOutcome(
  s: Slot,
  outcome: Outcome,
  now: number,
  rules: HealthRules,
  othersEligible: boolean,
): BackendTransition | null {
  if (outcome === 'success') {
    s.consecutiveFailures = 0;
    return null;
  }
  s.errors++;
  s.consecutiveFailures++;
  if (!s.healthy || s.consecutiveFailures < rules.ejectAfterFailures || !othersEligible) return null;
  const from = stateOf(s);
  s.healthy = false;
  s.passes = 0;
  s.ejectedUntil = now + rules.ejectCooldownMs;
  s.reason = `ejected after ${s.consecutiveFailures} consecutive failures (${outcome})`;
  return transition(
    s,
    from,
    'ejected',
    'consecutive-failures',
    `${s.reason}; out for at least ${rules.ejectCooldownMs} ms`,
    now,
  );
}

/** `why`: who asked, for people (default: a drain requested through the admin API). */
export function applyDrain(s: Slot, draining: boolean, now: number, why?: string): BackendTransition | null {
  if (s.draining === draining) return null;
  const from = stateOf(s);
  s.draining = draining;
  return draining
    ? transition(s, from, 'draining', 'drain-requested', why ?? 'drain requested: no new requests', now)
    : transition(
        s,
        from,
        'undrained',
        'undrain-requested',
        why ?? `undrain requested: back to ${stateOf(s)}`,
        now,
      );
}

export function applyWeight(s: Slot, weight: number, now: number): BackendTransition | null {
  const before = s.override ?? s.baseWeight;
  s.override = weight;
  if (before === weight) return null;
  return transition(s, stateOf(s), 'weight-changed', 'weight-set', `weight ${before} → ${weight}`, now);
}

/**
 * A backend that became healthy starts its slow-start ramp (SLOW_START_MS, or lb.slowstart):
 * reported, so a user can see why a new backend takes a small share at first. No window: nothing.
 */
export function beginRamp(s: Slot, now: number, windowMs: number): BackendTransition | null {
  if (!(windowMs > 0) || !s.healthy) {
    s.rampUntil = null;
    return null;
  }
  s.rampUntil = now + windowMs;
  return transition(
    s,
    stateOf(s),
    'slow-start',
    'slow-start-began',
    `slow start: ramping from ${Math.round(SLOW_START_FLOOR * 100)} % to its full weight over ${windowMs} ms`,
    now,
  );
}

/** The ramp's end, once, when its window is over; a backend that left rotation meanwhile ends silently. */
export function endRamp(s: Slot, now: number): BackendTransition | null {
  if (s.rampUntil === null || now < s.rampUntil) return null;
  const window = s.rampUntil - s.since;
  s.rampUntil = null;
  if (!s.healthy || s.draining) return null;
  return transition(
    s,
    stateOf(s),
    'full-weight',
    'slow-start-ended',
    `slow start over after ${window} ms: full weight`,
    now,
  );
}
