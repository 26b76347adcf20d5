// Probe (not a scenario): where a normal client's time goes under slowhttptest's slow read.
//   ./dev --filter @headroom/bench exec tsx src/probes/slow-read.ts
// Targets in one run (TARGETS, default headroom,minimal,direct): Headroom, the minimal node:http
// proxy, the backend directly; per window the normal client's p50/p99, the target's and the
// backend's CPU, the connections held, and for Headroom its event-loop delay and garbage
// collections (loop-gc-preload.mjs). At 3 s into each attack one ss look: bytes queued on the
// proxy's client sockets, on its upstream sockets and on the backend's. Env: RUNS (2), PHASES
// (quiet,attack), QUIET_MS (6000), NOCLIENT=1 (the attack alone), PROF=1 (--cpu-prof of the
// balancer into $OUT/prof), LOWATS=unlimited,131072 (sets net.ipv4.tcp_notsent_lowat before each
// condition: run it inside `unshare -n sh -c 'ip link set lo up && …'`), IDLE (CLIENT_IDLE_TIMEOUT_MS).
// Output files under OUT (default /tmp/slow-read-probe).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  normalClient,
  p99,
  proxyConnectionsAsync,
  runSlowhttptest,
  SLOW_ATTACKS,
  startSlowBackend,
} from '@headroom/testkit';
import { startMinimalProxy } from '../competitors/minimal-proxy.js';
import { treeCpuSeconds } from '../lib/cpu.js';
import { healthyBackends, startHeadroom, waitFor } from '../lib/procs.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const attack = SLOW_ATTACKS.find((a) => a.name.startsWith('slow read'))!;
const which = (process.env.TARGETS ?? 'headroom,minimal,direct').split(',');
const runs = Number(process.env.RUNS ?? 2);
const outDir = process.env.OUT ?? '/tmp/slow-read-probe';
mkdirSync(outDir, { recursive: true });
const eldOut = join(outDir, 'eld.txt');
const preload = fileURLToPath(new URL('./loop-gc-preload.mjs', import.meta.url));
writeFileSync(eldOut, '');
writeFileSync(`${eldOut}.gc`, '');

