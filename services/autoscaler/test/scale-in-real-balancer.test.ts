// The whole loop on real parts: a real Prometheus finds the replicas through Docker
// service discovery, the autoscaler (docker runtime) scales out on high CPU and back in
// when it drops, and the real load balancer (docker discovery) serves the new replica and
// drains the one being removed. Traffic through the balancer runs the whole time: no
// request may fail during the scale-in.
import { randomBytes } from 'node:crypto';
import { backendListSchema, OWNER_LABELS, OWNER_VALUE } from '@headroom/shared';
import {
  dockerScalerEnv,
  type GaugeService,
  type RunningBalancer,
  requireDocker,
  type ServiceProcess,
  setGauge,
  startAutoscaler,
  startBalancer,
  startGaugeService,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceContainers } from './fixtures.js';

const run = randomBytes(4).toString('hex');
const SERVICE = `as-lb-${run}`;
let gauge: GaugeService;
let lb: RunningBalancer;
let scaler: ServiceProcess;
let proxy = '';
let admin = '';

const owned = async () =>
  (await serviceContainers(SERVICE)).filter(
    (c) => c.Labels[OWNER_LABELS.managedBy] === OWNER_VALUE && c.State === 'running',
  );
const healthyAtBalancer = async () =>
  backendListSchema
    .parse(await (await fetch(`${admin}/api/backends`)).json())
    .backends.filter((b) => b.state === 'healthy');

beforeAll(async () => {
  requireDocker();
  gauge = await startGaugeService({ run, service: SERVICE, cpu: '0.9' });
  lb = await startBalancer({
    DISCOVERY: 'docker',
    LB_SERVICE: SERVICE,
    DOCKER_ADDRESS: 'network',
    METRICS_SOURCE: 'none',
    HEALTH_INTERVAL_MS: '300',
    SLOW_START_MS: '0',
  });
  proxy = lb.proxy;
  admin = lb.admin;
  scaler = await startAutoscaler(
    dockerScalerEnv(SERVICE, gauge.prom, {
      MAX_REPLICAS: '2',
      INTERVAL_MS: '500',
      SCALE_DOWN_WINDOW_MS: '3000',
      METRICS_MAX_AGE_MS: '10000',
      LB_ADMIN_URL: admin,
      DRAIN_TIMEOUT_MS: '5000',
      STOP_GRACE_SECONDS: '2',
    }),
  );
});

afterAll(async () => {
  await scaler?.stop();
  await lb?.stop();
  await gauge?.stop();
});

describe('autoscaler + real balancer + real Prometheus', () => {
  it('adds a replica the balancer serves, then drains and removes it with no failed request', async () => {
    await waitFor(async () => (await owned()).length === 1, {
      timeoutMs: 60_000,
      message: `scale out (${scaler.output().slice(-800)})`,
    });
    await waitFor(async () => (await healthyAtBalancer()).length === 2, {
      timeoutMs: 20_000,
      message: 'balancer serves both',
    });
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++)
      seen.add(((await (await fetch(`${proxy}/`)).json()) as { instance: string }).instance);
    expect(seen.size).toBe(2);

    let ok = 0;
    const failures: string[] = [];
    let running = true;
    const traffic = Array.from({ length: 4 }, async () => {
      while (running) {
        try {
          const res = await fetch(`${proxy}/`);
          await res.arrayBuffer();
          if (res.status === 200) ok++;
          else failures.push(`HTTP ${res.status}`);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    });
    // load drops: every replica now reports 10 % CPU
    for (const c of await serviceContainers(SERVICE)) if (c.State === 'running') await setGauge(c.Id, '0.1');
    await waitFor(async () => (await owned()).length === 0, { timeoutMs: 60_000, message: 'scale in' });
    await waitFor(async () => (await healthyAtBalancer()).length === 1, { timeoutMs: 20_000 });
    const after = ok;
    await waitFor(async () => ok > after + 20, { timeoutMs: 10_000 });
    running = false;
    await Promise.all(traffic);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(50);
  });
});
