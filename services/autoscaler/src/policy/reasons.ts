// The fixed list of reason codes every autoscaler decision carries, with the one line
// people read. The API, the decision log and the metric labels all use these codes.

export const REASONS = {
  ScaleUp: 'observed use is above target: adding replicas',
  ScaleDown: 'observed use is below target for the whole scale-down window: removing replicas',
  WithinTolerance: 'observed use is within the tolerance band around the target: no change',
  NoChangeNeeded: 'the metrics ask for exactly the current count: no change',
  ScaleUpStabilized: 'a scale-up was recommended but a lower recommendation in the scale-up window holds it',
  ScaleDownStabilized:
    'a scale-down was recommended but a higher recommendation in the scale-down window holds it',
  ScaleUpLimit: 'scale-up capped by the step limit (SCALE_UP_MAX_FACTOR)',
  ScaleDownLimit: 'scale-down capped by the step limit (SCALE_DOWN_MAX_STEP)',
  TooFewReplicas: 'fewer replicas than MIN_REPLICAS: raising to the minimum',
  TooManyReplicas: 'more replicas than MAX_REPLICAS: lowering to the maximum',
  DesiredAboveMax: 'the metrics ask for more than MAX_REPLICAS: capped at the maximum',
  DesiredBelowMin: 'the metrics ask for fewer than MIN_REPLICAS: held at the minimum',
  HoldMissingData:
    'no usable metric (missing, stale, NaN or Prometheus unreachable): holding the current count',
  HoldPartialData:
    'some metrics are missing and the rest ask for fewer replicas: holding (never scale down on partial data)',
  NoMetricsConfigured: 'no metric has a target: holding the current count',
  Paused: 'scaling paused by an operator',
  EngineUnavailable: 'the container engine is unreachable: scaling paused until it is back',
  NothingToRemove: 'a scale-down was decided but no replica owned by this autoscaler can be removed',
  ScaleFailed: 'the runtime failed to carry out the scaling action',
  HostCapacityExhausted: 'no host has room for another replica (placement filter)',
  IdleScaleToZero: 'no request for the whole idle window and none in flight or held: scaling to zero (sleep)',
  WakeOnRequest: 'requests are held for the sleeping service (or a wake was asked): starting replicas',
  Sleeping: 'the service sleeps (scaled to zero) and no request asks for it: holding at zero',
  ConfigInvalid: 'a malformed autoscale.* label: this service is not scaled until it is fixed',
} as const;

export type ReasonCode = keyof typeof REASONS;

export const REASON_CODES = Object.keys(REASONS) as ReasonCode[];

export function reasonMessage(code: ReasonCode): string {
  return REASONS[code];
}
