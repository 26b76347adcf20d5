// Scale to zero on the real engine (issue #19): a balancer that starts while the service's
// only labeled container is stopped knows the service is sleeping (and its lb.idle.after
// window); a request is held, the wake call starts the container (as the autoscaler's docker
// runtime does: docker start), and the request is served once it passes its health check.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { backendListSchema, LB_LABELS } from '@headroom/shared';
import {
  ensureBaseImage,
  hostDocker,
  lbLabels,
  removeRun,
  requireDocker,
  runLabelled,
  testRunId,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLb, startLb } from './lb-fixtures.js';

const RUN = testRunId('lbsleep');
const SERVICE = RUN;
const SERVER = `require('node:http').createServer((req, res) => res.end(req.url === '/health' ? 'ok' : 'awake')).listen(3000);`;

let lb: RunningLb | undefined;
let wakeServer: Server | undefined;
const wakes: number[] = [];

beforeAll(async () => {
  requireDocker();
  ensureBaseImage();
  // created, never started: what a stopped replica looks like to the list
  const replica = runLabelled({
    run: RUN,
    name: `${SERVICE}-1`,
    labels: lbLabels(SERVICE, 3000, { [LB_LABELS.idleAfter]: '120000' }),
    publish: ['127.0.0.1::3000'],
    command: ['node', '-e', SERVER],
    createOnly: true,
  });
  // the autoscaler stand-in: a wake call starts the stopped container
  wakeServer = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      wakes.push(Date.now());
      if (wakes.length === 1) hostDocker('start', replica.id);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => wakeServer?.listen(0, '127.0.0.1', r));
  lb = await startLb({
    DISCOVERY: 'docker',
    LB_SERVICE: SERVICE,
    DOCKER_ADDRESS: 'published',
    METRICS_SOURCE: 'none',
    WAKE_URL: `http://127.0.0.1:${(wakeServer.address() as AddressInfo).port}`,
    HOLD_TIMEOUT_MS: '20000',
  });
}, 60_000);

afterAll(async () => {
  await lb?.stop();
  wakeServer?.closeAllConnections();
  wakeServer?.close();
  removeRun(RUN);
});

async function service() {
  const list = backendListSchema.parse(await (await fetch(`${lb?.admin}/api/backends`)).json());
  if (!list.service) throw new Error('no service view');
  return list.service;
}

describe('scale to zero with docker discovery (real engine)', () => {
  it('a stopped labeled container and no running one: the service is sleeping, with its idle window', async () => {
    await waitFor(async () => (await service()).state === 'sleeping', {
      timeoutMs: 10_000,
      message: 'sleeping',
    });
    expect((await service()).idleAfterMs).toBe(120_000);
    const metrics = await (await fetch(`${lb?.admin}/metrics`)).text();
    expect(metrics).toMatch(/headroom_lb_service_state\{service="[^"]*",state="sleeping"\} 1/);
  });

  it('a request is held, the wake starts the container, and the request is served', async () => {
    const res = await fetch(`${lb?.proxy}/`, { signal: AbortSignal.timeout(20_000) });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('awake');
    expect(wakes.length).toBeGreaterThanOrEqual(1);
    expect((await service()).state).toBe('awake');
  });
});
