// `pnpm bench slow-clients` (issue #27): Debian's slowhttptest against the balancer (slow
// headers, slow body, slow read; 100 connections each), and a normal client beside it: is its
// p99 under attack within 2x of the same client without the attack? The test
// (services/load-balancer/test/slowhttptest.test.ts) checks what holds with margin on a loaded
// CI machine: attack connections cut, every normal request answered. This measures the ratio:
// the same balancer set-up as the test, the same attacks (testkit slow-clients/), windows with
// and without the attack taking turns (which goes first alternates run by run), median of the
// per-pair ratios with their spread.
//
// Slow read is run twice: with the kernel's defaults, and with net.ipv4.tcp_notsent_lowat at
// what deploy/docker-compose.yml sets for the balancer's container. A slow reader costs the
// proxy what the kernel accepts into that reader's socket before a write blocks: the proxy
// reads that much from the backend and pushes it through its event loop and heap. Over
// loopback (MTU 64 KiB) Linux sizes a new connection's send buffer at a few MiB, so each
// reader makes the proxy move ~1.5 MiB (over an MTU of 1500, some 30 KiB); the setting caps
// the unsent part. It is a per-network-namespace sysctl: the scenario runs in a namespace of
// its own (unshare -n, loopback only, as root), which also keeps other work's traffic out of it.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  normalClient,
  p99,
  requireSlowhttptest,
  runAttack,
  SLOW_ATTACKS,
  SLOW_CLIENTS,
  sampleProxyConnections,
  slowClientsBalancerEnv,
  startSlowBackend,
} from '@headroom/testkit';
import { treeCpuSeconds } from '../lib/cpu.js';
import { median } from '../lib/load.js';
import { healthyBackends, startHeadroom, waitFor } from '../lib/procs.js';

/** slowhttptest's own time limit; it ends earlier once the proxy has cut every connection. */
const ATTACK_SECONDS = 12;
/** The window without an attack. */
const QUIET_SECONDS = 6;
/** Between windows: the cut connections close, the proxy settles. */
const GAP_MS = 2_000;
/** net.ipv4.tcp_notsent_lowat for the second slow-read row: deploy/docker-compose.yml's value. */
export const NOTSENT_LOWAT = 131_072;
const LOWAT_FILE = '/proc/sys/net/ipv4/tcp_notsent_lowat';
/** Set in the child that runs inside the network namespace. */
const IN_NETNS = 'HEADROOM_BENCH_NETNS';

/** The attacks measured: the three of the test, then slow read again with the kernel setting. */
const ATTACKS: Array<(typeof SLOW_ATTACKS)[number] & { lowat?: number }> = [
  ...SLOW_ATTACKS,
  {
    ...SLOW_ATTACKS.find((a) => a.name.startsWith('slow read'))!,
    name: `slow read (-X), tcp_notsent_lowat ${NOTSENT_LOWAT / 1024} KiB`,
    lowat: NOTSENT_LOWAT,
  },
];

export interface SlowPair {
  /** The normal client's p99 (ms) without and during the attack, and its sample counts. */
  quietP99: number;
  attackP99: number;
  quietN: number;
  attackN: number;
  ratio: number;
  /** Connections the proxy held at the attack's peak, and the fewest after it (were they cut?). */
  peakHeld: number;
  afterPeak: number;
  attackFirst: boolean;
  /** The balancer's CPU (cores: CPU seconds over wall seconds) in the window without and with the attack. */
  quietCpu: number;
  attackCpu: number;
  /**
   * At the attack's peak, bytes the kernel held unsent or unacknowledged on the proxy's client
   * sockets (ss Send-Q), per connection held, KiB: what the proxy had pushed to each slow client.
   */
  queuedKiB: number;
}

