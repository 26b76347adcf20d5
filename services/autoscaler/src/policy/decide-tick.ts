// The decide step: a pure function of one service's observation, its state, its settings and
// the time, giving the decision (reason code + message) and an intent for placement. Scale to
// zero's judgement, the ordinary policy, pause and ConfigInvalid meet here, in one place.
// settle() then turns what act reported into the decision's final reason. No I/O, no clock.
import type { Decision } from '@headroom/shared';
import { type DecideResult, decide } from './decide.js';
import type { MetricReading, MetricRecommendation, Recommendation } from './policy-types.js';
import { type ReasonCode, reasonMessage } from './reasons.js';
import type { ServiceSettings } from './service-settings.js';
import { idleWindow, judgeSleep, type SleepDecision } from './sleep.js';
import { seedHistory } from './stabilization.js';

/** What decide needs to know of one service this tick (observe/'s ServiceObservation has it). */
export interface ServiceFacts {
  service: string;
  census: {
    current: number;
    ready: number;
    replicas: readonly { idleAfter?: string | undefined }[];
  };
  readings: readonly MetricReading[];
  /** The balancer's view of the service; undefined when it has none (no balancer, or it did not answer). */
  balancer?:
    | { state: string; held: number; lastRequestAt: number | null; idleAfterMs: number | null }
    | undefined;
  inFlight: number;
}

/** What the loop keeps per service between ticks. */
export interface ServiceState {
  history: Recommendation[];
  /** When the service was first seen or last woken: counts as a request for the idle window. */
  activeSince: number;
  sleeping: boolean;
  holdReason: ReasonCode | null;
  current: number;
  ready: number;
  desired: number | undefined;
  lastMetrics: MetricRecommendation[];
  /** When owned replicas were found dead: crash backoff (placement's input). */
  deaths: number[];
}

export function initialState(now: number): ServiceState {
  return {
    history: [],
    activeSince: now,
    sleeping: false,
    holdReason: null,
    current: 0,
    ready: 0,
    desired: undefined,
    lastMetrics: [],
    deaths: [],
  };
}

export type Intent =
  /** Nothing to converge (holds, paused, dry run, invalid config). */
  | { kind: 'none' }
  | { kind: 'scale'; desired: number }
  /** Announce the sleep to the balancer, then remove every replica (one kept stopped). */
  | { kind: 'sleep' }
  /** Asleep, but the balancer says awake (it restarted): announce the sleep again. */
  | { kind: 'announce-asleep' };

export interface TickFlags {
  now: number;
  paused: boolean;
  dryRun: boolean;
  /** Held count of a POST /api/wake not yet acted on; null: none asked. */
  wakeHeld: number | null;
}

export type TickInput =
  | { kind: 'observed'; facts: ServiceFacts; settings: ServiceSettings }
  | { kind: 'engine-unavailable'; service: string; error: string }
  | { kind: 'config-invalid'; facts: ServiceFacts; container: string; label: string; message: string };

export interface TickDecision {
  decision: Decision;
  intent: Intent;
  state: ServiceState;
  /** The sleep judgement (scale to zero on), for the loop's reporting. */
  sleep?: SleepDecision | undefined;
}

function plain(
  service: string,
  now: number,
  current: number,
  ready: number,
  reason: ReasonCode,
  detail: string,
  dryRun: boolean,
  metrics: readonly MetricRecommendation[] = [],
): Decision {
  return {
    service,
    at: new Date(now).toISOString(),
    current,
    ready,
    desired: current,
    action: 'none',
    reason,
    message: `${reasonMessage(reason)} (${detail})`,
    metrics: metrics.map(toObservation),
    dryRun,
  };
}

