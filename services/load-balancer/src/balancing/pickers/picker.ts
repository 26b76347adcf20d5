// What a picker gets: the slots, the time, the slots this request already tried, injected
// randomness and the settings. The balancer owns one context and refills it per request,
// so a pick allocates nothing (undici's pool-base/subclass split: the store owns the queue,
// a picker only chooses).
import type { BalancerMode } from '@headroom/shared';
import type { Slot } from '../slot.js';

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
  random: () => number;
  settings: PickerSettings;
}

export type Picker = (ctx: PickContext) => Slot | undefined;

export type PickerTable = Readonly<Record<BalancerMode, Picker>>;

/** Relative cost difference below which two candidates count as equal. */
export const TIE_BAND = 0.05;