export interface SlowAttackResult {
  name: string;
  /** net.ipv4.tcp_notsent_lowat for this attack; undefined: the kernel's default (no limit). */
  lowat?: number;
  pairs: SlowPair[];
  medianRatio: number;
  medianQuietP99: number;
  medianAttackP99: number;
  /** The normal client's requests not answered 200, over every window, with reasons. */
  failed: number;
  failures: Record<string, number>;
  medianQuietCpu: number;
  medianAttackCpu: number;
  medianQueuedKiB: number;
}

export interface SlowClientsResult {
  runs: number;
  connections: number;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  /** Run in a network namespace of its own (else on the host's, without the tcp_notsent_lowat row). */
  netns: boolean;
  attacks: SlowAttackResult[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Established connections on the proxy's side of `port`, and their Send-Q summed (ss, iproute2). */
function heldAsync(port: number): Promise<{ n: number; sendQ: number }> {
  return new Promise((resolve) => {
    execFile('ss', ['-Htn', 'state', 'established', `( sport = :${port} )`], (err, stdout) => {
      if (err) return resolve({ n: Number.NaN, sendQ: Number.NaN });
      const rows = stdout.split('\n').filter(Boolean);
      // with a state filter ss prints Recv-Q, Send-Q, local, peer
      resolve({ n: rows.length, sendQ: rows.reduce((a, r) => a + Number(r.trim().split(/\s+/)[1] ?? 0), 0) });
    });
  });
}

/**
 * The scenario in a network namespace of its own when this process may make one (root:
 * unshare -n), so that the slow-read row with tcp_notsent_lowat can set it; else here, without
 * that row.
 */
export async function slowClients(runs: number): Promise<SlowClientsResult> {
  requireSlowhttptest();
  if (process.env[IN_NETNS] === '1' || spawnSync('unshare', ['-n', 'true']).status !== 0) {
    return slowClientsHere(runs, process.env[IN_NETNS] === '1');
  }
  const dir = mkdtempSync(join(tmpdir(), 'hr-slow-bench-'));
  const out = join(dir, 'result.json');
  try {
    const child = spawn(
      'unshare',
      [
        '-n',
        '--',
        'sh',
        '-c',
        'ip link set lo up && exec "$@"',
        'sh',
        process.execPath,
        ...process.execArgv,
        fileURLToPath(new URL('./slow-clients-netns.ts', import.meta.url)),
      ],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, [IN_NETNS]: '1', SLOW_RUNS: String(runs), SLOW_OUT: out },
      },
    );
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    if (code !== 0) throw new Error(`slow-clients in its network namespace exited with ${code}`);
    return JSON.parse(readFileSync(out, 'utf8')) as SlowClientsResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * ss every 250 ms (as the connection count is sampled, in both windows alike); stop() gives the
 * Send-Q per connection, KiB, at the look that saw the most connections.
 */
function sampleQueued(port: number): { stop(): Promise<number> } {
  const seen: Array<{ n: number; sendQ: number }> = [];
  const looks: Array<Promise<void>> = [];
  const timer = setInterval(() => looks.push(heldAsync(port).then((q) => void seen.push(q))), 250);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(looks);
      const top = seen.filter((q) => Number.isFinite(q.n)).sort((a, b) => b.n - a.n)[0];
      return top && top.n > 0 ? top.sendQ / top.n / 1024 : 0;
    },
  };
}

