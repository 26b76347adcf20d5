import { FAILURE_LATENCY_MS } from './latency-estimate.js';

// Per-request service time for resource-aware mode: a completed request's latency divided by
// (requests it found in flight at dispatch + ½), or by 1 when it found none. A single-queue
// backend (one event loop, one worker) answers a request that arrives behind n ≥ 1 others
// after the remainder of the one in service (half a service time on average), n − 1 whole
// ones and its own: about (n + ½) service times (see serviceSample). So the quotient
// estimates the backend's own speed without the queue the balancer itself built. That is
// what peak-EWMA × (in-flight + 1) gets wrong: the latency already holds the
// queue, and multiplying by in-flight again counts it twice, so a busy backend looks worse
// than it is and loses traffic it could serve.
//
// Smoothing is asymmetric: a slower sample moves the estimate at least halfway (a backend
// that turns slow is noticed within two or three answers), a faster one by at least a fifth
// (a single fast answer does not erase a slowdown, and a single GC pause does not stick for
// long). Read time decays an estimate without new samples toward what its capacity predicts,
// so a backend that had a few slow answers and then got no traffic is tried again.

/** A sample above the estimate moves it at least this far (of the difference). */
export const SERVICE_UP_WEIGHT = 0.5;
/** Any sample moves the estimate at least this far: fast answers bring an outlier down in ~10. */
export const SERVICE_MIN_WEIGHT = 0.2;

/**
 * One answer's service time. Behind `ahead` requests a FIFO answer takes the one in service's
 * remainder (half a service time on average) plus `ahead − 1` whole ones plus its own: the
 * latency over (ahead + ½), not (ahead + 1), which read a busy backend as faster than it is
 * and sent it more than its share at high load.
 */
export function serviceSample(latencyMs: number, ahead: number, failed: boolean): number {
  const latency = failed ? Math.max(latencyMs, FAILURE_LATENCY_MS) : latencyMs;
  // floored: a zero would make the cost of any queue zero
  return Math.max(0.01, latency) / (ahead >= 1 ? ahead + 0.5 : 1);
}

export function updateServiceTime(
  estimate: number | null,
  sample: number,
  dtMs: number,
  tauMs: number,
): number {
  if (estimate === null) return sample;
  const timeWeight = 1 - Math.exp(-Math.max(0, dtMs) / tauMs);
  const floor = sample > estimate ? SERVICE_UP_WEIGHT : SERVICE_MIN_WEIGHT;
  const w = Math.max(floor, timeWeight);
  return estimate + w * (sample - estimate);
}

/** The estimate as read `ageMs` after its last sample: decays toward `target` with time constant `tauMs`. */
export function readServiceTime(estimate: number, ageMs: number, target: number, tauMs: number): number {
  return target + (estimate - target) * Math.exp(-Math.max(0, ageMs) / tauMs);
}

/**
 * How long a request sent now to a backend with `ahead` requests in flight is expected to take
 * there, from its service-time estimate: the inverse of serviceSample, with the one in service
 * counted whole (it may have just begun), so the answer is late only when the backend slowed
 * since its last answers. The service queue's response budget (service-queue.ts) sets this
 * aside from QUEUE_TIMEOUT_MS.
 */
export function expectedLatencyMs(serviceMs: number, ahead: number): number {
  return serviceMs * (Math.max(0, ahead) + 1);
}
