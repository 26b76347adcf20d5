// Real CPU work on the request path, as a CPU-bound service does: the event loop is
// busy for about `ms` of this thread's CPU time. Measured with process.threadCpuUsage when
// available so a throttled container (--cpus 0.5) takes longer in wall time, as it would
// for real work; falls back to wall time.
import { performance } from 'node:perf_hooks';

const threadCpu = (process as { threadCpuUsage?: () => { user: number; system: number } }).threadCpuUsage;

function cpuMicros(): number {
  if (threadCpu) {
    const u = threadCpu();
    return u.user + u.system;
  }
  return performance.now() * 1000;
}

let sink = 0;

/** Burns about `ms` milliseconds of CPU; returns the wall time it took in ms. */
export function spinCpu(ms: number): number {
  const start = performance.now();
  const target = cpuMicros() + ms * 1000;
  let x = sink;
  // check the clock every few thousand iterations: cheap, and precise to well under 1 ms
  while (cpuMicros() < target) {
    for (let i = 0; i < 2000; i++) x = (x * 1103515245 + 12345) % 2147483648;
  }
  sink = x;
  return performance.now() - start;
}
