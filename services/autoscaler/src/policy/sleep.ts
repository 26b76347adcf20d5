// Scale to zero (issue #19) as one pure judgement, run before the ordinary policy: should the
// service sleep, wake, stay asleep, or is it awake (then decide() runs with a minimum of 1)?
// No I/O, no clock: the loop passes the balancer's view, the wake asks and now.
import type { ReasonCode } from './reasons.js';
import { reasonMessage } from './reasons.js';
import { clamp } from './step-limits.js';

export interface SleepInput {
  now: number;
  /** Replicas that exist and are not being removed (ready or starting). */
  current: number;
  /** The idle window (ms): the `lb.idle.after` label, else SCALE_TO_ZERO_AFTER_MS; null: off. */
  idleAfterMs: number | null;
  /**
   * The balancer's view of the service; null when there is none (LB_ADMIN_URL unset, the
   * balancer unreachable, or an older balancer without `service`): idleness cannot be judged.
   */
  service: { lastRequestAt: number | null; held: number } | null;
  /** Sum of the backends' in-flight requests in the same balancer view. */
  inFlight: number;
  /** When the loop started or last woke the service: the last request when the view has none. */
  activeSince: number;
  /** The held count of the last `POST /api/wake` not yet carried out; null: none asked. */
  wakeHeld: number | null;
  wakeRequestsPerReplica: number;
  max: number;
}

export type SleepDecision =
  | { kind: 'sleep'; desired: 0; reason: 'IdleScaleToZero'; message: string }
  | { kind: 'wake'; desired: number; reason: 'WakeOnRequest'; message: string }
  | { kind: 'asleep'; desired: 0; reason: 'Sleeping'; message: string }
  /** Awake: run the ordinary policy with at least `floor` replicas (1, or more for held requests). */
  | { kind: 'awake'; floor: number; heldFloor: boolean };

/** Replicas a wake asks for: ceil(held / per replica), at least 1, at most max. */
export function wakeReplicas(held: number, perReplica: number, max: number): number {
  return clamp(Math.ceil(held / Math.max(1, perReplica)), 1, Math.max(1, max));
}

/**
 * The idle window: the balancer's (it reads `lb.idle.after` from the replicas it routes to),
 * else the first valid `lb.idle.after` of the replicas (also a stopped one kept by a sleep),
 * else SCALE_TO_ZERO_AFTER_MS. An invalid label (not a positive integer of ms) is ignored.
 */
export function idleWindow(
  fromBalancer: number | null | undefined,
  labels: readonly (string | undefined)[],
  configured: number,
): number {
  if (fromBalancer != null && fromBalancer > 0) return fromBalancer;
  for (const l of labels) {
    if (l !== undefined && /^[1-9]\d*$/.test(l.trim())) return Number(l.trim());
  }
  return configured;
}

export function judgeSleep(input: SleepInput): SleepDecision {
  const { now, current, service, idleAfterMs } = input;
  const held = Math.max(service?.held ?? 0, input.wakeHeld ?? 0);

  if (current === 0 && idleAfterMs !== null) {
    if (held > 0 || input.wakeHeld !== null) {
      const desired = wakeReplicas(held, input.wakeRequestsPerReplica, input.max);
      return {
        kind: 'wake',
        desired,
        reason: 'WakeOnRequest',
        message: `${reasonMessage('WakeOnRequest')} (${held} held → ${desired}; 0 → ${desired})`,
      };
    }
    return {
      kind: 'asleep',
      desired: 0,
      reason: 'Sleeping',
      message: `${reasonMessage('Sleeping')} (0 → 0)`,
    };
  }

  if (current > 0 && idleAfterMs !== null && service !== null && held === 0 && input.inFlight === 0) {
    const last = Math.max(service.lastRequestAt ?? input.activeSince, input.activeSince);
    const idleMs = now - last;
    if (idleMs >= idleAfterMs) {
      return {
        kind: 'sleep',
        desired: 0,
        reason: 'IdleScaleToZero',
        message: `${reasonMessage('IdleScaleToZero')} (idle ${Math.round(idleMs)} ms ≥ ${idleAfterMs} ms; ${current} → 0)`,
      };
    }
  }

  // Awake (or scale to zero off): a burst held while the service starts asks for more than one.
  if (held > 0) {
    return {
      kind: 'awake',
      floor: wakeReplicas(held, input.wakeRequestsPerReplica, input.max),
      heldFloor: true,
    };
  }
  return { kind: 'awake', floor: 1, heldFloor: false };
}

export type SleepReason = Extract<ReasonCode, 'IdleScaleToZero' | 'WakeOnRequest' | 'Sleeping'>;
