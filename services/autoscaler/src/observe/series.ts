// What a metric source hands back: one value per series with its labels, or why there is none.
import type { MissingWhy } from '../policy/policy-types.js';

export interface Series {
  labels: Record<string, string>;
  /** May be NaN or ±Inf as Prometheus sent it; readings.ts decides what that means. */
  value: number;
  /** Age of the sample in ms when the source knows it. */
  ageMs?: number | undefined;
}

export type SeriesResult =
  | {
      ok: true;
      series: Series[];
      /** Demand no replica holds yet (requests queued or held at the balancer), spread over the replicas. */
      queued?: number | undefined;
    }
  | { ok: false; why: MissingWhy; detail: string };
