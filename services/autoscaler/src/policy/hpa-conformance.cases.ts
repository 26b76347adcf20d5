// Kubernetes HPA conformance cases, as data (issue #25). Restated from kubernetes/kubernetes,
// pkg/controller/podautoscaler/replica_calculator_test.go (TestReplicaCalc*, the stored v2beta2-era
// version 00067268) and horizontal_test.go (TestNormalizeDesiredReplicas and
// TestNormalizeDesiredReplicasWithBehavior from stored version 003e8629;
// TestConvertDesiredReplicasWithRules from an older stored version, before HPAScaleToZero: the
// newer one expects 0 for a minimum of 0, which Headroom reaches by a sleep, not by this rule);
// Apache-2.0, © The Kubernetes Authors. The numbers are theirs; the mapping to Headroom's terms is ours:
// - a pod is a replica; a pod's CPU request is the replica's limit, so a pod's utilization is
//   level / request (every pod there has two containers with the same request and level: the ratio
//   is the same);
// - a Failed or deleting pod is not a replica here (exited / being removed: not in `current`);
// - an unready, Pending or "hot CPU" (inside the CPU initialization period) pod is a replica whose
//   health check has not passed: its sample is left out by observe/ (readings.ts), so it is one of
//   the replicas without a sample;
// - Object and External metrics with a Value target: every ready replica reports the value; with
//   an AverageValue (per-pod) target: every replica reports total / current;
// - a series naming no known replica (SuperfluousMetrics) is dropped by observe/, as there.
// Where Headroom decides otherwise on purpose, `ours` holds our count and `why` the reason;
// docs/architecture.md lists each of those cases (a test keeps the two in step).

export interface CalcCase {
  /** The Kubernetes test name (TestReplicaCalc<name>). */
  name: string;
  current: number;
  /** Per-replica values of the replicas with a sample (ready, attributed). */
  values: number[];
  target: number;
  /** The count the HPA test expects; null: it expects an error (no recommendation). */
  hpa: number | null;
  /** Headroom's count where it differs on purpose. */
  ours?: number | undefined;
  why?: string | undefined;
}

const UNREADY_DOWN =
  'a replica without a sample counts as on target on a scale-down (Headroom never scales in on replicas it cannot see); the HPA leaves unready pods out of the count';
const UNREADY_CUSTOM =
  'Headroom leaves a not-ready replica out of every metric; the HPA leaves unready pods out for CPU only and counts their custom-metric samples';

