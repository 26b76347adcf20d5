// Preloaded into the balancer by shed-latency.ts (GC_WATCH=1, through NODE_OPTIONS --require):
// every 6 s, its garbage collections (count, how many took ≥ 5 ms, the longest) and its own
// event loop's delay (p99, max), on stdout as GCWATCH lines. A probe, not a product part.
const { PerformanceObserver, monitorEventLoopDelay } = require('node:perf_hooks');
const h = monitorEventLoopDelay({ resolution: 1 });
h.enable();
let n = 0,
  big = 0,
  max = 0,
  total = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    n++;
    total += e.duration;
    if (e.duration >= 5) big++;
    if (e.duration > max) max = e.duration;
  }
}).observe({ entryTypes: ['gc'] });
setInterval(() => {
  process.stdout.write(
    `GCWATCH gc ${n} (≥5 ms: ${big}, max ${max.toFixed(1)} ms, total ${total.toFixed(0)} ms) loop p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms max ${(h.max / 1e6).toFixed(1)} ms\n`,
  );
  n = big = max = total = 0;
  h.reset();
}, 6000).unref();