function gcSummary(w0: number, w1: number) {
  const rows = readFileSync(`${eldOut}.gc`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(' '))
    .filter(([at]) => Number(at) >= w0 && Number(at) <= w1);
  const out: Record<string, string> = {};
  for (const k of ['minor', 'major', 'incr', 'weak']) {
    const d = rows.filter((r) => r[1] === k).map((r) => Number(r[2]));
    if (d.length)
      out[k] = `${d.length}x sum ${d.reduce((a, b) => a + b, 0).toFixed(0)} max ${Math.max(...d).toFixed(1)}`;
  }
  return out;
}
const backend = await startSlowBackend();
const lb = await startHeadroom({
  DISCOVERY: 'static',
  BACKENDS: backend.url,
  METRICS_SOURCE: 'none',
  CLIENT_HEADER_TIMEOUT_MS: '2000',
  CLIENT_IDLE_TIMEOUT_MS: process.env.IDLE ?? '2000',
  LIMIT_MIN: '256',
  LIMIT_MAX: '256',
  ELD_OUT: eldOut,
  NODE_OPTIONS: `--max-semi-space-size=8 --max-old-space-size=96 --import ${preload} ${process.env.PROF ? `--cpu-prof --cpu-prof-dir=${join(outDir, 'prof')}` : ''}`,
});
await waitFor(async () => (await healthyBackends(lb.admin)) === 1, { timeoutMs: 20_000 });
const minimal = await startMinimalProxy(backend.url);
const targets: Record<string, { url: string; pid: number }> = {
  headroom: { url: lb.proxy, pid: lb.pid },
  minimal: { url: minimal.url, pid: minimal.pid },
  direct: { url: backend.url, pid: backend.child.pid! },
};
const backendPid = backend.child.pid!;
try {
  for (let i = 0; i < runs; i++)
    for (const name of which)
      for (const low of (process.env.LOWATS ?? '').split(',')) {
        if (low)
          writeFileSync('/proc/sys/net/ipv4/tcp_notsent_lowat', low === 'unlimited' ? '4294967295' : low);
        const t = targets[name]!;
        const client = process.env.NOCLIENT
          ? {
              samples: [] as { ok: boolean; at: number; ms: number }[],
              now: () => performance.now(),
              stop: async () => {},
            }
          : normalClient(`${t.url}/`);
        await sleep(1000);
        const win = async (phase: string) => {
          const seen: number[] = [];
          const port = Number(new URL(t.url).port);
          const sampler = setInterval(() => void proxyConnectionsAsync(port).then((n) => seen.push(n)), 250);
          const cpu0 = treeCpuSeconds(t.pid);
          const bcpu0 = treeCpuSeconds(backendPid);
          const w0 = Date.now();
          const from = client.now();
          let status = '';
          if (phase === 'quiet') await sleep(Number(process.env.QUIET_MS ?? 6000));
          else {
            const snap = setTimeout(() => {
              const ss = (f: string) =>
                execFileSync('ss', ['-Htn', ...f.split(' ')], { encoding: 'utf8' })
                  .trim()
                  .split('\n')
                  .filter(Boolean)
                  .map((l) => l.trim().split(/\s+/));
              const sum = (rows: string[][], col: number) => rows.reduce((a, r) => a + Number(r[col]), 0);
              const port = new URL(t.url).port;
              const bport = new URL(backend.url).port;
              const clientSide = ss(`state established ( sport = :${port} )`);
              const upstreamLocal = ss(`state established ( dport = :${bport} )`);
              const backendSide = ss(`state established ( sport = :${bport} )`);
              process.stdout.write(
                `snapshot 3s: proxy->client sockets ${clientSide.length} sendQ ${sum(clientSide, 1)} ; proxy upstream sockets ${upstreamLocal.length} recvQ ${sum(upstreamLocal, 0)} ; backend sockets sendQ ${sum(backendSide, 1)}\n`,
              );
            }, 3000);
            status = (await runSlowhttptest(attack.args(t.url), 12, 100)).exitStatus;
            clearTimeout(snap);
          }
          const to = client.now();
          const w1 = Date.now();
          clearInterval(sampler);
          const ms = client.samples.filter((s) => s.ok && s.at >= from && s.at < to).map((s) => s.ms);
          const eld = readFileSync(eldOut, 'utf8')
            .trim()
            .split('\n')
            .map((l) => l.split(' ').map(Number))
            .filter(([at]) => at! >= w0 && at! <= w1);
          const sorted = [...ms].sort((a, b) => a - b);
          const r = {
            target: name,
            low,
            phase,
            secs: ((w1 - w0) / 1000).toFixed(1),
            n: ms.length,
            p50: sorted[Math.floor(ms.length / 2)]?.toFixed(1),
            p99: p99(ms).toFixed(1),
            max: sorted.at(-1)?.toFixed(1),
            cpu: ((treeCpuSeconds(t.pid) - cpu0) / ((w1 - w0) / 1000)).toFixed(2),
            backendCpu: ((treeCpuSeconds(backendPid) - bcpu0) / ((w1 - w0) / 1000)).toFixed(2),
            held: Math.max(...seen.filter(Number.isFinite)),
            seen: seen.join(','),
            lbEldMax: name === 'headroom' ? Math.max(...eld.map((e) => e[1]!)) : undefined,
            lbEldP99s: name === 'headroom' ? eld.map((e) => e[2]).join(',') : undefined,
            status,
            gc: name === 'headroom' ? gcSummary(w0, w1) : undefined,
          };
          process.stdout.write(`${JSON.stringify(r)}\n`);
          await sleep(2000);
        };
        for (const ph of (process.env.PHASES ?? 'quiet,attack').split(',')) await win(ph);
        await client.stop();
      }
} finally {
  await lb.stop();
  await minimal.stop();
  await backend.stop();
}