export function decideTick(input: TickInput, prev: ServiceState, flags: TickFlags): TickDecision {
  const { now, dryRun } = flags;
  if (input.kind === 'engine-unavailable') {
    const state = { ...prev, holdReason: 'EngineUnavailable' as const };
    return {
      decision: plain(input.service, now, prev.current, prev.ready, 'EngineUnavailable', input.error, dryRun),
      intent: { kind: 'none' },
      state,
    };
  }
  const { facts } = input;
  const { current, ready } = facts.census;
  const seen = { ...prev, current, ready };
  if (input.kind === 'config-invalid') {
    return {
      decision: plain(
        facts.service,
        now,
        current,
        ready,
        'ConfigInvalid',
        `container ${input.container}, label ${input.label}: ${input.message}`,
        dryRun,
      ),
      intent: { kind: 'none' },
      state: { ...seen, holdReason: 'ConfigInvalid', desired: current },
    };
  }

  const settings = input.settings;
  const history = prev.history.length === 0 ? seedHistory(current, now) : prev.history;
  const sleep = settings.scaleToZero
    ? judgeSleep({
        now,
        current,
        idleAfterMs: idleWindow(
          facts.balancer?.idleAfterMs,
          facts.census.replicas.map((r) => r.idleAfter),
          settings.scaleToZero.idleAfterMs,
        ),
        service: facts.balancer
          ? { lastRequestAt: facts.balancer.lastRequestAt, held: facts.balancer.held }
          : null,
        inFlight: facts.inFlight,
        activeSince: prev.activeSince,
        wakeHeld: flags.wakeHeld,
        wakeRequestsPerReplica: settings.scaleToZero.wakeRequestsPerReplica,
        max: settings.policy.max,
      })
    : undefined;
  const policy = decide({
    now,
    current,
    ready,
    readings: facts.readings,
    settings: settings.policy,
    history,
  });
  const result = withSleep(policy, sleep, current);
  const state: ServiceState = { ...seen, history: result.history, lastMetrics: result.metrics };

  if (flags.paused) {
    return {
      decision: plain(
        facts.service,
        now,
        current,
        ready,
        'Paused',
        `policy: ${result.message}`,
        dryRun,
        result.metrics,
      ),
      intent: { kind: 'none' },
      state: { ...state, holdReason: 'Paused' },
      sleep,
    };
  }
  state.holdReason =
    result.reason === 'HoldMissingData' || result.reason === 'HoldPartialData' ? result.reason : null;
  state.desired = result.desired;
  if (sleep) {
    if (sleep.kind === 'awake') state.sleeping = false;
    else state.sleeping = sleep.kind !== 'wake';
    if (sleep.kind === 'wake') state.activeSince = now;
  }
  const decision: Decision = {
    service: facts.service,
    at: new Date(now).toISOString(),
    current,
    ready,
    desired: result.desired,
    action: result.action,
    reason: result.reason,
    message: result.message,
    metrics: result.metrics.map(toObservation),
    dryRun,
  };
  let intent: Intent = { kind: 'none' };
  if (dryRun) intent = { kind: 'none' };
  else if (sleep?.kind === 'sleep') intent = { kind: 'sleep' };
  else if (sleep?.kind === 'asleep' && facts.balancer?.state === 'awake')
    intent = { kind: 'announce-asleep' };
  else if (result.action !== 'none') intent = { kind: 'scale', desired: result.desired };
  return { decision, intent, state, sleep };
}

/** The ordinary policy's result, overridden by a sleep, a wake, or held requests. */
function withSleep(policy: DecideResult, sleep: SleepDecision | undefined, current: number): DecideResult {
  if (!sleep) return policy;
  if (sleep.kind === 'awake') {
    if (!sleep.heldFloor || policy.desired >= sleep.floor) return policy;
    const desired = sleep.floor;
    return {
      ...policy,
      desired,
      action: desired > current ? 'scale-up' : desired < current ? 'scale-down' : 'none',
      reason: 'WakeOnRequest',
      message: `${reasonMessage('WakeOnRequest')} (held requests ask for ${desired}; ${current} → ${desired}; policy: ${policy.message})`,
    };
  }
  const desired = sleep.desired;
  return {
    ...policy,
    desired,
    action: desired > current ? 'scale-up' : desired < current ? 'scale-down' : 'none',
    reason: sleep.reason,
    message: sleep.message,
  };
}

export function toObservation(m: MetricRecommendation) {
  const o = {
    metric: m.metric,
    value: m.value,
    target: m.target,
    recommendation: m.recommendation,
    samples: m.samples,
  };
  return m.missing ? { ...o, missing: m.missing } : o;
}

/** What act reported, as settle() needs it (model/plan.ts's ActOutcome has it). */
export interface SettleOutcome {
  failed?: { step: string; detail: string } | undefined;
  sleepRefused?: boolean | undefined;
}

/**
 * The decision's final reason once the plan ran: a shortfall placement knew before acting
 * (HostCapacityExhausted, NothingToRemove, crash backoff), a step that failed (ScaleFailed),
 * a sleep the balancer refused. A sleep that did not complete leaves the service awake.
 */
export function settle(
  t: TickDecision,
  shortfall: { reason: ReasonCode; detail: string } | undefined,
  outcome: SettleOutcome,
): { decision: Decision; state: ServiceState } {
  const d = t.decision;
  if (outcome.sleepRefused) {
    return {
      decision: {
        ...d,
        desired: d.current,
        action: 'none',
        reason: 'ScaleFailed',
        message: `${reasonMessage('ScaleFailed')}: the balancer did not accept the sleep (policy: ${d.message})`,
      },
      state: { ...t.state, sleeping: false, desired: d.current },
    };
  }
  let decision = d;
  if (outcome.failed) {
    decision = {
      ...d,
      reason: 'ScaleFailed',
      message: `${reasonMessage('ScaleFailed')}: ${outcome.failed.detail}`,
    };
  } else if (shortfall) {
    decision = {
      ...d,
      reason: shortfall.reason,
      message: `${reasonMessage(shortfall.reason)}: ${shortfall.detail} (policy: ${d.message})`,
    };
  }
  // The sleep failed part-way and replicas remain: the balancer was told awake again (the plan's onAbort).
  const aborted = t.intent.kind === 'sleep' && decision.reason !== 'IdleScaleToZero';
  return { decision, state: aborted ? { ...t.state, sleeping: false } : t.state };
}
