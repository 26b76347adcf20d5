// A backend for the signal scenarios: one FIFO server with a fixed service time per request,
// so its latency is exactly (requests ahead + 1) × service time, independent of how busy this
// 2-core machine is with the balancer and the load generator. The service is a timer, not a
// spin (three spinning backends at 80 % would need more cores than the machine has); its busy
// time is reported as process CPU in /metrics when CPU_VISIBLE=1 (a CPU-bound backend), not at
// all when 0 (a backend waiting on I/O). BURN_DUTY > 0 runs a real burner thread (busy that
// fraction of every 100 ms, at the lowest priority), so the process CPU the balancer reads is
// really hot while the machine has CPU to spare for the answers.
//   env: PORT, NAME, SERVICE_MS, CPU_VISIBLE (1|0), BURN_DUTY (0..1)
//   POST /service?ms=N changes the service time (a backend that turns slow).
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

const name = process.env.NAME ?? `queue-${process.pid}`;
let serviceMs = Number(process.env.SERVICE_MS ?? '4');
const cpuVisible = process.env.CPU_VISIBLE !== '0';
const burnDuty = Number(process.env.BURN_DUTY ?? '0');
let freeAt = 0;
let busyMs = 0;

if (burnDuty > 0) {
  // nice 19 on the burner thread alone (Linux: setpriority on a thread id): it takes what the
  // machine leaves idle, like a batch job on a host with spare cores, so the answers of this
  // backend stay fast while its process CPU reads hot
  const code = `const { readlinkSync } = require('node:fs');
    const { setPriority } = require('node:os');
    try { setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), 19); } catch {}
    const duty = ${burnDuty};
    for (;;) { const start = Date.now(); while (Date.now() - start < 100 * duty) {}
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(1, 100 * (1 - duty))); }`;
  new Worker(code, { eval: true }).unref();
}

function metrics() {
  const u = process.cpuUsage();
  const cpu = (u.user + u.system) / 1e6 + (cpuVisible ? busyMs / 1000 : 0);
  const elu = performance.eventLoopUtilization();
  return [
    `process_cpu_seconds_total ${cpu}`,
    `process_resident_memory_bytes ${process.memoryUsage.rss()}`,
    `headroom_backend_event_loop_active_seconds_total ${elu.active / 1000}`,
    // uncontained, one FIFO server: one core is what its work can use
    'headroom_backend_cpu_limit_cores 1',
    `headroom_backend_memory_limit_bytes ${512 * 1024 * 1024}`,
    '',
  ].join('\n');
}

createServer((req, res) => {
  const url = req.url ?? '/';
  if (url.startsWith('/metrics')) {
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(metrics());
    return;
  }
  if (url.startsWith('/health')) {
    res.end('ok');
    return;
  }
  if (req.method === 'POST' && url.startsWith('/service')) {
    serviceMs = Number(new URL(url, 'http://x').searchParams.get('ms') ?? serviceMs);
    res.end(JSON.stringify({ serviceMs }));
    return;
  }
  const now = performance.now();
  const start = Math.max(now, freeAt);
  freeAt = start + serviceMs;
  busyMs += serviceMs;
  setTimeout(() => {
    res.setHeader('x-backend-instance', name);
    res.end('ok');
  }, freeAt - now);
}).listen(Number(process.env.PORT ?? '3000'), '127.0.0.1');
