// Faults against real processes: the Docker engine's socket disappears and comes back
// (scaling pauses, then resumes), Prometheus is unreachable (the count holds, even above
// min, with the reason in the status), and CLEANUP_ON_EXIT removes only owned replicas.
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OWNER_LABELS, OWNER_VALUE } from '@headroom/shared';
import {
  autoscalerStatus,
  BASE_IMAGE,
  dockerScalerEnv,
  freePort,
  type GaugeService,
  removeServiceContainers,
  requireDocker,
  type ServiceProcess,
  setGauge,
  startAutoscaler,
  startGaugeService,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceContainers, startEngineProxy } from './fixtures.js';

const run = randomBytes(4).toString('hex');
const SERVICE = `as-ft-${run}`;
const socket = join(tmpdir(), `headroom-as-${run}.sock`);

let gauge: GaugeService;
let engine: Awaited<ReturnType<typeof startEngineProxy>>;
let scaler: ServiceProcess | undefined;
let adminUrl = '';

async function startScaler(extra: Record<string, string> = {}): Promise<ServiceProcess> {
  const proc = await startAutoscaler(
    dockerScalerEnv(SERVICE, gauge.prom, {
      LOG_LEVEL: 'info',
      DOCKER_SOCKET: socket,
      MAX_REPLICAS: '2',
      INTERVAL_MS: '400',
      SCALE_DOWN_WINDOW_MS: '0',
      STOP_GRACE_SECONDS: '1',
      ...extra,
    }),
  );
  adminUrl = proc.admin;
  return proc;
}

const status = () => autoscalerStatus(adminUrl);

const ownedNames = async () =>
  (await serviceContainers(SERVICE))
    .filter((c) => c.Labels[OWNER_LABELS.managedBy] === OWNER_VALUE)
    .map((c) => c.Names[0]!.replace(/^\//, ''))
    .sort();

beforeAll(async () => {
  requireDocker();
  engine = await startEngineProxy(socket);
  gauge = await startGaugeService({ run, service: SERVICE, cpu: '0.05' });
});

afterAll(async () => {
  await scaler?.stop();
  await gauge?.stop();
  await engine?.down();
});

describe('faults', () => {
  it('engine gone: scaling pauses with EngineUnavailable; engine back: it resumes and scales', async () => {
    scaler = await startScaler();
    await waitFor(async () => (await status()).lastDecision !== null);
    await engine.down();
    const paused = await waitFor(async () => {
      const s = await status();
      return s.holdReason === 'EngineUnavailable' ? s : undefined;
    });
    expect(paused.lastDecision?.message).toContain(socket);
    // Load arrives while the engine is away: nothing can happen until it is back.
    const [tmpl] = await serviceContainers(SERVICE);
    await setGauge(tmpl!.Id, '0.9');
    const loadAt = Date.now();
    await waitFor(async () => {
      const s = await status();
      return (
        s.loop?.lastTickAt &&
        Date.parse(s.loop.lastTickAt) > loadAt + 1_500 &&
        s.holdReason === 'EngineUnavailable'
      );
    });
    expect(await ownedNames()).toEqual([]);
    await engine.up();
    await waitFor(async () => (await ownedNames()).length === 1, {
      timeoutMs: 20_000,
      message: 'scaled after the engine came back',
    });
    expect(await ownedNames()).toEqual([`${SERVICE}-1`]);
    await waitFor(async () => (await status()).holdReason === null);
    await scaler.stop();
  });

  it('Prometheus unreachable: holds the count above min and reports why; never falls to min', async () => {
    const closed = await freePort();
    scaler = await startScaler({ PROMETHEUS_URL: `http://127.0.0.1:${closed}` });
    const started = Date.now();
    const s = await waitFor(async () => {
      const st = await status();
      return st.loop?.lastTickAt && Date.parse(st.loop.lastTickAt) > started + 2_000 ? st : undefined;
    });
    expect(s).toMatchObject({ current: 2, desired: 2, holdReason: 'HoldMissingData' });
    expect(s.lastMetrics[0]).toMatchObject({ metric: 'cpu', value: null, missing: 'unreachable' });
    expect(s.lastDecision?.message).toContain('cpu missing (unreachable)');
    // The log says it once, with the cause.
    const warnings = scaler
      .output()
      .split('\n')
      .filter((l) => l.includes('metrics unavailable'));
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toContain(`prometheus unreachable at http://127.0.0.1:${closed}`);
    expect(await ownedNames()).toEqual([`${SERVICE}-1`]);
    const metrics = await (await fetch(`${adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/headroom_autoscaler_errors_total\{[^}]*kind="metrics"[^}]*\} [1-9]/);
    await scaler.stop();
  });

  it('CLEANUP_ON_EXIT removes owned replicas on shutdown and leaves the rest', async () => {
    scaler = await startScaler({ CLEANUP_ON_EXIT: 'true', DRY_RUN: 'true' });
    await waitFor(async () => (await status()).current === 2);
    expect(await scaler.stop()).toBe(0);
    expect(await ownedNames()).toEqual([]);
    const left = await serviceContainers(SERVICE);
    expect(left.map((c) => c.Names[0])).toEqual([`/${SERVICE}-tmpl`]);
  });
});

describe('crash loop', () => {
  const CRASHY = `as-cl-${run}`;
  afterAll(() => removeServiceContainers(CRASHY));

  it('replicas that keep dying are replaced with a growing pause, not in a tight loop', async () => {
    // No template replica; the image's default command exits at once without a terminal.
    scaler = await startScaler({
      SERVICE: CRASHY,
      PROMQL_CPU: `test_cpu_utilization{service="${CRASHY}"}`,
      REPLICA_IMAGE: BASE_IMAGE,
      INTERVAL_MS: '200',
    });
    const s = await waitFor(
      async () => {
        const st = await status();
        return st.lastDecision?.message.includes('died in the last 5 minutes') ? st : undefined;
      },
      { timeoutMs: 30_000, message: 'backoff after repeated deaths' },
    );
    expect(s.lastDecision?.reason).toBe('ScaleFailed');
    const startedAt = Date.now();
    await waitFor(async () => Date.now() - startedAt > 2_000);
    // Three starts (the free ones), then the pause: no fourth within its 10 s.
    const logs = scaler
      .output()
      .split('\n')
      .filter((l) => l.includes('"replica created"'));
    expect(logs.length).toBe(3);
    await scaler.stop();
  });
});
