// The arithmetic of the overload level (issue #26) and of every verdict that compares medians
// of several runs: pure, no I/O (overload.test.ts).
import { quantile } from './load.js';

/** A figure over several runs: the median and the spread (min–max) beside it. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Each run's value, in run order. */
  runs: number[];
}

export function spreadOf(values: number[]): Spread {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, runs: values };
  return {
    median: quantile(finite, 0.5),
    min: Math.min(...finite),
    max: Math.max(...finite),
    runs: values,
  };
}

/** max − min of the runs (0 for one run). */
export function width(s: Spread): number {
  return Number.isFinite(s.max) ? s.max - s.min : Number.NaN;
}

export type Verdict = 'met' | 'missed' | 'within noise' | 'n/a';

/**
 * Whether `a` ≤ factor × `b` (or ≥, with `direction: 'atLeast'`) counts: only where the runs
 * say so beyond their spread, i.e. the two min–max ranges (b's scaled by the factor) do not
 * overlap, which also puts the medians further apart than the spread; otherwise "within
 * noise", whichever way the medians lean: another run could swap them. With five runs each,
 * ranges that do not overlap by chance have odds of 2 in 252.
 */
export function compare(
  a: Spread,
  b: Spread,
  opts: { factor?: number; direction?: 'atMost' | 'atLeast' } = {},
): Verdict {
  if (!Number.isFinite(a.median) || !Number.isFinite(b.median)) return 'n/a';
  const f = opts.factor ?? 1;
  const [lo, hi] = [f * b.min, f * b.max];
  const below = a.max < lo;
  const above = a.min > hi;
  if (!below && !above) return 'within noise';
  return (opts.direction === 'atLeast' ? above : below) ? 'met' : 'missed';
}

/**
 * A figure against a fixed limit (goodput ≥ 0.95, p99 ≤ QUEUE_TIMEOUT_MS, ≤ 5 ms): the same
 * rule, the limit being a figure without spread: met or missed where every run is on one side,
 * within noise where the runs straddle it.
 */
export function against(s: Spread, limit: number, direction: 'atMost' | 'atLeast'): Verdict {
  if (!Number.isFinite(s.median)) return 'n/a';
  const ok = (v: number) => (direction === 'atMost' ? v <= limit : v >= limit);
  if (ok(s.min) && ok(s.max)) return 'met';
  if (!ok(s.min) && !ok(s.max)) return 'missed';
  return 'within noise';
}

/**
 * Goodput of one run: 2xx answers completed within the measured sending window, per second,
 * over the capacity: what the backends delivered through the proxy. Answers after the window
 * are left out: they drained a queue filled during it, and a queue of 2 s would otherwise add
 * 2 s of answers to a few seconds' window; answers before it (times < 0: a fill phase) too,
 * and from `fromMs` on only: answers that a fill phase's load delayed arrive at its start.
 */
export function goodput(okDoneAtMs: number[], windowMs: number, capacityRps: number, fromMs = 0): number {
  const inWindow = okDoneAtMs.filter((t) => t >= fromMs && t <= windowMs).length;
  return inWindow / ((windowMs - fromMs) / 1000) / capacityRps;
}

/** A non-2xx answer: its status, Headroom's shed cause (x-headroom-shed) if any, ms after it was sent. */
export interface Reject {
  status: number;
  cause: string | undefined;
  ms: number;
}

export interface RejectSummary {
  count: number;
  /** Rejected on arrival (a full queue, a predicted wait, NGINX's max_conns): time from send to the answer. */
  atOnce: number[];
  /** Rejected at the queue's deadline: time past QUEUE_TIMEOUT_MS at which the answer came. */
  lateAfterDeadline: number[];
  /** e.g. "503 predicted-wait": count. */
  byKind: Record<string, number>;
}

/**
 * Sorts one run's rejections into those answered at once and those answered at the queue's
 * deadline: by Headroom's x-headroom-shed cause where there is one (timeout = the deadline);
 * HAProxy and NGINX say no cause, so by time: at or past half the deadline counts as a deadline
 * answer (HAProxy's `timeout queue` 503), sooner as one at once (NGINX's 502 at max_conns).
 */
export function classifyRejects(rejects: Reject[], queueTimeoutMs: number): RejectSummary {
  const out: RejectSummary = { count: rejects.length, atOnce: [], lateAfterDeadline: [], byKind: {} };
  for (const r of rejects) {
    const kind = r.cause ? `${r.status} ${r.cause}` : String(r.status);
    out.byKind[kind] = (out.byKind[kind] ?? 0) + 1;
    const deadline = r.cause ? r.cause === 'timeout' : r.ms >= queueTimeoutMs / 2;
    if (deadline) out.lateAfterDeadline.push(r.ms - queueTimeoutMs);
    else out.atOnce.push(r.ms);
  }
  return out;
}
