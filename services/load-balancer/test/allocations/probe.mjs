// Bytes the balancer allocates per proxied request, measured inside its own process: the
// built balancer (dist/main.js) is imported here with a static backend, warmed up, then a
// separate process sends a fixed number of keep-alive requests through it while V8's GC
// profiler accounts for every collection: allocated = heap growth + what each GC freed.
// The same is measured over an idle window of the same length (timers, health checks) and
// subtracted. Prints one JSON line.
//   env: LB_MAIN (path of dist/main.js), REQUESTS, CONCURRENCY
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import v8 from 'node:v8';

const requests = Number(process.env.REQUESTS ?? '4000');
const concurrency = Number(process.env.CONCURRENCY ?? '8');

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function get(url) {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    })
      .on('error', reject)
      .end();
  });
}

// the client, in its own process so that its allocations are not counted
const CLIENT = `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: ${concurrency} });
let sent = 0, done = 0, failed = 0;
const [url, n] = [process.argv[1], Number(process.argv[2])];
function one() {
  if (sent >= n) return;
  sent++;
  http.get(url, { agent }, (res) => { res.resume(); res.on('end', () => { if (res.statusCode !== 200) failed++; if (++done === n) { console.log(JSON.stringify({ failed })); process.exit(0); } one(); }); })
    .on('error', () => { failed++; if (++done === n) { console.log(JSON.stringify({ failed })); process.exit(0); } one(); });
}
for (let i = 0; i < ${concurrency}; i++) one();
`;

function load(url, n) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CLIENT, url, String(n)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`client exited ${code}`)),
    );
  });
}

/** Bytes allocated while `fn` runs: heap growth plus everything the collections in between freed. */
async function allocatedDuring(fn) {
  globalThis.gc();
  const profiler = new v8.GCProfiler();
  profiler.start();
  const before = v8.getHeapStatistics().used_heap_size;
  const result = await fn();
  const after = v8.getHeapStatistics().used_heap_size;
  const { statistics } = profiler.stop();
  let freed = 0;
  for (const s of statistics)
    freed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize;
  return { bytes: after - before + freed, gcs: statistics.length, result };
}

const backendPort = await freePort();
const backend = spawn(
  process.execPath,
  [
    '-e',
    `require('node:http').createServer((q, s) => { s.setHeader('content-type', 'text/plain'); s.end('ok'); }).listen(${backendPort}, '127.0.0.1')`,
  ],
  { stdio: 'ignore' },
);
const [port, adminPort] = [await freePort(), await freePort()];
Object.assign(process.env, {
  HOST: '127.0.0.1',
  PORT: String(port),
  ADMIN_PORT: String(adminPort),
  DISCOVERY: 'static',
  BACKENDS: `http://127.0.0.1:${backendPort}`,
  METRICS_SOURCE: 'none',
  BALANCER_MODE: 'resource-aware',
  LOG_LEVEL: 'silent',
  SLOW_START_MS: '0',
});
try {
  await import(process.env.LB_MAIN);
  const proxy = `http://127.0.0.1:${port}/x`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await get(proxy)).status === 200) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  await load(proxy, requests); // warm-up: JIT, pools, histograms
  const started = performance.now();
  const busy = await allocatedDuring(() => load(proxy, requests));
  const ms = performance.now() - started;
  const idle = await allocatedDuring(() => new Promise((r) => setTimeout(r, ms)));
  const bytesPerRequest = Math.max(0, busy.bytes - idle.bytes) / requests;
  process.stdout.write(
    `${JSON.stringify({
      bytesPerRequest,
      requests,
      failed: busy.result.failed,
      loadBytes: busy.bytes,
      idleBytes: idle.bytes,
      gcs: busy.gcs,
      ms,
    })}\n`,
  );
} finally {
  backend.kill('SIGKILL');
  process.exit(0);
}
