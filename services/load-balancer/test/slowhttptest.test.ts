// Debian's slowhttptest against the real balancer (issue #27): slow headers (slowloris), slow
// body (R-U-Dead-Yet) and slow read. With short client timeouts, every attack connection is
// cut by the proxy within the timeout plus a margin, and a normal client on its own connection
// keeps being served throughout (every request answered 200). Its p99 during the attack and
// without it (the worse of the windows before and after) is printed, not bounded: on the shared
// 2-core machine this was written on (load average ~20) the baseline p99 of a trivial request
// alone ranged 16-108 ms between runs and the ratio 0.6-3.2×, so no 2× bound held without
// flaking. That figure belongs in a benchmark on a quiet machine (not done yet).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort, type ServiceProcess, startProcess, waitFor } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLb, startLb, waitHealthy } from './lb-fixtures.js';

const HEADER_TIMEOUT_MS = 2_000;
const IDLE_TIMEOUT_MS = 2_000;
// under MAX_CONNECTIONS_PER_BACKEND (128): past it, slow clients hold every upstream connection of
// the backend until they are cut, and normal requests queue behind them (docs/operations.md)
const CONNECTIONS = 100;
// long enough for the connections to open (a few seconds, slowhttptest runs at the lowest
// priority), be cut (each its timeout after it stalls) and be seen gone while it still runs
const ATTACK_SECONDS = 16;

function requireSlowhttptest(): void {
  if (spawnSync('slowhttptest', ['-h'], { stdio: 'ignore' }).error) {
    throw new Error(
      'slowhttptest is not installed: run `bash scripts/provision.sh` (Debian package slowhttptest)',
    );
  }
}

interface Tick {
  seconds: number;
  closed: number;
  connected: number;
}

interface AttackResult {
  ticks: Tick[];
  /** slowhttptest's own verdict line ("No open connections left", "Hit test time limit"…). */
  exitStatus: string;
}

