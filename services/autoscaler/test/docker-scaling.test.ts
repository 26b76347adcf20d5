// The autoscaler process against the real Docker engine and a real Prometheus that finds
// replicas through Docker service discovery: scale out creates labelled, serving replicas
// named <service>-<n>; a restart adopts them; scale in drains and removes only owned ones.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { decisionListSchema, LB_LABELS, OWNER_LABELS, OWNER_VALUE } from '@headroom/shared';
import {
  autoscalerStatus,
  containerIp,
  dockerScalerEnv,
  type GaugeService,
  PROMTOOL_BIN,
  requireDocker,
  type ServiceProcess,
  setGauge,
  startAutoscaler,
  startGaugeService,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceContainers, startBalancerRecorder } from './fixtures.js';

const run = randomBytes(4).toString('hex');
const SERVICE = `as-it-${run}`;
const TOKEN = `tok-${run}`;

let gauge: GaugeService;
let lb: Awaited<ReturnType<typeof startBalancerRecorder>>;
let scaler: ServiceProcess | undefined;
let adminUrl = '';

async function startScaler(extra: Record<string, string> = {}): Promise<ServiceProcess> {
  const proc = await startAutoscaler(
    dockerScalerEnv(SERVICE, gauge.prom, {
      LOG_LEVEL: 'info',
      MAX_REPLICAS: '3',
      INTERVAL_MS: '500',
      SCALE_DOWN_WINDOW_MS: '3000',
      METRICS_MAX_AGE_MS: '10000',
      ADMIN_TOKEN: TOKEN,
      LB_ADMIN_URL: lb.url,
      DRAIN_TIMEOUT_MS: '5000',
      STOP_GRACE_SECONDS: '2',
      ...extra,
    }),
  );
  adminUrl = proc.admin;
  return proc;
}

const status = () => autoscalerStatus(adminUrl);

const owned = async () =>
  (await serviceContainers(SERVICE)).filter(
    (c) => c.Labels[OWNER_LABELS.managedBy] === OWNER_VALUE && c.State === 'running',
  );

beforeAll(async () => {
  requireDocker();
  lb = await startBalancerRecorder();
  gauge = await startGaugeService({ run, service: SERVICE, cpu: '0.9' });
});

afterAll(async () => {
  await scaler?.stop();
  await gauge?.stop();
  await lb?.close();
});

