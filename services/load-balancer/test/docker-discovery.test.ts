// Docker discovery against the real engine: a labelled container started by the test
// appears, passes its health check and takes traffic within a second or so; its CPU
// limit sets its weight; its stats stream feeds resource-aware mode; stopping it
// removes it; the admin API will not remove it (409). Needs the Docker engine (.ci/run provisions it).
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { LB_LABELS } from '@headroom/shared';
import {
  containerCpuUsage,
  coresBetween,
  type DiscoveringBalancer,
  hostDockerRun,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const testRun = hostDockerRun('lbtest');
const RUN = testRun.id;
const SERVICE = RUN;

// a tiny server: /health, and / answers its name; `burn` spins a core forever
const SERVER = `
const http = require('node:http');
if (process.env.BURN) setInterval(() => { const end = Date.now() + 90; while (Date.now() < end); }, 100);
http.createServer((req, res) => {
  res.setHeader('x-backend-instance', process.env.NAME);
  res.end(req.url === '/health' ? 'ok' : process.env.NAME);
}).listen(3000);
`;

function run(name: string, labels: Record<string, string>, extra: string[] = []): string {
  const c = testRun.node({
    name,
    labels,
    env: { NAME: name },
    publish: ['127.0.0.1::3000'],
    flags: extra,
    script: SERVER,
  });
  return c.id;
}

const lbLabels = { [LB_LABELS.enable]: 'true', [LB_LABELS.service]: SERVICE, [LB_LABELS.port]: '3000' };
let lb: DiscoveringBalancer;
const list = () => lb.backends();

beforeAll(async () => {
  testRun.require();
  lb = await testRun.balancer({
    LB_SERVICE: SERVICE,
    METRICS_SOURCE: 'docker',
    HEALTH_INTERVAL_MS: '500',
    BALANCER_MODE: 'round-robin',
  });
});

afterAll(() => testRun.end());

describe('docker discovery (real engine)', () => {
  it('a labelled container appears, takes traffic within about a second, and disappears when stopped', async () => {
    const started = Date.now();
    run(`${SERVICE}-a`, lbLabels, ['--cpus', '0.5']);
    await waitFor(async () => (await fetch(`${lb.proxy}/`)).status === 200, {
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    const tookMs = Date.now() - started;
    // docker run itself takes a few hundred ms; the events stream + fast first probe add little
    expect(tookMs).toBeLessThan(5000);
    const [a] = await list();
    expect(a).toMatchObject({ name: `${SERVICE}-a`, source: 'docker', service: SERVICE, state: 'healthy' });
    // the README's admin table: only a registered backend can be removed through the API
    const del = await fetch(`${lb.admin}/api/backends/${a!.id}`, { method: 'DELETE' });
    expect(del.status).toBe(409);
    expect(((await del.json()) as { code: string }).code).toBe('LB_ERR_NOT_REMOVABLE');
    expect((await list()).map((b) => b.state)).toEqual(['healthy']);

    run(`${SERVICE}-b`, lbLabels, ['--cpus', '2']);
    await waitFor(async () => (await list()).filter((b) => b.state === 'healthy').length === 2, {
      timeoutMs: 10_000,
    });
    const weights = Object.fromEntries((await list()).map((b) => [b.name, b.weight]));
    expect(weights[`${SERVICE}-b`]! / weights[`${SERVICE}-a`]!).toBeCloseTo(4, 5);

    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${lb.proxy}/`);
      seen.add(res.headers.get('x-backend-instance') ?? '');
    }
    expect([...seen].sort()).toEqual([`${SERVICE}-a`, `${SERVICE}-b`]);

    execFileSync('docker', ['stop', '-t', '1', `${SERVICE}-b`]);
    await waitFor(async () => (await list()).length === 1, {
      timeoutMs: 10_000,
      message: 'stopped container removed',
    });
    for (let i = 0; i < 5; i++)
      expect((await fetch(`${lb.proxy}/`)).headers.get('x-backend-instance')).toBe(`${SERVICE}-a`);
  });

  it('ignores containers without lb.enable and with another lb.service', async () => {
    run(`${SERVICE}-plain`, { [LB_LABELS.service]: SERVICE });
    run(`${SERVICE}-other`, { ...lbLabels, [LB_LABELS.service]: `${SERVICE}-x` });
    run(`${SERVICE}-c`, lbLabels);
    await waitFor(async () => (await list()).some((b) => b.name === `${SERVICE}-c`), { timeoutMs: 10_000 });
    const names = (await list()).map((b) => b.name);
    expect(names).not.toContain(`${SERVICE}-plain`);
    expect(names).not.toContain(`${SERVICE}-other`);
  });

  it('reads CPU from the container stats stream, relative to its limit', async () => {
    const hotId = run(`${SERVICE}-hot`, lbLabels, ['--cpus', '0.5', '-e', 'BURN=1']);
    const hotNow = async () => (await list()).find((x) => x.name === `${SERVICE}-hot`);
    await waitFor(async () => ((await hotNow())?.cpu ?? 0) > 0.05, {
      timeoutMs: 20_000,
      message: 'CPU of the burning container',
    });
    // The burner asks for ~0.9 of a core and --cpus caps it at 0.5, but on a loaded machine it
    // gets what it gets (0.1-0.2 of a core at load average 19). So the balancer's reading is
    // compared with what the engine says the container used over the same window, divided by
    // its limit. Cores over the host's CPUs (2 here) would read 4× too low, bare cores 2×.
    const before = await containerCpuUsage(hotId);
    const readings: number[] = [];
    for (const end = Date.now() + 6000; Date.now() < end; await sleep(250))
      readings.push((await hotNow())!.cpu!);
    const after = await containerCpuUsage(hotId);
    const reference = coresBetween(before, after) / 0.5;
    const read = readings.reduce((a, b) => a + b, 0) / readings.length;
    // the balancer's readings lag the window by up to a stats interval (about 1 s of 6)
    const why = `balancer ${read.toFixed(3)}, engine ${reference.toFixed(3)} of the limit`;
    expect(read / reference, why).toBeGreaterThan(0.7);
    expect(read / reference, why).toBeLessThan(1.4);
    const hot = (await hotNow())!;
    const idle = (await list()).find((x) => x.name === `${SERVICE}-a`)!;
    expect(idle.cpu).not.toBeNull();
    expect(idle.cpu!).toBeLessThan(0.3);
    expect(idle.score!).toBeGreaterThan(hot.score!);
  });

  it('keeps a client on its backend with lb.sticky=cookie, and ramps a joining backend with lb.slowstart', async () => {
    const sticky = { ...lbLabels, [LB_LABELS.sticky]: 'cookie', [LB_LABELS.stickyCookie]: 'hr_test' };
    for (const n of ['s1', 's2']) run(`${SERVICE}-${n}`, sticky);
    await waitFor(
      async () =>
        (await list()).filter((b) => b.sticky.kind === 'cookie' && b.state === 'healthy').length === 2,
      {
        timeoutMs: 10_000,
      },
    );
    const first = await fetch(`${lb.proxy}/`);
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^hr_test=[a-z0-9]+; Path=\/; HttpOnly/);
    const owner = first.headers.get('x-backend-instance');
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${lb.proxy}/`, { headers: { cookie: cookie.split(';')[0]! } });
      expect(res.headers.get('x-backend-instance')).toBe(owner);
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    // the sticky target goes away: the client moves and the cookie is rewritten
    execFileSync('docker', ['stop', '-t', '1', owner!]);
    const moved = await waitFor(
      async () => {
        const res = await fetch(`${lb.proxy}/`, { headers: { cookie: cookie.split(';')[0]! } });
        return res.status === 200 && res.headers.get('x-backend-instance') !== owner ? res : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(moved.headers.get('set-cookie')).toMatch(/^hr_test=/);
    expect(moved.headers.get('set-cookie')).not.toBe(cookie);

    run(`${SERVICE}-slow`, { ...lbLabels, [LB_LABELS.slowStart]: '60000' });
    const joined = await waitFor(
      async () => (await list()).find((b) => b.name === `${SERVICE}-slow` && b.state === 'healthy'),
      {
        timeoutMs: 10_000,
      },
    );
    expect(joined.effectiveWeight).toBeLessThan(0.2 * joined.weight);
    expect(joined.effectiveWeight).toBeGreaterThan(0);
  });
});
