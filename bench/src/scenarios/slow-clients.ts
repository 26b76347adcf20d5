// `pnpm bench slow-clients` (issue #27): Debian's slowhttptest against the balancer (slow
// headers, slow body, slow read; 100 connections each), and a normal client beside it: is its
// p99 under attack within 2x of the same client without the attack? The test
// (services/load-balancer/test/slowhttptest.test.ts) checks what holds with margin on a loaded
// CI machine: attack connections cut, every normal request answered. This measures the ratio:
// the same balancer set-up as the test, the same attacks (testkit slow-clients/), windows with
// and without the attack taking turns (which goes first alternates run by run), median of the
// per-pair ratios with their spread.
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
import { median } from '../lib/load.js';
import { healthyBackends, startHeadroom, waitFor } from '../lib/procs.js';

/** slowhttptest's own time limit; it ends earlier once the proxy has cut every connection. */
const ATTACK_SECONDS = 12;
/** The window without an attack. */
const QUIET_SECONDS = 6;
/** Between windows: the cut connections close, the proxy settles. */
const GAP_MS = 2_000;

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
}

export interface SlowAttackResult {
  name: string;
  pairs: SlowPair[];
  medianRatio: number;
  medianQuietP99: number;
  medianAttackP99: number;
  /** The normal client's requests not answered 200, over every window, with reasons. */
  failed: number;
  failures: Record<string, number>;
}

export interface SlowClientsResult {
  runs: number;
  connections: number;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  attacks: SlowAttackResult[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function slowClients(runs: number): Promise<SlowClientsResult> {
  requireSlowhttptest();
  const backend = await startSlowBackend();
  // as in the test: short client timeouts, the concurrency limit above the attack (slow clients
  // hold a place under it until they are cut; docs/operations.md), so what is measured is the
  // client timeouts
  const lb = await startHeadroom(slowClientsBalancerEnv(backend.url));
  const attacks: SlowAttackResult[] = [];
  try {
    await waitFor(async () => (await healthyBackends(lb.admin)) === 1, { timeoutMs: 20_000 });
    for (const attack of SLOW_ATTACKS) {
      const client = normalClient(`${lb.proxy}/`);
      const pairs: SlowPair[] = [];
      try {
        await sleep(1_000); // warm-up, not measured
        for (let i = 0; i < runs; i++) {
          const attackFirst = i % 2 === 1;
          let quiet: [number, number] = [0, 0];
          let under: [number, number] = [0, 0];
          let held: number[] = [];
          for (const phase of attackFirst ? ['attack', 'quiet'] : ['quiet', 'attack']) {
            // what the proxy holds open, every 250 ms, in both windows alike (the look costs the
            // measuring process a little: the same in both)
            const from = client.now();
            if (phase === 'quiet') {
              const sampler = sampleProxyConnections(Number(new URL(lb.proxy).port));
              await sleep(QUIET_SECONDS * 1000);
              quiet = [from, client.now()];
              await sampler.stop();
            } else {
              held = (await runAttack(lb.proxy, attack, ATTACK_SECONDS)).held;
              under = [from, client.now()];
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
        pairs,
        medianRatio: median(pairs.map((p) => p.ratio)),
        medianQuietP99: median(pairs.map((p) => p.quietP99)),
        medianAttackP99: median(pairs.map((p) => p.attackP99)),
        failed: Object.values(failures).reduce((a, b) => a + b, 0),
        failures,
      });
    }
  } finally {
    await lb.stop();
    await backend.stop();
  }
  return {
    runs,
    connections: SLOW_CLIENTS.connections,
    headerTimeoutMs: SLOW_CLIENTS.headerTimeoutMs,
    idleTimeoutMs: SLOW_CLIENTS.idleTimeoutMs,
    attacks,
  };
}
