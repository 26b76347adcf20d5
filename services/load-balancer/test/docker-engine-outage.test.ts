import { rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendListSchema, LB_LABELS } from '@headroom/shared';
import {
  ensureBaseImage,
  lbLabels,
  removeRun,
  requireDocker,
  runNodeScript,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLb, startLb } from './lb-fixtures.js';

const SERVICE = `lbout-${process.pid}`;
const SOCK = join(tmpdir(), `headroom-docker-${process.pid}.sock`);
const SERVER = `require('node:http').createServer((q, s) => { s.setHeader('x-backend-instance', process.env.NAME); s.end('ok'); }).listen(3000)`;

let proxy: Server | undefined;
const open = new Set<Socket>();

function startSocketProxy(): Promise<void> {
  rmSync(SOCK, { force: true });
  proxy = createServer((client) => {
    const engine = createConnection('/var/run/docker.sock');
    open.add(client);
    open.add(engine);
    client.pipe(engine).pipe(client);
    const drop = () => {
      client.destroy();
      engine.destroy();
      open.delete(client);
      open.delete(engine);
    };
    client.on('error', drop);
    engine.on('error', drop);
    client.on('close', drop);
    engine.on('close', drop);
  });
  return new Promise((resolve) => proxy!.listen(SOCK, resolve));
}

function stopSocketProxy(): Promise<void> {
  for (const s of open) s.destroy();
  open.clear();
  return new Promise((resolve) => {
    if (!proxy) return resolve();
    proxy.close(() => resolve());
    proxy = undefined;
  });
}

function run(name: string): void {
  runNodeScript({
    run: SERVICE,
    name,
    labels: lbLabels(SERVICE, 3000, { [LB_LABELS.healthPath]: '/' }),
    env: { NAME: name },
    publish: ['127.0.0.1::3000'],
    script: SERVER,
  });
}

let lb: RunningLb;
const names = async () =>
  backendListSchema
    .parse(await (await fetch(`${lb.admin}/api/backends`)).json())
    .backends.map((b) => b.name)
    .sort();

beforeAll(async () => {
  requireDocker();
  ensureBaseImage();
  removeRun(SERVICE);
  await startSocketProxy();
  lb = await startLb({
    DISCOVERY: 'docker',
    DOCKER_SOCKET: SOCK,
    LB_SERVICE: SERVICE,
    DOCKER_ADDRESS: 'published',
    METRICS_SOURCE: 'none',
  });
});

afterAll(async () => {
  await lb?.stop();
  await stopSocketProxy();
  rmSync(SOCK, { force: true });
  removeRun(SERVICE);
});

describe('docker engine outage', () => {
  it('keeps serving the last known backends, reconnects and resyncs', async () => {
    run(`${SERVICE}-a`);
    await waitFor(async () => (await fetch(`${lb.proxy}/`)).status === 200, { timeoutMs: 10_000 });

    await stopSocketProxy();
    // the engine is "gone": traffic still flows to the known backend
    const started = Date.now();
    while (Date.now() - started < 2000) {
      const res = await fetch(`${lb.proxy}/`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-backend-instance')).toBe(`${SERVICE}-a`);
    }
    expect(await names()).toEqual([`${SERVICE}-a`]);
    // a change the balancer cannot see while the engine is away
    run(`${SERVICE}-b`);

    await startSocketProxy();
    await waitFor(async () => (await names()).length === 2, {
      timeoutMs: 30_000,
      message: 'resync after reconnect',
    });
    expect(await names()).toEqual([`${SERVICE}-a`, `${SERVICE}-b`]);
    expect(lb.proc.output()).toContain('docker engine unreachable');
  });
});
