// Issue 15 items 2 and 3 on this machine (cgroup v1, root): every local replica runs in a
// cgroup of its own with LOCAL_CPU_QUOTA cores, so the real stress backend reports that
// quota as its CPU limit, its burner starts one thread and is throttled to the quota; the
// cgroup is gone once the replica stops. And the host is one placement host: replicas are
// added only while replicas × quota fit in the host's cores, else the decision log says
// HostCapacityExhausted.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { BACKEND_METRICS, decisionListSchema } from '@headroom/shared';
import { startAutoscaler, waitFor } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStaticBalancer } from './fixtures.js';

const CPU_ROOT = '/sys/fs/cgroup/cpu';

function sample(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  if (!m) throw new Error(`${name} missing`);
  return Number(m[1]);
}

function cgroupsOf(pid: number): string[] {
  return readdirSync(CPU_ROOT).filter((e) => e.startsWith(`headroom.${pid}.`));
}

async function startScaler(env: Record<string, string>) {
  const lb = await startStaticBalancer();
  const proc = await startAutoscaler({
    LOG_LEVEL: 'info',
    RUNTIME: 'local',
    LB_ADMIN_URL: lb.url,
    INTERVAL_MS: '300',
    STOP_GRACE_SECONDS: '2',
    ...env,
  });
  return { lb, proc, url: proc.admin };
}

describe('a local replica under its own CPU quota (cgroup v1 here)', () => {
  let s: Awaited<ReturnType<typeof startScaler>>;
  beforeAll(async () => {
    s = await startScaler({
      SERVICE: 'iso-web',
      MIN_REPLICAS: '1',
      MAX_REPLICAS: '1',
      LOCAL_CPU_QUOTA: '0.5',
    });
    await waitFor(() => s.lb.backends.size === 1, { timeoutMs: 20_000, message: 'one replica registered' });
  });
  afterAll(async () => {
    await s?.proc.stop();
    await s?.lb.close();
  });

  it('has a cgroup of its own with a 50000/100000 µs quota, and the backend reports 0.5 cores', async () => {
    const pid = s.proc.child.pid!;
    const [dir] = cgroupsOf(pid);
    expect(dir).toBe(`headroom.${pid}.iso-web-1`);
    expect(readFileSync(`${CPU_ROOT}/${dir}/cpu.cfs_quota_us`, 'utf8').trim()).toBe('50000');
    expect(readFileSync(`${CPU_ROOT}/${dir}/cpu.cfs_period_us`, 'utf8').trim()).toBe('100000');
    const [b] = [...s.lb.backends.values()];
    const metrics = await (await fetch(`${b!.url}/metrics`)).text();
    expect(sample(metrics, BACKEND_METRICS.cpuLimit)).toBe(0.5);
    expect(s.proc.output()).not.toContain('WITHOUT a CPU quota');
  });

  it('its burner starts one thread (the quota rounded up) and is throttled to half a core', async () => {
    const [b] = [...s.lb.backends.values()];
    const on = (await (await fetch(`${b!.url}/cpu/toggle`, { method: 'POST' })).json()) as Record<
      string,
      unknown
    >;
    try {
      expect(on).toMatchObject({ on: true, cores: 1, maxCores: 1 });
      const cpu = async () =>
        sample(await (await fetch(`${b!.url}/metrics`)).text(), 'process_cpu_seconds_total');
      const t0 = performance.now();
      const c0 = await cpu();
      await new Promise((r) => setTimeout(r, 3000));
      const cores = ((await cpu()) - c0) / ((performance.now() - t0) / 1000);
      // it runs (0.2: other work on this shared 2-core machine may take its share), and never
      // past its quota; unthrottled, the burner thread alone takes a whole core
      expect(cores).toBeGreaterThan(0.2);
      expect(cores).toBeLessThan(0.6);
    } finally {
      await fetch(`${b!.url}/cpu/toggle`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"on":false}',
      });
    }
  });

  it('its cgroup is removed when the replica stops', async () => {
    const pid = s.proc.child.pid!;
    expect(cgroupsOf(pid)).toHaveLength(1);
    expect(await s.proc.stop()).toBe(0);
    expect(cgroupsOf(pid)).toEqual([]);
  });
});

describe('local host capacity', () => {
  let s: Awaited<ReturnType<typeof startScaler>>;
  // a quota of half the host: two replicas fit, a third never does, on any core count
  const quota = os.availableParallelism() / 2;
  beforeAll(async () => {
    s = await startScaler({
      SERVICE: 'cap-web',
      MIN_REPLICAS: '3',
      MAX_REPLICAS: '3',
      LOCAL_CPU_QUOTA: String(quota),
      // the tiny script: this test is about counting, not about backends
      LOCAL_BACKEND_COMMAND: `exec ${process.execPath} -e "require('http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1'); process.on('SIGTERM', () => process.exit(0));"`,
    });
  });
  afterAll(async () => {
    await s?.proc.stop();
    await s?.lb.close();
  });

  it('adds replicas only while replicas × LOCAL_CPU_QUOTA fit in the host cores, and says HostCapacityExhausted', async () => {
    const decision = await waitFor(
      async () => {
        const { decisions } = decisionListSchema.parse(await (await fetch(`${s.url}/api/decisions`)).json());
        return decisions.find((d) => d.reason === 'HostCapacityExhausted');
      },
      { timeoutMs: 20_000, message: 'a HostCapacityExhausted decision' },
    );
    expect(decision.message).toContain(`2 replicas × ${quota} cores booked`);
    expect(decision.message).toContain(`${os.availableParallelism()} cores × CPU_OVERCOMMIT 1`);
    expect(s.lb.backends.size).toBe(2);
    // and it keeps saying so rather than starting a third later
    await new Promise((r) => setTimeout(r, 1500));
    expect(s.lb.backends.size).toBe(2);
    const pid = s.proc.child.pid!;
    expect(cgroupsOf(pid)).toHaveLength(2);
  });

  it('leaves no cgroup behind after SIGTERM', async () => {
    const pid = s.proc.child.pid!;
    await s.proc.stop();
    expect(cgroupsOf(pid)).toEqual([]);
    expect(existsSync(CPU_ROOT)).toBe(true);
  });
});
