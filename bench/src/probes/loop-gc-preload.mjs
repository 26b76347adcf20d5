// Preloaded into the balancer by slow-read.ts (node --import): every 250 ms the event loop's
// delay (max, p99, mean, ms) appended to ELD_OUT, and every garbage collection (kind, ms) to
// ELD_OUT.gc. A probe's instrument, not part of any measured benchmark.

import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const h = monitorEventLoopDelay({ resolution: 5 });
h.enable();
const out = process.env.ELD_OUT;
setInterval(() => {
  appendFileSync(
    out,
    `${Date.now()} ${(h.max / 1e6).toFixed(1)} ${(h.percentile(99) / 1e6).toFixed(1)} ${(h.mean / 1e6).toFixed(1)}\n`,
  );
  h.reset();
}, 250).unref();

import { constants, PerformanceObserver } from 'node:perf_hooks';

const kinds = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incr',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak',
};
new PerformanceObserver((list) => {
  for (const e of list.getEntries())
    appendFileSync(
      process.env.ELD_OUT + '.gc',
      `${Math.round(performance.timeOrigin + e.startTime)} ${kinds[e.detail.kind]} ${e.duration.toFixed(2)}\n`,
    );
}).observe({ entryTypes: ['gc'] });
