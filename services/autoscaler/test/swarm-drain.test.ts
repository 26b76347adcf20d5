// Swarm scale-in drains first (issue #25 item 3), on a real one-node Swarm of the multi-engine
// harness: a service of 3 tasks whose requests take 10 s and which are killed at once when
// stopped (an app without graceful shutdown: stop grace 1 ms), the real balancer as a container
// on the service's overlay network (Swarm discovery, RETRIES=0 so a cut request is counted, not
// retried), and the SwarmRuntime with the real drain client scaling 3 → 1 under load. The tasks
// Swarm removes are the ones predicted (swarm-leaving.ts) and drained before the count is
// lowered: 0 failed requests. Without the drain (the runtime as it was) the same run cut the
// requests in flight on the two removed tasks.
import { createLogger, LB_LABELS } from '@headroom/shared';
import {
  createSwarmService,
  type Engine,
  type SwarmHarness,
  startSwarmHarness,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrainClient } from '../src/act/drain-client.js';
import { SwarmRuntime } from '../src/act/swarm-runtime.js';
import { BalancerClient } from '../src/clients/balancer-client.js';
import { engineFromAddress } from '../src/clients/docker-engines.js';

const SERVICE = 'hrsd-web';
const NET = 'hrsd-net';
const TOKEN = 'swarm-drain-test-token';
/**
 * /health, and /slow answered after 10 s: longer than Swarm takes to stop a task once scaled
 * down on a busy machine (1.5 s and 5 s requests finished in that gap, drain or not).
 */
const APP = `
const http = require('http');
http.createServer((req, res) => {
  if (req.url === '/health') { res.end('ok'); return; }
  setTimeout(() => res.end('done'), 10000);
}).listen(3000, '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
`;
const logger = createLogger({ service: 'autoscaler-test', level: 'warn' });
let harness: SwarmHarness | undefined;
let engine: Engine;
let proxy = '';
let admin = '';

const auth = { authorization: `Bearer ${TOKEN}` };
async function backends(): Promise<Array<{ id: string; name: string; state: string }>> {
  const res = await fetch(`${admin}/api/backends`, { headers: auth });
  return ((await res.json()) as { backends: Array<{ id: string; name: string; state: string }> }).backends;
}

function createService(replicas: number): void {
  createSwarmService(engine, {
    name: SERVICE,
    network: NET,
    replicas,
    // killed at once when stopped: an app without graceful shutdown, whatever its signal handling
    flags: ['--stop-grace-period', '1ms'],
    labels: { [LB_LABELS.enable]: 'true', [LB_LABELS.service]: SERVICE, [LB_LABELS.port]: '3000' },
    command: ['node', '-e', APP],
  });
}

/** Closed-loop load: `workers` clients sending /slow until stopped; failures kept. */
function startLoad(workers: number) {
  let running = true;
  const failures: string[] = [];
  let ok = 0;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      try {
        const res = await fetch(`${proxy}/slow`, { signal: AbortSignal.timeout(20_000) });
        await res.arrayBuffer();
        if (res.ok) ok++;
        else failures.push(`HTTP ${res.status}`);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  });
  return {
    failures,
    ok: () => ok,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** The names (`<service>.<slot>`) of the tasks meant to run. */
async function taskNames(): Promise<string[]> {
  const tasks = (await engineFromAddress(engine.unixHost).docker.listTasks({
    filters: { service: [SERVICE], 'desired-state': ['running'] },
  })) as Array<{ Slot?: number }>;
  return tasks.map((t) => `${SERVICE}.${t.Slot}`).sort();
}

async function scaleInUnderLoad(rt: SwarmRuntime) {
  await waitFor(async () => (await backends()).filter((b) => b.state === 'healthy').length === 3, {
    timeoutMs: 60_000,
    intervalMs: 500,
    message: 'three healthy tasks at the balancer',
  });
  const load = startLoad(6);
  try {
    // every task has requests in flight
    await new Promise((r) => setTimeout(r, 2500));
    const outcome = await rt.setCount(SERVICE, 1, []);
    await waitFor(async () => (await taskNames()).length === 1 && (await backends()).length === 1, {
      timeoutMs: 30_000,
      intervalMs: 250,
      message: 'one task left',
    });
    // past the removed tasks' exit
    await new Promise((r) => setTimeout(r, 1500));
    await load.stop();
    return { outcome, failures: load.failures, ok: load.ok(), left: await taskNames() };
  } finally {
    await load.stop();
  }
}

beforeAll(async () => {
  harness = await startSwarmHarness({
    nodes: 1,
    network: NET,
    balancerName: 'hrsd-lb',
    token: TOKEN,
    balancerEnv: { RETRIES: '0', HEALTH_INTERVAL_MS: '500', SLOW_START_MS: '0' },
  });
  engine = harness.manager;
  proxy = harness.proxy;
  admin = harness.admin;
}, 300_000);

afterAll(() => harness?.stop());

describe('Swarm scale-in drains the tasks that will go before lowering the count', () => {
  it('3 → 1 under load: the predicted tasks are drained and removed, 0 failed requests', async () => {
    createService(3);
    const drain = new DrainClient(new BalancerClient({ url: admin, token: TOKEN }), 20_000, logger);
    const balancer = new BalancerClient({ url: admin, token: TOKEN });
    const rt = new SwarmRuntime(engineFromAddress(engine.unixHost), logger, {
      drain,
      undrain: (id) => balancer.undrain(id),
    });
    const r = await scaleInUnderLoad(rt);
    process.stdout.write(
      `swarm drain: ${r.ok} ok, ${r.failures.length} failed ${JSON.stringify(r.failures.slice(0, 5))}\n`,
    );
    // one node: Swarm keeps the lowest slot, as predicted and drained
    expect(r.outcome.removed).toEqual([`${SERVICE}.2`, `${SERVICE}.3`]);
    expect(r.left).toEqual([`${SERVICE}.1`]);
    expect(r.ok).toBeGreaterThan(5);
    expect(r.failures).toEqual([]);
    engine.docker('service', 'rm', SERVICE);
  });
});
