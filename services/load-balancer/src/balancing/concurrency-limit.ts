// Per-backend concurrency limit (issue #26): how many requests the balancer lets a backend
// hold at once; the rest wait in the service's queue (service-queue.ts), where the next free
// backend can take them, instead of inside one backend. Adaptive by default, a gradient
// limit after Netflix concurrency-limits' Gradient2 and Envoy's adaptive concurrency:
//
//   gradient = clamp((RTT_TOLERANCE × no-load latency + RTT_BUFFER_MS + host delay) / recent latency, 0.5, 1)
//   target   = limit × gradient + √limit / 2          (the headroom that lets it probe upward)
//   limit   ← limit + SMOOTHING × (target − limit),   clamped to [LIMIT_MIN, LIMIT_MAX]
//
// - no-load latency: answers to requests dispatched to an idle backend (nothing ahead of
//   them), so the backend's own queue is not in it. A backend that never goes idle keeps its
//   last estimate: pinning the limit to 1 to force an idle answer (Envoy's minRTT window)
//   never lifts where long-lived requests keep it busy (see currentLimit).
// - recent latency: an EWMA of every answer's latency.
// - RTT_BUFFER_MS: a few milliseconds of latency the limit does not read as queueing. Every
//   latency we measure carries the host's own delays (our event loop, the scheduler), which
//   do not shrink when the backend gets fewer requests. Without it a sub-millisecond backend
//   behind a busy balancer read 1 ms answers as 7× its no-load latency, sat at LIMIT_MIN, and the
//   warm path served half the requests per second it served with no limit (bench/src/exp
//   figures in the commit). Envoy added a buffer to minRTT for the same reason (envoy#9038).
// - host delay: how late our own event loop runs right now (telemetry/loop-delay.ts). An answer
//   that is ready waits that long for us to read it, however few requests the backend holds;
//   on a busy host it is tens of milliseconds, far past any fixed buffer.
// - app-limited: a backend that got fewer than half its limit in flight has not shown where
//   its latency turns up; its limit does not grow (Gradient2's rule), or an idle backend's
//   limit would climb to the ceiling and mean nothing when the burst comes.
// - loss: a failed or timed-out answer takes 10 % off (AIMD back-off, research §4.1).
// Fixed point for a backend that serves one request at a time in 10 ms or more: a limit of 2-3 (one in
// service, one or two ready), so it never idles between answers and the rest of the queue stays in
// the balancer. LIMIT_MIN defaults to 2 for the same reason: at 1 a backend idles for every
// hand-off between the proxy and it, which on a loaded host costs more than the answer. A backend that serves requests in
// parallel keeps a flat latency as its limit grows, so the limit grows until it does not.
// `lb.maxconn` pins the limit instead (staticLimit); nothing here runs then.
// Pure: plain data in and out, no clock, no I/O. Mutates the one record it is given (the
// hot path allocates nothing).

export interface LimitSettings {
  /** LIMIT_MIN: the adaptive limit never goes below this (≥ 1: a backend always gets one). */
  min: number;
  /** LIMIT_MAX: nor above this. */
  max: number;
  /**
   * How late the balancer's own event loop runs now (ms), updated by a sampler: latency that
   * is ours, not the backend's queue. Absent: 0.
   */
  hostDelayMs?: number;
}

export interface LimitState {
  /** The adaptive limit, fractional; the whole part is what admits. */
  limit: number;
  /** Latency of answers dispatched to an idle backend (ms); null before the first. */
  noLoadMs: number | null;
  /** EWMA of every answer's latency (ms); null before the first. */
  recentMs: number | null;
  /** Answers since the last no-load one: at PROBE_AFTER the limit is held at 1 to get one. */
  sinceNoLoad: number;
}

/** Below 1.5× the no-load latency the limit grows (Gradient2's rttTolerance). */
export const RTT_TOLERANCE = 1.5;
/**
 * Latency (ms) above the tolerated no-load latency before the limit falls: a backend's own
 * queue of up to about this much is left alone (at 2 s of QUEUE_TIMEOUT_MS it costs nothing).
 */