describe('docker runtime with a real Prometheus', () => {
  it('scales out: creates owned replicas <service>-<n> with the balancer labels, and they serve HTTP', async () => {
    scaler = await startScaler();
    const replicas = await waitFor(async () => ((await owned()).length === 2 ? owned() : undefined), {
      timeoutMs: 40_000,
      message: `two owned replicas (output: ${scaler.output().slice(-1500)})`,
    });
    const names = replicas.map((c) => c.Names[0]!.replace(/^\//, '')).sort();
    expect(names).toEqual([`${SERVICE}-1`, `${SERVICE}-2`]);
    for (const c of replicas) {
      expect(c.Labels[LB_LABELS.service]).toBe(SERVICE);
      expect(c.Labels[LB_LABELS.enable]).toBe('true');
      expect(c.Labels[OWNER_LABELS.service]).toBe(SERVICE);
      const body = await waitFor(async () => (await fetch(`http://${containerIp(c.Id)}:3000/`)).json(), {
        message: 'replica serves',
      });
      expect((body as { instance: string }).instance).toBe(c.Names[0]!.replace(/^\//, ''));
    }
    const s = await waitFor(async () => {
      const st = await status();
      return st.current === 3 && st.ready === 3 ? st : undefined;
    });
    expect(s).toMatchObject({ service: SERVICE, runtime: 'docker', desired: 3, max: 3, paused: false });
    const { decisions } = decisionListSchema.parse(await (await fetch(`${adminUrl}/api/decisions`)).json());
    expect(
      decisions.some(
        (d) => d.action === 'scale-up' && ['ScaleUp', 'ScaleUpLimit', 'DesiredAboveMax'].includes(d.reason),
      ),
    ).toBe(true);
  });

  it('pause and resume need the token', async () => {
    expect((await fetch(`${adminUrl}/api/pause`, { method: 'POST' })).status).toBe(401);
    const bad = await fetch(`${adminUrl}/api/pause`, {
      method: 'POST',
      headers: { authorization: 'Bearer nope' },
    });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ statusCode: 401, code: 'AS_ERR_UNAUTHORIZED' });
    const ok = await fetch(`${adminUrl}/api/pause`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(ok.status).toBe(200);
    await waitFor(async () => (await status()).lastDecision?.reason === 'Paused');
    expect((await status()).holdReason).toBe('Paused');
    await fetch(`${adminUrl}/api/resume`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    await waitFor(
      async () => (await status()).paused === false && (await status()).lastDecision?.reason !== 'Paused',
    );
    const bad400 = await fetch(`${adminUrl}/api/decisions?limit=0`);
    expect(bad400.status).toBe(400);
    expect(await bad400.json()).toMatchObject({ statusCode: 400, code: 'AS_ERR_BAD_REQUEST' });
  });

  it('/metrics passes promtool check metrics', async () => {
    const text = await (await fetch(`${adminUrl}/metrics`)).text();
    expect(text).toContain('headroom_autoscaler_current_replicas');
    execFileSync(PROMTOOL_BIN, ['check', 'metrics'], { input: text });
  });

  it('a restart adopts the owned replicas instead of creating more', async () => {
    const before = (await owned()).map((c) => c.Id).sort();
    await scaler?.stop();
    expect((await owned()).map((c) => c.Id).sort()).toEqual(before);
    const restartedAt = Date.now();
    scaler = await startScaler();
    // Ticks for a few seconds (INTERVAL_MS=500): every one of them saw the same replicas.
    await waitFor(
      async () => {
        const st = await status();
        return st.loop?.lastTickAt && Date.parse(st.loop.lastTickAt) > restartedAt + 2_500 ? st : undefined;
      },
      { timeoutMs: 15_000, message: 'a few ticks after the restart' },
    );
    expect((await owned()).map((c) => c.Id).sort()).toEqual(before);
    expect((await status()).current).toBe(3);
  });

  it('NaN from Prometheus holds the count and says why', async () => {
    for (const c of await serviceContainers(SERVICE)) await setGauge(c.Id, 'NaN');
    const st = await waitFor(
      async () => {
        const s = await status();
        return s.holdReason === 'HoldMissingData' ? s : undefined;
      },
      { timeoutMs: 20_000, message: 'hold on NaN' },
    );
    expect(st.lastMetrics[0]).toMatchObject({ metric: 'cpu', value: null, missing: 'nan' });
    expect(st.current).toBe(3);
    expect((await owned()).length).toBe(2);
  });

  it('scale in: drains each owned replica at the balancer before stopping it; the non-owned one survives', async () => {
    for (const c of await serviceContainers(SERVICE)) await setGauge(c.Id, '0.05');
    // removed, not only stopped: a stopped container is listed until its removal completes
    await waitFor(
      async () =>
        (await serviceContainers(SERVICE)).every((c) => c.Labels[OWNER_LABELS.managedBy] !== OWNER_VALUE),
      {
        timeoutMs: 60_000,
        message: `owned replicas removed (output: ${scaler?.output().slice(-1500)})`,
      },
    );
    const left = await serviceContainers(SERVICE);
    expect(left.map((c) => c.Names[0])).toEqual([`/${SERVICE}-tmpl`]);
    expect(left[0]!.State).toBe('running');
    expect(lb.drains.map((d) => d.id).length).toBe(2);
    for (const d of lb.drains) {
      expect(d.id).toMatch(/^[0-9a-f]{12}$/);
      expect(d.runningAtDrain).toBe(true);
      // It stayed up while the balancer still reported a request in flight.
      const pollsWhileBusy = lb.polls.filter((p) => p.id === d.id).slice(0, 3);
      expect(pollsWhileBusy.length).toBe(3);
      expect(pollsWhileBusy.every((p) => p.running)).toBe(true);
    }
    const { decisions } = decisionListSchema.parse(
      await (await fetch(`${adminUrl}/api/decisions?limit=50`)).json(),
    );
    expect(decisions.filter((d) => d.action === 'scale-down').length).toBeGreaterThanOrEqual(2);
    await waitFor(async () => (await status()).current === 1, {
      message: 'status shows the one replica left',
    });
  });
});
