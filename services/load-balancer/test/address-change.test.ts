// A backend whose address changes under the same id (a coalesced re-list, an IP change
// after a network reconnect, a resync after an engine outage) is served at its new
// address from the next request on, without a single failed request. The diff is driven
// directly here, through the same applyBackendSet main.ts uses, with the real proxy,
// pools and prober over real HTTP (a static source cannot move an id to a new URL).

import type { AddressInfo } from 'node:net';
import { createLogger } from '@headroom/shared';
import { waitFor } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyBackendSet } from '../src/backends/apply.js';
import { createBalancer } from '../src/balancing/balancer.js';
import type { BackendSpec } from '../src/discovery/backend-set.js';
import { HttpProber } from '../src/health/http-prober.js';
import { HoldController } from '../src/hold/hold-controller.js';
import { Admission } from '../src/proxy/admission.js';
import { createProxyServer, ProxyHandler } from '../src/proxy/proxy-server.js';
import { UpstreamPools } from '../src/proxy/upstream-pools.js';
import { buildRouteTable, serviceRules } from '../src/routing/route-table.js';
import { TrafficStats } from '../src/stats/traffic-stats.js';
import { createMetrics } from '../src/telemetry/metrics.js';
import { RequestRecorder } from '../src/telemetry/request-recorder.js';
import { echoServer, type TestServer } from './lb-fixtures.js';

const logger = createLogger({ service: 'address-change-test', level: 'silent' });
/** What applyBackendSet logs (the rest of the wiring logs nothing here). */
const said: Array<{ msg: string; fields: Record<string, unknown> }> = [];
const setLogger = {
  ...logger,
  info: (fields: Record<string, unknown>, msg: string) => said.push({ msg, fields }),
} as unknown as typeof logger;

function spec(id: string, url: string): BackendSpec {
  return {
    id,
    url,
    name: id,
    service: '',
    source: 'docker',
    healthPath: '/health',
    sticky: { kind: 'none' },
  };
}

let oldAddr: TestServer;
let newAddr: TestServer;
beforeAll(async () => {
  oldAddr = await echoServer('old-address');
  newAddr = await echoServer('new-address');
});
afterAll(async () => {
  await oldAddr?.close();
  await newAddr?.close();
});

describe('a backend whose address changes under the same id', () => {
  it('is served at the new address from the next request, with no failed request', async () => {
    const core = createBalancer({
      mode: 'round-robin',
      cpuWeight: 0.8,
      memoryWeight: 0.2,
      metricsStaleMs: 5000,
      slowStartMs: 0,
      latencyDecayMs: 10_000,
      ejectAfterFailures: 3,
      ejectCooldownMs: 10_000,
      healthRise: 1,
      healthFall: 2,
      random: Math.random,
    });
    const stats = new TrafficStats(60, Date.now());
    const metrics = createMetrics(core, Date.now);
    const pools = new UpstreamPools({
      connections: 8,
      connectTimeoutMs: 1000,
      responseTimeoutMs: 5000,
      bodyTimeoutMs: 5000,
    });
    const prober = new HttpProber(
      { intervalMs: 60_000, timeoutMs: 1000 },
      (id, ok, reason) => core.reportHealth(id, ok, Date.now(), reason),
      logger,
    );
    const resources = { update: () => undefined, stop: async () => undefined };
    const recorder = new RequestRecorder(stats, metrics);
    // one service, the catch-all, with hold off (no wake URL), and its queue
    const queue: Admission = new Admission(
      { timeoutMs: 2000, max: 100, service: 'default' },
      {
        core,
        pickFor: (req, waiting) => handler.pickFor(core, req, waiting),
        go: (req, res, pick) => handler.dequeued(req, res, core, queue, pick),
        logger,
      },
    );
    const hold = new HoldController(
      {
        timeoutMs: 1000,
        htmlPage: false,
        wakeUrl: undefined,
        token: undefined,
        serviceName: 'default',
      },
      { logger, queue },
    );
    const table = buildRouteTable(serviceRules('', [], undefined, false)).table;
    const handler: ProxyHandler = new ProxyHandler({
      services: { route: (host, url) => table.lookup(host, url), unitOf: () => ({ core, hold, queue }) },
      pools,
      recorder,
      logger,
      retries: 1,
      tunnel: { connectTimeoutMs: 1000, responseTimeoutMs: 5000 },
    });
    const server = createProxyServer(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const proxy = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let current = new Map<string, BackendSpec>();
    const publish = (s: BackendSpec) => {
      const next = new Map([[s.id, s]]);
      const diff = applyBackendSet([s], current, Date.now(), {
        core,
        pools,
        prober,
        resources,
        logger: setLogger,
      });
      current = next;
      return diff;
    };
    try {
      publish(spec('c1', oldAddr.url));
      await waitFor(() => core.runtime(Date.now())[0]?.state === 'healthy', { timeoutMs: 3000 });
      const first = await fetch(`${proxy}/x`);
      expect(((await first.json()) as { name: string }).name).toBe('old-address');

      // steady keep-alive load through the change: not one request may fail
      const seen: string[] = [];
      const failures: number[] = [];
      let running = true;
      const load = Array.from({ length: 4 }, async () => {
        while (running) {
          const res = await fetch(`${proxy}/x`);
          if (res.status !== 200) failures.push(res.status);
          else seen.push(((await res.json()) as { name: string }).name);
        }
      });
      await waitFor(() => seen.length > 20, { timeoutMs: 3000 });
      const diff = publish(spec('c1', newAddr.url));
      expect(diff.changed).toEqual(['c1']);
      const at = seen.length;
      // the very next requests go to the new address...
      await waitFor(() => seen.length > at + 20, { timeoutMs: 3000 });
      // ...and keep going there once the old address is gone for good
      await oldAddr.close();
      const afterClose = seen.length;
      await waitFor(() => seen.length > afterClose + 20, { timeoutMs: 3000 });
      running = false;
      await Promise.all(load);
      expect(failures).toEqual([]);
      // requests already in flight at the change may finish on the old address; none after it
      const later = seen.slice(at + 4);
      expect(later.length).toBeGreaterThan(30);
      expect(new Set(later)).toEqual(new Set(['new-address']));
      expect(pools.urlOf('c1')).toBe(newAddr.url);
      // and it says so, with both addresses
      expect(said.find((l) => l.msg === 'backend address changed')?.fields).toMatchObject({
        backend: 'c1',
        from: oldAddr.url,
        to: newAddr.url,
      });
    } finally {
      server.close();
      server.closeAllConnections();
      await prober.stop();
      await pools.closeAll();
    }
  });
});
