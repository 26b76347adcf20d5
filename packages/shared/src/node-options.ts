// The V8 heap settings the load balancer runs with, in one place: the image sets them as its
// NODE_OPTIONS (a test keeps deploy/Dockerfile equal to this), and the embedded stack and the
// test kit pass them when they start the balancer. NODE_OPTIONS given by the user replaces them.
//
// Why: a proxy makes short-lived garbage at the rate of its requests. With V8's defaults sized
// for a 24 GiB host, the young generation grows to 16 MiB semi-spaces and the old generation
// lets that garbage float: 1,000 keep-alive connections peaked at ~250 MiB resident while the
// live heap after a collection was ~40 MiB. With 4 MiB semi-spaces and a 96 MiB old-generation
// cap the same load peaked at ~150 MiB, throughput within the run-to-run noise
// (docs/benchmarks.md, "Footprint"). A balancer holding far more connections than that may need
// a larger --max-old-space-size: set NODE_OPTIONS.
export const BALANCER_NODE_OPTIONS = '--max-semi-space-size=4 --max-old-space-size=96';