export const CALC_CASES: CalcCase[] = [
  { name: 'ScaleUp', current: 3, values: [0.3, 0.5, 0.7], target: 0.3, hpa: 5 },
  { name: 'ScaleUpUnreadyLessScale', current: 3, values: [0.5, 0.7], target: 0.3, hpa: 4 },
  { name: 'ScaleUpHotCpuLessScale', current: 3, values: [0.5, 0.7], target: 0.3, hpa: 4 },
  { name: 'ScaleUpUnreadyNoScale', current: 3, values: [0.4], target: 0.3, hpa: 3 },
  { name: 'ScaleHotCpuNoScale', current: 3, values: [0.4], target: 0.3, hpa: 3 },
  { name: 'ScaleUpIgnoresFailedPods', current: 2, values: [0.5, 0.7], target: 0.3, hpa: 4 },
  { name: 'ScaleUpIgnoresDeletionPods', current: 2, values: [0.5, 0.7], target: 0.3, hpa: 4 },
  { name: 'ScaleUpCM', current: 3, values: [20, 10, 30], target: 15, hpa: 4 },
  {
    name: 'ScaleUpCMUnreadyHotCpuNoLessScale',
    current: 3,
    values: [50, 10],
    target: 15,
    hpa: 6,
    ours: 4,
    why: UNREADY_CUSTOM,
  },
  {
    name: 'ScaleUpCMUnreadyHotCpuScaleWouldScaleDown',
    current: 3,
    values: [15],
    target: 15,
    hpa: 7,
    ours: 3,
    why: UNREADY_CUSTOM,
  },
  { name: 'ScaleUpCMObject', current: 3, values: [20, 20, 20], target: 15, hpa: 4 },
  { name: 'ScaleUpCMPerPodObject', current: 3, values: [20 / 3, 20 / 3, 20 / 3], target: 5, hpa: 4 },
  { name: 'ScaleUpCMObjectIgnoresUnreadyPods', current: 3, values: [50], target: 10, hpa: 5 },
  { name: 'ScaleUpCMExternal', current: 1, values: [8.6], target: 4.4, hpa: 2 },
  {
    name: 'ScaleUpCMExternalIgnoresUnreadyPods',
    current: 3,
    values: [8.6],
    target: 4.4,
    hpa: 2,
    ours: 3,
    why: UNREADY_DOWN,
  },
  { name: 'ScaleUpCMExternalNoLabels', current: 1, values: [8.6], target: 4.4, hpa: 2 },
  { name: 'ScaleUpPerPodCMExternal', current: 3, values: [8.6 / 3, 8.6 / 3, 8.6 / 3], target: 2.15, hpa: 4 },
  { name: 'ScaleDown', current: 5, values: [0.1, 0.3, 0.5, 0.25, 0.25], target: 0.5, hpa: 3 },
  { name: 'ScaleDownCM', current: 5, values: [12, 12, 12, 12, 12], target: 20, hpa: 3 },
  { name: 'ScaleDownPerPodCMObject', current: 5, values: [1.2, 1.2, 1.2, 1.2, 1.2], target: 2, hpa: 3 },
  { name: 'ScaleDownCMObject', current: 5, values: [12, 12, 12, 12, 12], target: 20, hpa: 3 },
  { name: 'ScaleDownCMExternal', current: 5, values: [8.6, 8.6, 8.6, 8.6, 8.6], target: 14.334, hpa: 3 },
  {
    name: 'ScaleDownPerPodCMExternal',
    current: 5,
    values: [1.72, 1.72, 1.72, 1.72, 1.72],
    target: 2.867,
    hpa: 3,
  },
  {
    name: 'ScaleDownIncludeUnreadyPods',
    current: 5,
    values: [0.1, 0.3, 0.5],
    target: 0.5,
    hpa: 2,
    ours: 4,
    why: UNREADY_DOWN,
  },
  {
    name: 'ScaleDownExcludeUnscheduledPods',
    current: 5,
    values: [0.1],
    target: 0.5,
    hpa: 1,
    ours: 5,
    why: 'a replica still starting (Pending) counts as on target on a scale-down: it is capacity being added, never idle capacity to remove',
  },
  {
    name: 'ScaleDownIgnoreHotCpuPods',
    current: 5,
    values: [0.1, 0.3, 0.5],
    target: 0.5,
    hpa: 2,
    ours: 4,
    why: UNREADY_DOWN,
  },
  {
    name: 'ScaleDownIgnoresFailedPods',
    current: 5,
    values: [0.1, 0.3, 0.5, 0.25, 0.25],
    target: 0.5,
    hpa: 3,
  },
  {
    name: 'ScaleDownIgnoresDeletionPods',
    current: 5,
    values: [0.1, 0.3, 0.5, 0.25, 0.25],
    target: 0.5,
    hpa: 3,
  },
  { name: 'Tolerance', current: 3, values: [1010 / 900, 1030 / 1000, 1020 / 1100], target: 1, hpa: 3 },
  { name: 'ToleranceCM', current: 3, values: [20, 21, 21], target: 20, hpa: 3 },
  { name: 'ToleranceCMObject', current: 3, values: [20.666, 20.666, 20.666], target: 20, hpa: 3 },
  {
    name: 'TolerancePerPodCMObject',
    current: 4,
    values: [20.166 / 4, 20.166 / 4, 20.166 / 4, 20.166 / 4],
    target: 5,
    hpa: 4,
  },
  { name: 'ToleranceCMExternal', current: 3, values: [8.6, 8.6, 8.6], target: 8.888, hpa: 3 },
  { name: 'TolerancePerPodCMExternal', current: 3, values: [8.6 / 3, 8.6 / 3, 8.6 / 3], target: 2.9, hpa: 3 },
  { name: 'SuperfluousMetrics', current: 4, values: [4, 9.5, 3, 7], target: 1, hpa: 24 },
  { name: 'MissingMetrics', current: 4, values: [0.4, 0.095], target: 1, hpa: 3 },
  { name: 'EmptyMetrics', current: 4, values: [], target: 1, hpa: null },
  { name: 'MissingMetricsNoChangeEq', current: 2, values: [1], target: 1, hpa: 2 },
  { name: 'MissingMetricsNoChangeGt', current: 2, values: [1.9], target: 1, hpa: 2 },
  { name: 'MissingMetricsNoChangeLt', current: 2, values: [0.6], target: 1, hpa: 2 },
  { name: 'MissingMetricsUnreadyChange', current: 3, values: [0.45], target: 0.5, hpa: 3 },
  { name: 'MissingMetricsHotCpuNoChange', current: 3, values: [0.45], target: 0.5, hpa: 3 },
  { name: 'MissingMetricsUnreadyScaleUp', current: 3, values: [2], target: 0.5, hpa: 4 },
  { name: 'MissingMetricsHotCpuScaleUp', current: 3, values: [2], target: 0.5, hpa: 4 },
  { name: 'MissingMetricsUnreadyScaleDown', current: 4, values: [0.1, 0.1], target: 0.5, hpa: 3 },
  // The HPA's spec says 2 while 3 pods run (a surge pod); Headroom counts the 3 that exist.
  { name: 'DuringRollingUpdateWithMaxSurge', current: 3, values: [0.1, 0.1], target: 0.5, hpa: 2 },
  {
    // 10 pods using 150m each, requests 300m ± 100/10/2/1/0; target int((1 / (2 × 0.9) + 0.01) × 100) = 56 %.
    name: 'ComputedToleranceAlgImplementation',
    current: 10,
    values: [400, 200, 310, 290, 302, 298, 301, 299, 300, 300].map((req) => 150 / req),
    target: 0.56,
    hpa: 9,
    ours: 10,
    why: "Headroom averages each replica's utilization (mean of ratios: 0.513 here), the HPA divides the sums (ratio of sums: 0.5); they differ only when replicas have different limits, which a service's replicas copied from one template do not",
  },
  {
    // the second half: target int((1 / (2 × 0.9) + 0.004) × 100) = 55 %: inside the tolerance
    name: 'ComputedToleranceAlgImplementation (within tolerance)',
    current: 10,
    values: [400, 200, 310, 290, 302, 298, 301, 299, 300, 300].map((req) => 150 / req),
    target: 0.55,
    hpa: 10,
  },
];

