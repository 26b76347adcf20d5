// Pure: one service's settings, from its `autoscale.*` labels over the environment's defaults,
// like a KEDA ScaledObject per workload. A malformed label makes the service ConfigInvalid
// (it is not scaled; the others carry on), naming the container and the label.
import { AUTOSCALE_LABELS, LB_LABELS, parseAutoscaleLabels } from '@headroom/shared';
import type { PolicySettings, ScaleMetric } from './policy-types.js';

export interface Target {
  metric: ScaleMetric;
  target: number;
}

export interface ScaleToZeroSettings {
  /** SCALE_TO_ZERO_AFTER_MS; the service's `lb.idle.after` overrides it. */
  idleAfterMs: number;
  wakeRequestsPerReplica: number;
}

export interface ServiceSettings {
  policy: PolicySettings;
  targets: Target[];
  /** Set when the service may sleep (min 0 with an idle window and a balancer to hold requests). */
  scaleToZero?: ScaleToZeroSettings | undefined;
}

export interface SettingsDefaults {
  /** From the environment; min may be 0 (scale to zero). */
  policy: PolicySettings;
  targets: readonly Target[];
  /** SCALE_TO_ZERO_AFTER_MS, when set. */
  idleAfterMs?: number | undefined;
  wakeRequestsPerReplica: number;
  /** A balancer is configured: it can judge idleness and hold requests, so a service may sleep. */
  canSleep: boolean;
}

export interface LabelSourceLike {
  name: string;
  labels: Readonly<Record<string, string>>;
}

export type SettingsResult =
  | { ok: true; settings: ServiceSettings; from?: string | undefined }
  | { ok: false; container: string; label: string; message: string };

export function serviceSettings(
  defaults: SettingsDefaults,
  sources: readonly LabelSourceLike[],
): SettingsResult {
  // Every labelled container must be well-formed; the first one (the user's own) sets the values.
  let first: ReturnType<typeof parseAutoscaleLabels> | undefined;
  for (const src of sources) {
    const parsed = parseAutoscaleLabels(src.labels);
    if (!parsed.ok) return { ok: false, container: src.name, ...parsed.error };
    first ??= parsed;
  }
  const labelled = first?.ok ? first.value : undefined;
  const min = labelled?.min ?? defaults.policy.min;
  const max = labelled?.max ?? defaults.policy.max;
  if (min > max) {
    // one bound from a label, the other from the environment
    return {
      ok: false,
      container: sources[0]?.name ?? '(environment)',
      label: labelled?.min !== undefined ? AUTOSCALE_LABELS.min : AUTOSCALE_LABELS.max,
      message: `min ${min} exceeds max ${max}`,
    };
  }
  const targets = labelled && labelled.targets.length > 0 ? labelled.targets : [...defaults.targets];
  const idleLabel = sources[0]?.labels[LB_LABELS.idleAfter]?.trim();
  const idleAfterMs =
    defaults.idleAfterMs ?? (idleLabel && /^[1-9]\d*$/.test(idleLabel) ? Number(idleLabel) : undefined);
  if (labelled?.min === 0 && idleAfterMs === undefined) {
    // Scale to zero is opt-in with its idle window: min 0 alone would drop to 0 with nothing to wake it.
    return {
      ok: false,
      container: sources[0]?.name ?? '(environment)',
      label: AUTOSCALE_LABELS.min,
      message: `0 (scale to zero) needs ${LB_LABELS.idleAfter} (ms) or SCALE_TO_ZERO_AFTER_MS`,
    };
  }
  const scaleToZero =
    min === 0 && defaults.canSleep && idleAfterMs !== undefined
      ? { idleAfterMs, wakeRequestsPerReplica: defaults.wakeRequestsPerReplica }
      : undefined;
  return {
    ok: true,
    from: sources[0]?.name,
    // Awake, the ordinary policy never goes below 1: only a sleep takes a service to 0.
    settings: { policy: { ...defaults.policy, min: Math.max(1, min), max }, targets, scaleToZero },
  };
}
