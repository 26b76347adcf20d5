// Debian's slowhttptest against a proxy, and the normal client measured beside it: one home for
// the slow-client test (services/load-balancer/test/slowhttptest.test.ts: attack connections
// cut, the normal client all answered) and the slow-clients bench (its p99 with and without the
// attack): the same balancer set-up, the same attacks, the same look at what the proxy holds.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort } from '../free-port.js';
import { type ServiceProcess, startProcess } from '../stack/process.js';
import { waitFor } from '../wait-for.js';

export function requireSlowhttptest(): void {
  if (spawnSync('slowhttptest', ['-h'], { stdio: 'ignore' }).error) {
    throw new Error(
      'slowhttptest is not installed: run `bash scripts/provision.sh` (Debian package slowhttptest)',
    );
  }
}

/** The set-up the test and the bench share: the proxy's client timeouts and the attack's size. */
export const SLOW_CLIENTS = {
  headerTimeoutMs: 2_000,
  idleTimeoutMs: 2_000,
  // under MAX_CONNECTIONS_PER_BACKEND (128): past it, slow clients hold every upstream connection
  // of the backend until they are cut, and normal requests queue behind them (docs/operations.md)
  connections: 100,
} as const;

/** The balancer's variables for that set-up, in front of `backendUrl` (startSlowBackend). */
export function slowClientsBalancerEnv(backendUrl: string): Record<string, string> {
  return {
    DISCOVERY: 'static',
    BACKENDS: backendUrl,
    METRICS_SOURCE: 'none',
    CLIENT_HEADER_TIMEOUT_MS: String(SLOW_CLIENTS.headerTimeoutMs),
    CLIENT_IDLE_TIMEOUT_MS: String(SLOW_CLIENTS.idleTimeoutMs),
    // A slow client holds its request's place under the backend's concurrency limit until the
    // timeouts above cut it: with the adaptive limit (20 to start) the 100 attack requests would
    // fill it and the normal client's requests would wait in the service queue and be shed
    // (docs/operations.md says so). What is tested and measured is the client timeouts: the
    // limit is set above the attack.
    LIMIT_MIN: '256',
    LIMIT_MAX: '256',
  };
}

export interface SlowAttack {
  name: string;
  /** slowhttptest's mode arguments against the proxy at `proxy` (http://host:port). */
  args(proxy: string): string[];
}

/** The three attacks, each against what makes it hold the proxy longest (slow-backend.ts). */
export const SLOW_ATTACKS: readonly SlowAttack[] = [
  { name: 'slow headers (-H)', args: (proxy) => ['-H', '-u', `${proxy}/`] },
  {
    name: 'slow body (-B)',
    // the echo answers once the whole body has arrived
    args: (proxy) => ['-B', '-t', 'POST', '-s', '8192', '-u', `${proxy}/echo`],
  },
  {
    name: 'slow read (-X)',
    // a 4 MiB answer, read 8 bytes at a time through a tiny window: each slow reader holds a
    // backend stream until it is cut, and makes the proxy read and write what the kernel takes
    // into its socket (over loopback about 1.5 MiB; the rest waits in the backend: slow-reader.test.ts)
    args: (proxy) => ['-X', '-n', '2', '-w', '10', '-y', '20', '-z', '8', '-u', `${proxy}/big?mb=4`],
  },
];

export interface AttackTick {
  seconds: number;
  closed: number;
  connected: number;
}

export interface AttackResult {
  ticks: AttackTick[];
  /** slowhttptest's own verdict line ("No open connections left", "Hit test time limit"…). */
  exitStatus: string;
}

/**
 * One attack run to its end: `connections` connections opened at 50 a second, for at most
 * `seconds`; slowhttptest's per-second statistics (its CSV).
 */
export function runSlowhttptest(args: string[], seconds: number, connections: number): Promise<AttackResult> {
  const dir = mkdtempSync(join(tmpdir(), 'hr-slow-'));
  const prefix = join(dir, 'stats');
  const all = ['-c', String(connections), '-r', '50', '-i', '5', '-l', String(seconds), '-p', '3'];
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

export interface NormalSample {
  /** performance.now() when the request was sent. */
  at: number;
  ms: number;
  ok: boolean;
  why?: string;
}

export interface NormalClient {
  samples: NormalSample[];
  now(): number;
  stop(): Promise<void>;
}

/** A normal client: two keep-alive loops of GET `url`, latencies in ms, until stop(). */
export function normalClient(url: string): NormalClient {
  const samples: NormalSample[] = [];
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

/**
 * Established connections on the proxy's side of `port` (ss, iproute2): what it keeps open.
 * Asynchronous: a spawnSync would stall a normal client measured in the same process for as
 * long as ss runs. NaN when ss fails.
 */
export function proxyConnectionsAsync(port: number): Promise<number> {
  return new Promise((resolve) => {
    execFile('ss', ['-Htn', 'state', 'established', `( sport = :${port} )`], (err, stdout) => {
      resolve(err ? Number.NaN : stdout.split('\n').filter(Boolean).length);
    });
  });
}

/** What the proxy on `port` holds open, every 250 ms until stop() (which waits for the last look). */
export function sampleProxyConnections(port: number): { stop(): Promise<number[]> } {
  const held: number[] = [];
  const looks: Array<Promise<void>> = [];
  const timer = setInterval(() => {
    looks.push(proxyConnectionsAsync(port).then((n) => void (Number.isFinite(n) && held.push(n))));
  }, 250);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(looks);
      return held;
    },
  };
}

/** One attack on `proxy` with SLOW_CLIENTS.connections, and what the proxy held while it ran. */
export async function runAttack(
  proxy: string,
  attack: SlowAttack,
  seconds: number,
): Promise<AttackResult & { held: number[] }> {
  const sampler = sampleProxyConnections(Number(new URL(proxy).port));
  const result = await runSlowhttptest(attack.args(proxy), seconds, SLOW_CLIENTS.connections);
  return { ...result, held: await sampler.stop() };
}

export function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] ?? Number.NaN;
}

/** slow-backend.ts in a process of its own, on a free loopback port, up. */
export async function startSlowBackend(): Promise<ServiceProcess & { url: string }> {
  const port = await freePort();
  const proc = startProcess({
    command: process.execPath,
    args: [new URL('./slow-backend.ts', import.meta.url).pathname],
    env: { PORT: String(port) },
    name: 'slow-backend',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/health`)).ok, { message: 'slow-backend up' });
  return Object.assign(proc, { url });
}