/**
 * horizontal_test.go TestNormalizeDesiredReplicas (legacy: a 5-minute scale-down window) and
 * TestNormalizeDesiredReplicasWithBehavior (behavior: a scale-up and a scale-down window each).
 */
export interface StabilizeCase {
  name: string;
  /** Stabilization windows in seconds (legacy: 0 up, 300 down). */
  upWindowS?: number;
  downWindowS?: number;
  /** Past recommendations: [replicas, seconds ago]. */
  history: [number, number][];
  /** The count running when the new recommendation comes (the last one acted on). */
  current: number;
  recommendation: number;
  hpa: number;
}

export const STABILIZE_CASES: StabilizeCase[] = [
  { name: 'empty log', history: [], current: 5, recommendation: 5, hpa: 5 },
  {
    name: 'stabilize',
    history: [
      [4, 120],
      [5, 60],
    ],
    current: 5,
    recommendation: 3,
    hpa: 5,
  },
  {
    name: 'no stabilize',
    history: [
      [1, 120],
      [2, 60],
    ],
    current: 2,
    recommendation: 3,
    hpa: 3,
  },
  {
    name: 'no stabilize - old recommendations',
    history: [
      [10, 600],
      [9, 540],
    ],
    current: 9,
    recommendation: 3,
    hpa: 3,
  },
  {
    name: 'stabilize - old recommendations',
    history: [
      [10, 600],
      [4, 60],
      [5, 120],
      [9, 540],
    ],
    current: 5,
    recommendation: 3,
    hpa: 5,
  },
  // TestNormalizeDesiredReplicasWithBehavior
  {
    name: 'empty recommendations for scaling down',
    history: [],
    current: 100,
    recommendation: 5,
    hpa: 5,
    upWindowS: 0,
    downWindowS: 0,
  },
  {
    name: 'simple scale down stabilization',
    history: [
      [4, 120],
      [5, 60],
    ],
    current: 100,
    recommendation: 3,
    hpa: 5,
    upWindowS: 0,
    downWindowS: 180,
  },
  {
    name: 'simple scale up stabilization',
    history: [
      [4, 120],
      [5, 60],
    ],
    current: 1,
    recommendation: 7,
    hpa: 4,
    upWindowS: 300,
    downWindowS: 0,
  },
  {
    name: 'no scale down stabilization',
    history: [
      [1, 120],
      [2, 60],
    ],
    current: 100,
    recommendation: 3,
    hpa: 3,
    upWindowS: 300,
    downWindowS: 0,
  },
  {
    name: 'no scale up stabilization',
    history: [
      [4, 120],
      [5, 60],
    ],
    current: 1,
    recommendation: 3,
    hpa: 3,
    upWindowS: 0,
    downWindowS: 300,
  },
  {
    name: 'no scale down stabilization, reuse recommendation element',
    history: [
      [10, 600],
      [9, 540],
    ],
    current: 100,
    recommendation: 3,
    hpa: 3,
    upWindowS: 0,
    downWindowS: 0,
  },
  {
    name: 'no scale up stabilization, reuse recommendation element',
    history: [
      [10, 600],
      [9, 540],
    ],
    current: 1,
    recommendation: 100,
    hpa: 100,
    upWindowS: 0,
    downWindowS: 0,
  },
  {
    name: 'scale down stabilization, reuse one of obsolete recommendation element',
    history: [
      [10, 600],
      [4, 60],
      [5, 120],
      [9, 540],
    ],
    current: 100,
    recommendation: 3,
    hpa: 5,
    upWindowS: 0,
    downWindowS: 180,
  },
  {
    name: 'scale up stabilization, reuse one of obsolete recommendation element',
    history: [
      [10, 6000],
      [6, 60],
      [5, 120],
      [9, 180],
    ],
    current: 1,
    recommendation: 100,
    hpa: 5,
    upWindowS: 300,
    downWindowS: 0,
  },
  {
    name: 'scale up and down stabilization, do not scale up when prenormalized rec goes down',
    history: [
      [2, 6000],
      [3, 180],
    ],
    current: 2,
    recommendation: 1,
    hpa: 2,
    upWindowS: 300,
    downWindowS: 300,
  },
  {
    name: 'scale up and down stabilization, do not scale down when prenormalized rec goes up',
    history: [
      [2, 6000],
      [1, 180],
    ],
    current: 2,
    recommendation: 3,
    hpa: 2,
    upWindowS: 300,
    downWindowS: 300,
  },
];