/** One attack run to its end; slowhttptest's per-second statistics (its CSV). */
function attack(args: string[], seconds: number): Promise<AttackResult> {
  const dir = mkdtempSync(join(tmpdir(), 'hr-slow-'));
  const prefix = join(dir, 'stats');
  const all = ['-c', String(CONNECTIONS), '-r', '50', '-i', '5', '-l', String(seconds), '-p', '3'];
  return new Promise((resolve, reject) => {
    // at the lowest priority: the attacker stands for remote clients, its own CPU is not the
    // proxy's to pay for on this shared machine
    const child = spawn('nice', ['-n', '19', 'slowhttptest', ...all, ...args, '-g', '-o', prefix], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('error', reject);
    child.once('exit', () => {
      try {
        const rows = readFileSync(`${prefix}.csv`, 'utf8').trim().split('\n').slice(1);
        const ticks = rows.map((r) => {
          const [seconds = 0, closed = 0, , connected = 0] = r.split(',').map(Number);
          return { seconds, closed, connected };
        });
        // biome-ignore lint/suspicious/noControlCharactersInRegex: its terminal colours
        const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
        resolve({ ticks, exitStatus: /exit status:\s*(.*)/i.exec(plain)?.[1]?.trim() ?? plain.slice(-300) });
      } catch (err) {
        reject(err);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

/** A normal client: two keep-alive loops of GET /, latencies in ms, until stop(). */
function normalClient(url: string) {
  const samples: Array<{ at: number; ms: number; ok: boolean; why?: string }> = [];
  let running = true;
  const loop = async () => {
    while (running) {
      const t = performance.now();
      let ok = false;
      let why: string | undefined;
      try {
        const res = await fetch(url);
        const body = await res.text();
        ok = res.status === 200;
        if (!ok) why = `${res.status} ${body.slice(0, 160)}`;
      } catch (err) {
        why = String((err as Error).cause ?? err);
      }
      samples.push({ at: t, ms: performance.now() - t, ok, ...(why === undefined ? {} : { why }) });
    }
  };
  const loops = [loop(), loop()];
  return {
    samples,
    now: () => performance.now(),
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Established connections on the proxy's side of `port` (ss, iproute2): the truth of what it keeps open. */
function proxyConnections(port: number): number {
  const out = spawnSync('ss', ['-Htn', 'state', 'established', `( sport = :${port} )`], {
    encoding: 'utf8',
  }).stdout;
  return out.split('\n').filter(Boolean).length;
}

function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] ?? Number.NaN;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let backend: ServiceProcess;
let lb: RunningLb;

beforeAll(async () => {
  requireSlowhttptest();
  const port = await freePort();
  backend = startProcess({
    command: process.execPath,
    args: [new URL('./slow-backend.mjs', import.meta.url).pathname],
    env: { PORT: String(port) },
  });
  const backendUrl = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${backendUrl}/health`)).ok, { message: 'slow-backend up' });
  lb = await startLb({
    BACKENDS: backendUrl,
    METRICS_SOURCE: 'none',
    CLIENT_HEADER_TIMEOUT_MS: String(HEADER_TIMEOUT_MS),
    CLIENT_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
    // A slow client holds its request's place under the backend's concurrency limit until the
    // timeouts above cut it: with the adaptive limit (20 to start) the 100 attack requests would
    // fill it and the normal client's requests would wait in the service queue and be shed
    // (docs/operations.md says so). This test is about the client timeouts: the limit is set
    // above the attack.
    LIMIT_MIN: '256',
    LIMIT_MAX: '256',
  });
  await waitHealthy(lb.admin, 1);
});

afterAll(async () => {
  await lb?.stop();
  await backend?.stop();
});

const ATTACKS = [
  { name: 'slow headers (-H)', args: () => ['-H', '-u', `${lb.proxy}/`] },
  {
    name: 'slow body (-B)',
    // the echo answers once the whole body has arrived
    args: () => ['-B', '-t', 'POST', '-s', '8192', '-u', `${lb.proxy}/echo`],
  },
  {
    name: 'slow read (-X)',
    // every slow reader makes the proxy pull 4 MiB from the backend: held until it is cut
    // a 4 MiB answer, read 8 bytes at a time through a tiny window
    args: () => ['-X', '-n', '2', '-w', '10', '-y', '20', '-z', '8', '-u', `${lb.proxy}/big?mb=4`],
  },
];

describe('slowhttptest against the proxy', () => {
  for (const a of ATTACKS) {
    it(`${a.name}: attack connections cut by the proxy's timeout; a normal client served throughout`, async () => {
      const client = normalClient(`${lb.proxy}/`);
      await sleep(3_000);
      const attackFrom = client.now();
      const port = Number(new URL(lb.proxy).port);
      // what the proxy holds open, every 250 ms (ss: slowhttptest's own count is not used, in
      // slow-read mode it still counts connections the proxy has reset)
      const held: number[] = [];
      const sampler = setInterval(() => held.push(proxyConnections(port)), 250);
      const { ticks, exitStatus } = await attack(a.args(), ATTACK_SECONDS);
      clearInterval(sampler);
      const attackTo = client.now();
      // slowhttptest ends early once the proxy has cut every connection: one more look then (a
      // look after it ran out its time would only see its own sockets closed on exit)
      if (/no open connections left/i.test(exitStatus)) {
        await sleep(500);
        held.push(proxyConnections(port));
      }
      await sleep(3_000);
      await client.stop();

      // the attack opened its connections, and while it still ran the proxy was back to the
      // normal client's two (plus one or two closing): every attack connection had been cut
      const seen = `${JSON.stringify(ticks)} ${exitStatus} held ${JSON.stringify(held)}`;
      const peak = Math.max(...held);
      const afterPeak = Math.min(...held.slice(held.indexOf(peak)));
      expect(peak, seen).toBeGreaterThanOrEqual(CONNECTIONS * 0.5);
      expect(afterPeak, seen).toBeLessThanOrEqual(4);

      const during = client.samples.filter((s) => s.at >= attackFrom && s.at < attackTo);
      const before = client.samples.filter((s) => s.at < attackFrom);
      const after = client.samples.filter((s) => s.at >= attackTo);
      const outside = [...before, ...after];
      expect(client.samples.filter((s) => !s.ok).map((s) => s.why)).toEqual([]);
      expect(during.length).toBeGreaterThan(500);
      expect(outside.length).toBeGreaterThan(500);
      // the baseline: the worse of the windows before and after the attack (the machine's other
      // work drifts over a test's seconds)
      const pIn = p99(during.map((s) => s.ms));
      const pOut = Math.max(p99(before.map((s) => s.ms)), p99(after.map((s) => s.ms)));
      process.stdout.write(
        `slowhttptest ${a.name}: normal client p99 ${pIn.toFixed(2)} ms during (${during.length}), ${pOut.toFixed(2)} ms without (${outside.length}); peak ${peak} connections held, ${afterPeak} after they were cut\n`,
      );
    }, 60_000);
  }
});
