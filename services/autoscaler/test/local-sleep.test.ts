// Scale to zero with the local runtime and real processes (issue #19): MIN_REPLICAS=0 needs
// SCALE_TO_ZERO_AFTER_MS (start fails naming the field); the service starts asleep, a wake
// (POST /api/wake, as the balancer sends) starts a process at once, the idle window puts it to
// sleep (the balancer told first, then the process deregistered and stopped), and a second wake
// starts a new one.
import { decisionListSchema } from '@headroom/shared';
import {
  autoscalerStatus,
  freePort,
  type RunningAutoscaler,
  runUntilExit,
  startAutoscaler,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_BACKEND_SCRIPT, startStaticBalancer } from './fixtures.js';

let lb: Awaited<ReturnType<typeof startStaticBalancer>>;
let scaler: RunningAutoscaler | undefined;
let adminUrl = '';
const SERVICE = 'local-zz';
const TOKEN = 'zz-token';

const env = (port: number) => ({
  LOG_LEVEL: 'info',
  RUNTIME: 'local',
  SERVICE,
  LOCAL_BACKEND_COMMAND: `exec ${process.execPath} -e "${LOCAL_BACKEND_SCRIPT}"`,
  MIN_REPLICAS: '0',
  MAX_REPLICAS: '3',
  SCALE_TO_ZERO_AFTER_MS: '1500',
  INTERVAL_MS: '300',
  LB_ADMIN_URL: lb.url,
  ADMIN_PORT: String(port),
  ADMIN_TOKEN: TOKEN,
  HOST: '127.0.0.1',
  STOP_GRACE_SECONDS: '2',
});

const status = () => autoscalerStatus(adminUrl);

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
}

async function wake(held: number) {
  return fetch(`${adminUrl}/api/wake`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ held }),
  });
}

beforeAll(async () => {
  lb = await startStaticBalancer({ scaleToZero: true });
  const port = await freePort();
  scaler = await startAutoscaler(env(port), { adminPort: port });
  adminUrl = scaler.admin;
});

afterAll(async () => {
  await scaler?.stop();
  await lb?.close();
});

describe('scale to zero, local runtime', () => {
  it('refuses MIN_REPLICAS=0 without SCALE_TO_ZERO_AFTER_MS, naming the field', async () => {
    const { SCALE_TO_ZERO_AFTER_MS: _, ...rest } = env(await freePort());
    const bad = await runUntilExit('autoscaler', rest);
    expect(bad.code).toBe(1);
    expect(bad.output).toContain('MIN_REPLICAS');
    expect(bad.output).toContain('SCALE_TO_ZERO_AFTER_MS');
  });

  it('starts asleep, wakes on POST /api/wake, sleeps after the idle window, wakes again', async () => {
    await waitFor(async () => (await status()).sleeping === true, { message: 'asleep at start' });
    expect(lb.backends.size).toBe(0);
    // asleep while the balancer (static backends: it cannot see a stopped replica) said awake:
    // the sleep is announced to it, so it holds the next request and wakes us
    await waitFor(async () => lb.serviceStates.length === 1, { message: 'sleep announced at start' });
    expect(lb.serviceStates[0]!.state).toBe('sleeping');

    const res = await wake(1);
    expect(res.status).toBe(200);
    await waitFor(async () => lb.backends.size === 1, {
      timeoutMs: 10_000,
      message: 'one process registered',
    });
    const first = [...lb.backends.values()][0]!;
    await waitFor(() => answers(first.url), { timeoutMs: 10_000, message: 'the woken process answers' });
    expect((await status()).sleeping).toBe(false);

    // No request since: after the window the balancer hears "sleeping" before the process goes.
    await waitFor(async () => lb.backends.size === 0, { timeoutMs: 15_000, message: 'asleep again' });
    expect(lb.serviceStates.map((s) => s.state)).toEqual(['sleeping', 'sleeping']);
    expect(lb.serviceStates[1]!.at).toBeLessThanOrEqual(first.deletedAt ?? Number.POSITIVE_INFINITY);
    await waitFor(async () => !(await answers(first.url)), { timeoutMs: 10_000, message: 'process stopped' });
    // the sleep tick records its decision when the stop returns, which may be just after the
    // process stopped answering: wait for it rather than read once
    const reasons = async () =>
      decisionListSchema
        .parse(await (await fetch(`${adminUrl}/api/decisions`)).json())
        .decisions.map((d) => d.reason);
    await waitFor(
      async () => {
        const r = await reasons();
        return r.includes('WakeOnRequest') && r.includes('IdleScaleToZero');
      },
      { timeoutMs: 10_000, message: 'WakeOnRequest and IdleScaleToZero in the decision log' },
    );
    expect((await status()).sleeping).toBe(true);

    lb.service.state = 'sleeping';
    expect((await wake(25)).status).toBe(200);
    await waitFor(async () => lb.backends.size === 3, {
      timeoutMs: 15_000,
      message: 'three processes for 25 held',
    });
  }, 90_000);

  it('answers 400 with details on a bad wake body', async () => {
    const res = await fetch(`${adminUrl}/api/wake`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ held: 'many' }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { details?: unknown[] };
    expect(body.details?.length).toBeGreaterThan(0);
  });
});
