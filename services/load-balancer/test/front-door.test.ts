// One front door on the real engine (issue #24, done-when): three apps behind one balancer,
// two with lb.* labels (a host route, a stripped path route) and one with Traefik labels only.
// ~1,000 requests over the host and path routes all reach the right app; an unknown host gets
// 404 LB_ERR_NO_ROUTE; two services sleep (their containers stopped) and wake independently,
// one of them woken by a WebSocket upgrade. The wake stand-in does what the autoscaler's docker
// runtime does for the service the wake call names: docker start.
import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { LB_LABELS, TRAEFIK_LABELS } from '@headroom/shared';
import {
  ensureImage,
  hostDocker,
  type LabelledContainer,
  lbLabels,
  removeRun,
  requireDocker,
  runLabelled,
  testRunId,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLb, startLb, waitHealthy } from './lb-fixtures.js';

const IMAGE = 'headroom/backend:latest';
const run = testRunId('hrfront');
const network = `${run}-net`;
const svc = { shop: `${run}-shop`, api: `${run}-api`, blog: `${run}-blog` };
const host = { shop: `shop.${run}.test`, blog: `blog.${run}.test` };
const apps: Record<string, LabelledContainer> = {};
const wakes: string[] = [];
let wakeServer: Server | undefined;
let lb: RunningLb | undefined;
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

function get(hostHeader: string, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${lb!.proxy}${path}`, { headers: { host: hostHeader }, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error('no answer in 30 s')));
    req.on('error', reject);
    req.end();
  });
}

const instanceOf = (text: string) => (JSON.parse(text) as { instance: string }).instance;

async function state(service: string): Promise<string | undefined> {
  const r = (await (await fetch(`${lb!.admin}/api/backends?service=${service}`)).json()) as {
    service?: { state: string };
  };
  return r.service?.state;
}

beforeAll(async () => {
  requireDocker();
  ensureImage(IMAGE);
  hostDocker('network', 'create', '--label', `headroom-test.run=${run}`, network);
  const common = { run, image: IMAGE, network };
  apps.shop = runLabelled({
    ...common,
    name: `${run}-shop`,
    env: { INSTANCE_ID: 'shop' },
    labels: lbLabels(svc.shop, 3000, { [LB_LABELS.host]: host.shop }),
  });
  apps.api = runLabelled({
    ...common,
    name: `${run}-api`,
    env: { INSTANCE_ID: 'api' },
    labels: lbLabels(svc.api, 3000, { [LB_LABELS.path]: '/api', [LB_LABELS.pathStrip]: 'true' }),
  });
  apps.blog = runLabelled({
    ...common,
    name: `${run}-blog`,
    env: { INSTANCE_ID: 'blog' },
    labels: {
      [TRAEFIK_LABELS.enable]: 'true',
      [`${TRAEFIK_LABELS.routerPrefix}${run}blog.${TRAEFIK_LABELS.routerRule}`]: `Host(\`${host.blog}\`)`,
      [`${TRAEFIK_LABELS.servicePrefix}${svc.blog}.${TRAEFIK_LABELS.servicePort}`]: '3000',
    },
  });
  // the autoscaler stand-in: starts the stopped container of the service the wake call names
  wakeServer = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      const service = (JSON.parse(body || '{}') as { service?: string }).service ?? '';
      wakes.push(service);
      const app = Object.entries(svc).find(([, s]) => s === service)?.[0];
      if (app) hostDocker('start', apps[app]!.id);
      res.writeHead(app ? 200 : 404, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => wakeServer?.listen(0, '127.0.0.1', r));
  lb = await startLb({
    DISCOVERY: 'docker',
    DOCKER_ADDRESS: 'network',
    DOCKER_NETWORK: network,
    METRICS_SOURCE: 'none',
    WAKE_URL: `http://127.0.0.1:${(wakeServer.address() as AddressInfo).port}`,
    HOLD_TIMEOUT_MS: '30000',
  });
  await waitHealthy(lb.admin, 3);
}, 120_000);