export async function slowClientsHere(runs: number, netns: boolean): Promise<SlowClientsResult> {
  const backend = await startSlowBackend();
  // as in the test: short client timeouts, the concurrency limit above the attack (slow clients
  // hold a place under it until they are cut; docs/operations.md), so what is measured is the
  // client timeouts
  const lb = await startHeadroom(slowClientsBalancerEnv(backend.url));
  const attacks: SlowAttackResult[] = [];
  const port = Number(new URL(lb.proxy).port);
  try {
    await waitFor(async () => (await healthyBackends(lb.admin)) === 1, { timeoutMs: 20_000 });
    for (const attack of ATTACKS.filter((a) => netns || a.lowat === undefined)) {
      if (netns) writeFileSync(LOWAT_FILE, String(attack.lowat ?? 4_294_967_295));
      const client = normalClient(`${lb.proxy}/`);
      const pairs: SlowPair[] = [];
      try {
        await sleep(1_000); // warm-up, not measured
        for (let i = 0; i < runs; i++) {
          const attackFirst = i % 2 === 1;
          let quiet: [number, number] = [0, 0];
          let under: [number, number] = [0, 0];
          let held: number[] = [];
          const cpu = { quiet: 0, attack: 0 };
          let queuedKiB = 0;
          for (const phase of attackFirst ? ['attack', 'quiet'] : ['quiet', 'attack']) {
            // what the proxy holds open, every 250 ms, in both windows alike (the look costs the
            // measuring process a little: the same in both)
            const from = client.now();
            const cpu0 = treeCpuSeconds(lb.pid);
            if (phase === 'quiet') {
              const sampler = sampleProxyConnections(port);
              const kernel = sampleQueued(port);
              await sleep(QUIET_SECONDS * 1000);
              quiet = [from, client.now()];
              cpu.quiet = (treeCpuSeconds(lb.pid) - cpu0) / ((quiet[1] - quiet[0]) / 1000);
              await sampler.stop();
              await kernel.stop();
            } else {
              const kernel = sampleQueued(port);
              held = (await runAttack(lb.proxy, attack, ATTACK_SECONDS)).held;
              under = [from, client.now()];
              cpu.attack = (treeCpuSeconds(lb.pid) - cpu0) / ((under[1] - under[0]) / 1000);
              queuedKiB = await kernel.stop();
            }
            await sleep(GAP_MS);
          }
          const within = ([a, b]: [number, number]) =>
            client.samples.filter((s) => s.ok && s.at >= a && s.at < b).map((s) => s.ms);
          const q = within(quiet);
          const u = within(under);
          const peak = held.length ? Math.max(...held) : 0;
          const pair: SlowPair = {
            quietP99: p99(q),
            attackP99: p99(u),
            quietN: q.length,
            attackN: u.length,
            ratio: p99(u) / p99(q),
            peakHeld: peak,
            afterPeak: held.length ? Math.min(...held.slice(held.indexOf(peak))) : 0,
            attackFirst,
            quietCpu: cpu.quiet,
            attackCpu: cpu.attack,
            queuedKiB,
          };
          pairs.push(pair);
          process.stdout.write(`  ${attack.name} #${i + 1}: ${JSON.stringify(pair)}\n`);
        }
      } finally {
        await client.stop();
      }
      const failures: Record<string, number> = {};
      for (const s of client.samples) if (!s.ok) failures[s.why ?? '?'] = (failures[s.why ?? '?'] ?? 0) + 1;
      attacks.push({
        name: attack.name,
        ...(attack.lowat === undefined ? {} : { lowat: attack.lowat }),
        pairs,
        medianRatio: median(pairs.map((p) => p.ratio)),
        medianQuietP99: median(pairs.map((p) => p.quietP99)),
        medianAttackP99: median(pairs.map((p) => p.attackP99)),
        failed: Object.values(failures).reduce((a, b) => a + b, 0),
        failures,
        medianQuietCpu: median(pairs.map((p) => p.quietCpu)),
        medianAttackCpu: median(pairs.map((p) => p.attackCpu)),
        medianQueuedKiB: median(pairs.map((p) => p.queuedKiB)),
      });
    }
  } finally {
    if (netns) writeFileSync(LOWAT_FILE, '4294967295');
    await lb.stop();
    await backend.stop();
  }
  return {
    netns,
    runs,
    connections: SLOW_CLIENTS.connections,
    headerTimeoutMs: SLOW_CLIENTS.headerTimeoutMs,
    idleTimeoutMs: SLOW_CLIENTS.idleTimeoutMs,
    attacks,
  };
}
