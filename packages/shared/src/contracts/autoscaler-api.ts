// Contracts of the autoscaler's admin API (its ADMIN_PORT).
import { z } from 'zod';

/** concurrency: requests in flight per replica, averaged over time (Knative's default signal). */
export const SCALE_METRICS = ['cpu', 'memory', 'rps', 'concurrency'] as const;
export const scaleMetricSchema = z.enum(SCALE_METRICS);

export const metricObservationSchema = z.object({
  metric: scaleMetricSchema,
  /** Mean per-replica value (utilization ratio, or requests/s); null when missing. */
  value: z.number().nullable(),
  target: z.number(),
  /** Replicas this metric alone asks for; null when it gave no recommendation. */
  recommendation: z.number().int().nullable(),
  samples: z.number().int(),
  /** Why there is no value: unreachable, error, empty, nan or stale (absent when the value is there). */
  missing: z.string().optional(),
});

export const SCALE_ACTIONS = ['scale-up', 'scale-down', 'none'] as const;

export const decisionSchema = z.object({
  /** The service the decision is about (one autoscaler scales every labelled service). */
  service: z.string(),
  at: z.string(),
  current: z.number().int(),
  ready: z.number().int(),
  desired: z.number().int(),
  action: z.enum(SCALE_ACTIONS),
  /** Stable reason code (see services/autoscaler/src/policy/reasons.ts). */
  reason: z.string(),
  /** One line for people. */
  message: z.string(),
  metrics: z.array(metricObservationSchema),
  dryRun: z.boolean(),
});
export type Decision = z.infer<typeof decisionSchema>;

/** One scaled service: its counts, bounds (labels over env defaults), hold and last decision. */
export const serviceStatusSchema = z.object({
  service: z.string(),
  current: z.number().int(),
  desired: z.number().int(),
  ready: z.number().int(),
  min: z.number().int(),
  max: z.number().int(),
  /** Why scaling is on hold: operator pause, engine gone, metrics missing, ConfigInvalid. */
  holdReason: z.string().nullable(),
  lastMetrics: z.array(metricObservationSchema),
  lastDecision: decisionSchema.nullable(),
  /** Scale to zero (min 0): the service sleeps now (0 replicas, woken by the balancer). */
  sleeping: z.boolean().optional(),
});
export type ServiceStatus = z.infer<typeof serviceStatusSchema>;

/**
 * GET /api/status: the top-level fields are the configured SERVICE's (or the first service's),
 * as before many services; `services` lists every scaled service.
 */
export const autoscalerStatusSchema = z.object({
  service: z.string(),
  runtime: z.string(),
  current: z.number().int(),
  desired: z.number().int(),
  ready: z.number().int(),
  min: z.number().int(),
  max: z.number().int(),
  paused: z.boolean(),
  /** Why scaling is on hold: operator pause, engine gone, metrics missing. */
  holdReason: z.string().nullable(),
  lastMetrics: z.array(metricObservationSchema),
  lastDecision: decisionSchema.nullable(),
  /** The control loop's own timing: when it last ran, how long it took, how late it started. */
  loop: z
    .object({
      intervalMs: z.number(),
      lastTickAt: z.string().nullable(),
      lastTickMs: z.number().nullable(),
      lagMs: z.number().nullable(),
    })
    .optional(),
  dryRun: z.boolean().optional(),
  /** Scale to zero (MIN_REPLICAS=0): the service sleeps now (0 replicas, woken by the balancer). */
  sleeping: z.boolean().optional(),
  /** Every scaled service (absent from an autoscaler older than many services). */
  services: z.array(serviceStatusSchema).optional(),
});
export type AutoscalerStatus = z.infer<typeof autoscalerStatusSchema>;

export const decisionListSchema = z.object({ decisions: z.array(decisionSchema) });

/**
 * POST /api/wake (token-protected like pause): the balancer holds requests for a sleeping
 * service and asks for replicas. Sent again when the held count grows, so a burst during a
 * wake asks for more than one replica. Answers the status after the wake tick ran.
 */
export const wakeBodySchema = z
  .object({
    /** Requests the balancer holds now. */
    held: z.number().int().min(0).max(1_000_000).default(1),
    reason: z.string().max(500).optional(),
    /** The sleeping service to wake (one autoscaler scales many); absent: the autoscaler's SERVICE. */
    service: z.string().min(1).max(200).optional(),
  })
  .strict();
export type WakeBody = z.infer<typeof wakeBodySchema>;
