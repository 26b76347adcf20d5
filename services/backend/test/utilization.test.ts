// Item 1 of issue 15 over real processes: a saturated, uncontained backend on this machine
// reads >= 90 % utilization in the balancer (METRICS_SOURCE=backend, what `pnpm start` uses
// and what the local autoscaler reads), although its CPU is 1 core of the host's 2 or more.
import os from 'node:os';
import { BACKEND_METRICS, backendListSchema } from '@headroom/shared';
import {
  type RunningBackend,
  type RunningBalancer,
  startBackend,
  startBalancer,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let be: RunningBackend;
let lb: RunningBalancer;
let proxy = '';
let admin = '';

function sample(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  if (!m) throw new Error(`${name} missing`);
  return Number(m[1]);
}

async function cpuInBalancer(): Promise<number | null> {
  const body = backendListSchema.parse(await (await fetch(`${admin}/api/backends`)).json());
  return body.backends[0]?.cpu ?? null;
}

beforeAll(async () => {
  be = await startBackend({ instance: 'saturated-1' });
  lb = await startBalancer({
    DISCOVERY: 'static',
    BACKENDS: be.url,
    METRICS_SOURCE: 'backend',
    METRICS_INTERVAL_MS: '500',
  });
  proxy = lb.proxy;
  admin = lb.admin;
  await waitFor(async () => (await cpuInBalancer()) !== null, {
    timeoutMs: 15_000,
    message: `balancer reads the backend's metrics: ${lb.output()}`,
  });
});

afterAll(async () => {
  await lb?.stop();
  await be?.stop();
});

describe('utilization of an uncontained backend', () => {
  it('exports its event loop’s busy seconds: a 300 ms spin adds about 0.3 s', async () => {
    const metrics = async () => (await fetch(`${be.url}/metrics`)).text();
    const before = sample(await metrics(), BACKEND_METRICS.eventLoopActive);
    expect((await fetch(`${be.url}/load?ms=300`)).status).toBe(200);
    const after = sample(await metrics(), BACKEND_METRICS.eventLoopActive);
    expect(after - before).toBeGreaterThanOrEqual(0.28);
    expect(after - before).toBeLessThan(1);
  });

  it('reads >= 0.9 in the balancer when saturated, on every core count', async () => {
    const limit = sample(await (await fetch(`${be.url}/metrics`)).text(), BACKEND_METRICS.cpuLimit);
    // no cgroup quota here: the limit is the host's cores, so CPU / limit alone would read 1/limit
    expect(limit).toBe(os.availableParallelism());
    let stop = false;
    let sent = 0;
    // 4 clients, 50 ms of CPU each: the one event loop is always busy. Bounded in count and time.
    const client = async () => {
      while (!stop && sent < 2_000) {
        sent++;
        const res = await fetch(`${proxy}/load?ms=50`);
        await res.arrayBuffer();
      }
    };
    const clients = Array.from({ length: 4 }, client);
    const deadline = setTimeout(() => {
      stop = true;
    }, 20_000);
    try {
      const seen: (number | null)[] = [];
      const high = await waitFor(
        async () => {
          const cpu = await cpuInBalancer();
          seen.push(cpu === null ? null : Math.round(cpu * 100) / 100);
          return cpu !== null && cpu >= 0.9 ? cpu : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 250, message: 'cpu >= 0.9 while saturated' },
      ).catch((err: Error) => {
        throw new Error(`${err.message}; the balancer read ${seen.join(', ')}`);
      });
      expect(high).toBeGreaterThanOrEqual(0.9);
    } finally {
      stop = true;
      clearTimeout(deadline);
      await Promise.all(clients);
    }
    // and it falls back once the load is gone: the reading follows the work, not a constant
    await waitFor(
      async () => {
        const cpu = await cpuInBalancer();
        return cpu !== null && cpu < 0.3;
      },
      { timeoutMs: 10_000, intervalMs: 250, message: 'cpu < 0.3 once idle' },
    );
  });
});
