// The V8 heap settings the load balancer runs with, in one place: the image sets them as its
// NODE_OPTIONS (a test keeps deploy/Dockerfile equal to this), and the embedded stack and the
// test kit pass them when they start the balancer. NODE_OPTIONS given by the user replaces them.
//
// Why: a proxy makes short-lived garbage at the rate of its requests. With V8's defaults sized
// for a 24 GiB host, the young generation grows to 16 MiB semi-spaces and the old generation
// lets that garbage float: 1,000 keep-alive connections peaked at ~250 MiB resident while the
// live heap after a collection was ~40 MiB. Measured side by side at that load (two alternating
// probes each): 16 MiB semi-spaces and no cap peaked at 204 MiB, 9.4k req/s; 8 MiB + a 96 MiB
// old-generation cap 156-157 MiB, 8.1-8.5k req/s; 4 MiB + 96 MiB 144-146 MiB, 7.7-8.3k req/s.
// 8 + 96 keeps the peak within 1.4x a bare node:http server's (~120 MiB) for less throughput
// than 4 (docs/benchmarks.md, "Footprint"). 96 MiB also holds 10,000 keep-alive connections over
// 50 services (old space peak 62 MiB, 0 failed: `pnpm bench heap-cap`, docs/deploy.md); many more
// requests in flight at once may need a larger --max-old-space-size: set NODE_OPTIONS.
export const BALANCER_NODE_OPTIONS = '--max-semi-space-size=8 --max-old-space-size=96';
