// Scenario 5a: memory with many clients. One trivial backend; autocannon holds 1,000
// keep-alive connections open, each sending requests back to back, for `seconds`: to the
// backend itself (a bare node:http server: what any Node process pays for this load), and
// through Headroom, HAProxy and NGINX, each started fresh so its kernel high-water mark
// (VmHWM) is the peak of this load alone. Headroom's RSS is also sampled every 250 ms.
import autocannon from 'autocannon';
import { startHaproxy } from '../competitors/haproxy.js';
import { startMinimalProxy } from '../competitors/minimal-proxy.js';
import { startNginx } from '../competitors/nginx.js';
import { healthyBackends, startHeadroom, startTrivialBackend, waitFor } from '../lib/procs.js';
import { peakRssMiB, rssMiB, treePeakRssMiB } from '../lib/rss.js';

export interface FootprintRow {
  target: string;
  idleRssMiB: number;
  peakRssMiB: number;
  rps: number;
  errors: number;
}

export interface FootprintResult {
  connections: number;
  seconds: number;
  rows: FootprintRow[];
  missing: string[];
  /** Headroom: [s since the load started, RSS MiB]. */
  samples: Array<[number, number]>;
  headroomAfterMiB: number;
}

async function hold(url: string, connections: number, seconds: number) {
  const r = await autocannon({ url, connections, duration: seconds, timeout: 10 });
  return { rps: r.requests.average, errors: r.errors + r.non2xx + r.timeouts };
}

export async function footprint(seconds: number, connections = 1000): Promise<FootprintResult> {
  const backend = await startTrivialBackend();
  const rows: FootprintRow[] = [];
  const missing: string[] = [];
  try {
    const backendIdle = rssMiB(backend.pid);
    const direct = await hold(backend.url, connections, seconds);
    rows.push({
      target: 'bare node:http server (the backend)',
      idleRssMiB: backendIdle,
      peakRssMiB: peakRssMiB(backend.pid),
      ...direct,
    });

    const lb = await startHeadroom({
      DISCOVERY: 'static',
      BACKENDS: backend.url,
      METRICS_SOURCE: 'none',
      BALANCER_MODE: 'resource-aware',
    });
    const samples: Array<[number, number]> = [];
    let headroomAfterMiB = Number.NaN;
    try {
      await waitFor(async () => (await healthyBackends(lb.admin)) === 1, { timeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 1000));
      const idle = rssMiB(lb.pid);
      const start = performance.now();
      const timer = setInterval(
        () => samples.push([(performance.now() - start) / 1000, rssMiB(lb.pid)]),
        250,
      );
      const through = await hold(lb.proxy, connections, seconds);
      clearInterval(timer);
      rows.push({ target: 'headroom', idleRssMiB: idle, peakRssMiB: peakRssMiB(lb.pid), ...through });
      await new Promise((r) => setTimeout(r, 2000));
      headroomAfterMiB = rssMiB(lb.pid);
    } finally {
      await lb.stop();
    }

    for (const [name, start] of [
      ['minimal node proxy (node:http + undici Pool)', () => startMinimalProxy(backend.url)],
      ['haproxy (1 thread)', () => startHaproxy([backend.url], 'roundrobin')],
      ['nginx (1 worker)', () => startNginx([backend.url], 'round_robin')],
    ] as const) {
      const c = await start();
      if (!c) {
        missing.push(name);
        continue;
      }
      try {
        await new Promise((r) => setTimeout(r, 1000));
        const idle = treePeakRssMiB(c.pid);
        const through = await hold(c.url, connections, seconds);
        rows.push({ target: name, idleRssMiB: idle, peakRssMiB: treePeakRssMiB(c.pid), ...through });
      } finally {
        await c.stop();
      }
    }
    return { connections, seconds, rows, missing, samples, headroomAfterMiB };
  } finally {
    backend.stop();
  }
}
