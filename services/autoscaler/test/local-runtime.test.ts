// The local runtime as `pnpm start` uses it: replicas are child processes on free ports,
// registered with the balancer's admin API; without Prometheus the CPU comes from the
// balancer's GET /api/backends. Scale-in drains and deregisters before stopping a process.
import { autoscalerStatus, type RunningAutoscaler, startAutoscaler, waitFor } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_BACKEND_SCRIPT, startStaticBalancer } from './fixtures.js';

let lb: Awaited<ReturnType<typeof startStaticBalancer>>;
let scaler: RunningAutoscaler | undefined;
let adminUrl = '';
const SERVICE = 'local-web';

const status = () => autoscalerStatus(adminUrl);

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  lb = await startStaticBalancer();
  scaler = await startAutoscaler({
    LOG_LEVEL: 'info',
    RUNTIME: 'local',
    SERVICE,
    LOCAL_BACKEND_COMMAND: `exec ${process.execPath} -e "${LOCAL_BACKEND_SCRIPT}"`,
    MIN_REPLICAS: '1',
    MAX_REPLICAS: '3',
    TARGET_CPU_UTILIZATION: '0.5',
    INTERVAL_MS: '300',
    SCALE_DOWN_WINDOW_MS: '1000',
    LB_ADMIN_URL: lb.url,
    STOP_GRACE_SECONDS: '2',
  });
  adminUrl = scaler.admin;
});

afterAll(async () => {
  await scaler?.stop();
  await lb?.close();
});

describe('local runtime', () => {
  it('starts MIN_REPLICAS processes named <service>-<n> and registers them with the balancer', async () => {
    await waitFor(async () => lb.backends.size === 1, { message: 'one registered backend' });
    const [b] = [...lb.backends.values()];
    expect(b).toMatchObject({ name: `${SERVICE}-1`, service: SERVICE });
    expect(await (await fetch(b!.url)).json()).toEqual({ instance: `${SERVICE}-1` });
  });

  it('scales out on the CPU the balancer reports (no Prometheus)', async () => {
    lb.setCpu(0.9);
    await waitFor(async () => lb.backends.size === 3, {
      timeoutMs: 20_000,
      message: 'three registered backends',
    });
    expect([...lb.backends.values()].map((b) => b.name).sort()).toEqual(
      [1, 2, 3].map((n) => `${SERVICE}-${n}`),
    );
    for (const b of lb.backends.values()) expect(await answers(b.url)).toBe(true);
    const s = await waitFor(async () => {
      const st = await status();
      return st.current === 3 ? st : undefined;
    });
    expect(s.lastMetrics[0]).toMatchObject({ metric: 'cpu', value: 0.9 });
  });

  it('scales in: drains and deregisters before stopping the process', async () => {
    lb.setCpu(0.05);
    await waitFor(async () => lb.backends.size === 1, { timeoutMs: 20_000, message: 'back to one backend' });
    const gone = lb.history.filter((b) => b.deletedAt !== undefined);
    expect(gone.map((b) => b.name).sort()).toEqual([`${SERVICE}-2`, `${SERVICE}-3`]);
    for (const b of gone) {
      expect(b.drainedAt).toBeDefined();
      expect(b.drainedAt!).toBeLessThanOrEqual(b.deletedAt!);
      await waitFor(async () => !(await answers(b.url)), { message: `${b.name} stopped` });
    }
  });

  it('the admin API answers bad input with a JSON error and changes nothing', async () => {
    const cases: [string, RequestInit, number][] = [
      [
        '/api/pause',
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"on": tru' },
        400,
      ],
      [
        '/api/pause',
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ x: 'y'.repeat(20_000) }),
        },
        413,
      ],
      ['/api/decisions?limit=abc', {}, 400],
      ['/api/decisions?limit=5&extra=1', {}, 400],
      ['/api/nope', {}, 404],
    ];
    for (const [path, init, code] of cases) {
      const res = await fetch(`${adminUrl}${path}`, init);
      expect(res.status, path).toBe(code);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ statusCode: code });
      expect(typeof body.code).toBe('string');
      expect(typeof body.message).toBe('string');
      expect(typeof body.error).toBe('string');
      expect(body.error).not.toBe('Error');
    }
    expect((await status()).paused).toBe(false);
  });

  it('on SIGTERM its child processes end with it', async () => {
    const [left] = [...lb.backends.values()];
    expect(await scaler!.stop()).toBe(0);
    await waitFor(async () => !(await answers(left!.url)), { message: 'last child stopped' });
    expect(lb.backends.size).toBe(0);
  });
});
