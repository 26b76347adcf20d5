// How late the balancer's own event loop runs: the adaptive concurrency limit reads it as
// latency that is ours, not a backend's queue (balancing/concurrency-limit.ts, hostDelayMs).
// node:perf_hooks samples the loop every RESOLUTION_MS; its histogram includes the resolution
// itself (an idle loop reads ~10 ms at 10), so what is over it is the delay.
import { monitorEventLoopDelay } from 'node:perf_hooks';

const RESOLUTION_MS = 10;

/** Samples once per `everyMs` into `into.hostDelayMs`; returns the stop function. */
export function sampleLoopDelay(into: { hostDelayMs?: number }, everyMs = 1000): () => void {
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  const timer = setInterval(() => {
    into.hostDelayMs = h.count > 0 ? loopDelayMs(h.mean / 1e6) : 0;
    h.reset();
  }, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    h.disable();
  };
}

/** The histogram's mean (ms) less the sampling resolution, never negative. */
export function loopDelayMs(meanMs: number): number {
  return Math.max(0, meanMs - RESOLUTION_MS);
}
