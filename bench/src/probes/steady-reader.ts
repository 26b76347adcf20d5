// Probe: which steady readers CLIENT_IDLE_TIMEOUT_MS (1000 here) cuts although they read. A
// client reads a large answer at RATE KiB/s (its share every 250 ms) for 6 s; the cut is seen
// from the backend (in this process: its response closes unfinished). On the host, and inside
// `unshare -n sh -c 'ip link set lo up && …'` with LOWAT=131072 (the namespace's
// net.ipv4.tcp_notsent_lowat).
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { healthyBackends, startHeadroom, waitFor } from '../lib/procs.js';

if (process.env.LOWAT) writeFileSync('/proc/sys/net/ipv4/tcp_notsent_lowat', process.env.LOWAT);
let released = 0;
const chunk = Buffer.alloc(1 << 20, 7);
const server = createServer((req, res) => {
  if (req.url === '/health') return res.end('ok');
  res.writeHead(200, { 'content-length': String(256 * chunk.length) });
  let n = 0;
  let done = false;
  res.on('finish', () => {
    done = true;
  });
  res.on('close', () => {
    if (!done) released = performance.now();
  });
  const write = () => {
    while (n < 256 && !res.destroyed) {
      n++;
      if (!res.write(chunk)) return void res.once('drain', write);
    }
    if (!res.destroyed) res.end();
  };
  write();
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const lb = await startHeadroom({
  DISCOVERY: 'static',
  BACKENDS: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  METRICS_SOURCE: 'none',
  CLIENT_IDLE_TIMEOUT_MS: '1000',
});
try {
  await waitFor(async () => (await healthyBackends(lb.admin)) === 1, { timeoutMs: 20_000 });
  for (const rate of (process.env.RATES ?? '32,64,128,256,512,1024').split(',').map(Number)) {
    released = 0;
    const sock = connect(Number(new URL(lb.proxy).port), '127.0.0.1');
    sock.on('error', () => undefined);
    sock.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    let got = 0;
    let budget = 0;
    const t0 = performance.now();
    sock.pause();
    sock.on('data', (d: Buffer) => {
      got += d.length;
      budget -= d.length;
      if (budget <= 0) sock.pause();
    });
    const timer = setInterval(() => {
      budget += (rate * 1024) / 4;
      if (budget > 0) sock.resume();
    }, 250);
    await new Promise((r) => setTimeout(r, 6000));
    clearInterval(timer);
    process.stdout.write(
      `${process.env.LOWAT ?? 'host'} ${rate} KiB/s: ${released ? `cut at ${((released - t0) / 1000).toFixed(1)} s` : 'not cut'}, read ${(got / 1024).toFixed(0)} KiB\n`,
    );
    sock.destroy();
    await new Promise((r) => setTimeout(r, 300));
  }
} finally {
  await lb.stop();
  server.closeAllConnections();
  server.close();
}