export const RTT_BUFFER_MS = 5;
/** Fraction of the way to the target per answer (Gradient2's smoothing). */
export const SMOOTHING = 0.2;
/** Weight of one answer in the recent latency. */
export const RECENT_WEIGHT = 0.25;
/** An idle answer faster than the no-load estimate moves it this far. */
export const NO_LOAD_FALL = 0.2;
/** An idle answer slower than the no-load estimate moves it this far: a real slowdown is learned in ~20. */
export const NO_LOAD_RISE = 0.05;
/** Answers without an idle one after which the no-load estimate counts as stale (reported, not acted on). */
export const PROBE_AFTER = 250;
/** A failed answer multiplies the limit by this. */
export const LOSS_BACKOFF = 0.9;
/**
 * Where a new backend's limit starts (Gradient2's initialLimit): enough for a parallel backend's
 * first burst, quickly cut for a serial one. At 8, twelve concurrent 3 s requests to a new
 * backend that serves them in parallel queued four, which then hit QUEUE_TIMEOUT_MS before the
 * first answer could raise the limit (chaos-balancer-stop.test.ts).
 */
export const INITIAL_LIMIT = 20;

export function initialLimit(settings: LimitSettings): LimitState {
  return {
    limit: Math.min(settings.max, Math.max(settings.min, INITIAL_LIMIT)),
    noLoadMs: null,
    recentMs: null,
    sinceNoLoad: 0,
  };
}

/**
 * One answer. `ahead`: requests already in flight at its dispatch (0: the backend was idle);
 * `latencyMs`: dispatch to response headers.
 */
export function observeAnswer(
  st: LimitState,
  latencyMs: number,
  ahead: number,
  failed: boolean,
  settings: LimitSettings,
): void {
  if (failed) {
    st.limit = clamp(st.limit * LOSS_BACKOFF, settings);
    return;
  }
  const x = Math.max(0.01, latencyMs);
  st.recentMs = st.recentMs === null ? x : st.recentMs + RECENT_WEIGHT * (x - st.recentMs);
  if (ahead === 0) {
    // down faster than up (a lower idle answer is the better measurement, one slow answer is
    // not a slowdown), but not to the minimum: one lucky answer would read every other as queueing
    st.noLoadMs =
      st.noLoadMs === null
        ? x
        : st.noLoadMs + (x < st.noLoadMs ? NO_LOAD_FALL : NO_LOAD_RISE) * (x - st.noLoadMs);
    st.sinceNoLoad = 0;
  } else st.sinceNoLoad++;
  if (st.noLoadMs === null) return;
  const tolerated = RTT_TOLERANCE * st.noLoadMs + RTT_BUFFER_MS + (settings.hostDelayMs ?? 0);
  const gradient = Math.min(1, Math.max(0.5, tolerated / st.recentMs));
  const target = st.limit * gradient + Math.sqrt(st.limit) / 2;
  // app-limited: it never had half its limit in flight, so nothing says it can take more
  if (target > st.limit && ahead + 1 < st.limit / 2) return;
  st.limit = clamp(st.limit + SMOOTHING * (target - st.limit), settings);
}

/**
 * Requests the backend may hold now: the static limit when one is set (lb.maxconn), else the
 * adaptive one's whole part. It is never pinned to 1 to wait for an idle answer: a backend
 * that holds long-lived requests (server-sent events, long polls, slow clients) never goes
 * idle, so such a pin never lifted and every other request was queued and shed
 * (slowhttptest.test.ts found it). The no-load estimate is refreshed by idle answers only.
 */
export function currentLimit(st: LimitState, staticLimit: number | undefined): number {
  if (staticLimit !== undefined) return staticLimit;
  return Math.max(1, Math.floor(st.limit));
}

function clamp(limit: number, s: LimitSettings): number {
  return Math.min(s.max, Math.max(s.min, limit));
}

export { parseMaxConn } from '../model/max-conn.js';