/** horizontal_test.go TestConvertDesiredReplicasWithRules: min, max and the scale-up limit. */
export interface LimitCase {
  annotation: string;
  current: number;
  desired: number;
  min: number;
  max: number;
  hpa: number;
  /** The HPA's ScalingLimited condition reason, and the Headroom reason code that says the same. */
  condition: string;
  reason: string;
}

export const LIMIT_CASES: LimitCase[] = [
  {
    annotation: 'prenormalized desired replicas within range',
    current: 5,
    desired: 7,
    min: 3,
    max: 8,
    hpa: 7,
    condition: 'DesiredWithinRange',
    reason: 'ScaleUp',
  },
  {
    annotation: 'prenormalized desired replicas < minReplicas',
    current: 3,
    desired: 1,
    min: 2,
    max: 8,
    hpa: 2,
    condition: 'TooFewReplicas',
    reason: 'DesiredBelowMin',
  },
  {
    annotation: '1 is minLimit because hpaMinReplicas < 1',
    current: 1,
    desired: 0,
    min: 0,
    max: 10,
    hpa: 1,
    condition: 'TooFewReplicas',
    reason: 'DesiredBelowMin',
  },
  {
    annotation: 'maxReplicas is the limit because maxReplicas < scaleUpLimit',
    current: 20,
    desired: 1000,
    min: 1,
    max: 10,
    hpa: 10,
    condition: 'TooManyReplicas',
    reason: 'TooManyReplicas',
  },
  {
    annotation: 'scaleUpLimit is the limit because scaleUpLimit < maxReplicas',
    current: 3,
    desired: 1000,
    min: 1,
    max: 2000,
    // the legacy limit max(2 × current, 4); SCALE_UP_MAX_FACTOR=2 gives max(current + 1, 2 × current)
    hpa: 6,
    condition: 'ScaleUpLimit',
    reason: 'ScaleUpLimit',
  },
];
