// Debian's slowhttptest against the real balancer (issue #27): slow headers (slowloris), slow
// body (R-U-Dead-Yet) and slow read. With short client timeouts, every attack connection is
// cut by the proxy within the timeout plus a margin, and a normal client on its own connection
// keeps being served throughout (every request answered 200). Its p99 during the attack and
// without it is printed, not bounded: on a shared 2-core CI machine the ratio of one window to
// the next ranged 0.6-3.8x, so no 2x bound holds here without flaking. That figure is
// `pnpm bench slow-clients` (the same attacks against the same set-up, alternating with no
// attack, median of 5: docs/benchmarks.md, "Slow clients"). The attacks, the normal client and
// the backend live in the testkit (slow-clients/), shared with that bench.
import {
  normalClient,
  p99,
  proxyConnectionsAsync,
  requireSlowhttptest,
  runAttack,
  type ServiceProcess,
  SLOW_ATTACKS,
  SLOW_CLIENTS,
  slowClientsBalancerEnv,
  startSlowBackend,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLb, startLb, waitHealthy } from './lb-fixtures.js';

const CONNECTIONS = SLOW_CLIENTS.connections;
// long enough for the connections to open (a few seconds, slowhttptest runs at the lowest
// priority), be cut (each its timeout after it stalls) and be seen gone while it still runs
const ATTACK_SECONDS = 16;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let backend: ServiceProcess & { url: string };
let lb: RunningLb;

beforeAll(async () => {
  requireSlowhttptest();
  backend = await startSlowBackend();
  lb = await startLb(slowClientsBalancerEnv(backend.url));
  await waitHealthy(lb.admin, 1);
});

afterAll(async () => {
  await lb?.stop();
  await backend?.stop();
});

describe('slowhttptest against the proxy', () => {
  for (const a of SLOW_ATTACKS) {
    it(`${a.name}: attack connections cut by the proxy's timeout; a normal client served throughout`, async () => {
      const client = normalClient(`${lb.proxy}/`);
      await sleep(3_000);
      const attackFrom = client.now();
      // what the proxy holds open, every 250 ms (ss: slowhttptest's own count is not used, in
      // slow-read mode it still counts connections the proxy has reset)
      const { ticks, exitStatus, held } = await runAttack(lb.proxy, a, ATTACK_SECONDS);
      const attackTo = client.now();
      // slowhttptest ends early once the proxy has cut every connection: one more look then (a
      // look after it ran out its time would only see its own sockets closed on exit)
      if (/no open connections left/i.test(exitStatus)) {
        await sleep(500);
        held.push(await proxyConnectionsAsync(Number(new URL(lb.proxy).port)));
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
        `slowhttptest ${a.name}: normal client p99 ${pIn.toFixed(2)} ms during (${during.length}), ${pOut.toFixed(2)} ms without (${outside.length}); peak ${peak} connections held, ${afterPeak} after they were cut (one window each: the ratio is the bench's, pnpm bench slow-clients)\n`,
      );
    }, 60_000);
  }
});