afterAll(async () => {
  agent.destroy();
  await lb?.stop();
  wakeServer?.closeAllConnections();
  wakeServer?.close();
  removeRun(run);
  try {
    hostDocker('network', 'rm', network);
  } catch {
    // already gone
  }
});

describe('one front door for three apps (real engine)', () => {
  it('1,000 requests over host and path routes all reach the right app', async () => {
    const cases: Array<[string, string, string]> = [
      [host.shop, '/', 'shop'],
      ['any.other.test', '/api/', 'api'],
      [host.blog, '/', 'blog'],
      [host.shop.toUpperCase(), '/?x=1', 'shop'],
      [`${host.blog}:8080`, '/', 'blog'],
    ];
    const wrong: string[] = [];
    let sent = 0;
    const worker = async () => {
      while (sent < 1000) {
        const [h, path, want] = cases[sent++ % cases.length]!;
        const r = await get(h, path);
        const got = r.status === 200 ? instanceOf(r.text) : `status ${r.status}`;
        if (got !== want) wrong.push(`${h}${path} → ${got} (want ${want})`);
      }
    };
    await Promise.all(Array.from({ length: 10 }, worker));
    expect(sent).toBeGreaterThanOrEqual(1000);
    expect(wrong).toEqual([]);
  });

  it('an unknown host gets 404 LB_ERR_NO_ROUTE', async () => {
    const r = await get(`nobody.${run}.test`, '/');
    expect(r.status).toBe(404);
    expect(JSON.parse(r.text)).toMatchObject({ code: 'LB_ERR_NO_ROUTE' });
  });

  it('two services sleep and wake independently; a request wakes one, a WebSocket the other', async () => {
    // shop sleeps: its container stops, the others stay awake
    hostDocker('stop', '-t', '1', apps.shop!.id);
    await waitFor(async () => (await state(svc.shop)) === 'sleeping', {
      timeoutMs: 15_000,
      message: 'shop sleeping',
    });
    expect(await state(svc.blog)).toBe('awake');
    expect(instanceOf((await get('x', '/api/')).text)).toBe('api');
    // a request to shop is held and wakes shop only
    const woken = await get(host.shop, '/');
    expect(woken.status).toBe(200);
    expect(instanceOf(woken.text)).toBe('shop');
    // every wake call named shop (a call may be repeated while requests wait)
    expect(wakes.length).toBeGreaterThan(0);
    expect(new Set(wakes)).toEqual(new Set([svc.shop]));
    expect(await state(svc.shop)).toBe('awake');
    const before = wakes.length;

    // blog sleeps; shop stays awake
    hostDocker('stop', '-t', '1', apps.blog!.id);
    await waitFor(async () => (await state(svc.blog)) === 'sleeping', {
      timeoutMs: 15_000,
      message: 'blog sleeping',
    });
    expect(await state(svc.shop)).toBe('awake');
    // a WebSocket upgrade to blog is held, wakes it, and is tunnelled to it once it is up
    const answer = await new Promise<string>((resolve, reject) => {
      const port = Number(new URL(lb!.proxy).port);
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          `GET / HTTP/1.1\r\nhost: ${host.blog}\r\nconnection: Upgrade\r\nupgrade: websocket\r\n` +
            'sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        );
      });
      let got = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => {
        got += d;
        if (got.includes('"instance"')) {
          socket.destroy();
          resolve(got);
        }
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(got));
      socket.setTimeout(30_000, () => socket.destroy(new Error('no answer to the upgrade in 30 s')));
    });
    // the backend has no WebSocket endpoint: it answers the handshake as a plain GET, through the tunnel
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toContain('"instance":"blog"');
    expect(wakes.length).toBeGreaterThan(before);
    expect(new Set(wakes.slice(before))).toEqual(new Set([svc.blog]));
    expect(await state(svc.blog)).toBe('awake');
  });
});
