// What a picker gets: the slots, the time, the slots this request already tried, injected
// randomness and the settings. The balancer owns one context and refills it per request,
// so a pick allocates nothing (undici's pool-base/subclass split: the store owns the queue,
// a picker only chooses).
import type { BalancerMode } from '@headroom/shared';
import { hasRoom, isCandidate, type Slot } from '../slot.js';

export interface PickerSettings {
  slowStartMs: number;
  latencyDecayMs: number;
  metricsStaleMs: number;
  cpuWeight: number;
  memoryWeight: number;
}

export interface PickContext {
  slots: readonly Slot[];
  now: number;
  tried: readonly number[] | undefined;
  /**
   * Concurrency limits apply: a first attempt. A retry (tried set) may go over a limit: it
   * was admitted already and must not queue again behind later arrivals.
   */
  limited: boolean;
  /** Requests waiting in the service queue now (resource-aware weighs waiting against a slow free backend). */
  waiting: number;
  random: () => number;
  settings: PickerSettings;
}

export type Picker = (ctx: PickContext) => Slot | undefined;

/** A backend a picker may choose: eligible, not tried by this request, and with room under its limit. */
export function canTake(ctx: PickContext, s: Slot): boolean {
  return isCandidate(s, ctx.tried) && (!ctx.limited || hasRoom(s));
}

export type PickerTable = Readonly<Record<BalancerMode, Picker>>;

/** Relative cost difference below which two candidates count as equal. */
export const TIE_BAND = 0.05;
