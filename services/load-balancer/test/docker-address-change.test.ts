// A backend's address changes under the same id, through the real engine: the container
// is reached on its network's IP (DOCKER_ADDRESS=network) and gets a second network that
// sorts first, so one re-list publishes it with a new address and the same id (the
// "changed" part of the diff). Both addresses stay valid, so any request that fails, or
// any request still dialled at the old address after the change settled, is the
// balancer's doing. Needs the Docker engine.
import { execFileSync } from 'node:child_process';
import { backendListSchema } from '@headroom/shared';
import {
  ensureBaseImage,
  lbLabels,
  removeRun,
  requireDocker,
  runNodeScript,
  TEST_RUN_LABEL,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLb, startLb } from './lb-fixtures.js';

const SERVICE = `lbaddr-${process.pid}`;
// Docker lists a container's networks sorted by name: "aa-" comes before "zz-"
const FIRST = `aa-${SERVICE}`;
const LATER = `zz-${SERVICE}`;
// answers with the address the request arrived at
const SERVER = `require('node:http').createServer((q, s) => s.end(q.url === '/health' ? 'ok' : q.socket.localAddress.replace(/^::ffff:/, ""))).listen(3000)`;

let lb: RunningLb;
const docker = (...args: string[]) => execFileSync('docker', args).toString().trim();
const ipOn = (container: string, network: string) =>
  docker('inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, container);

beforeAll(() => {
  requireDocker();
  ensureBaseImage();
  removeRun(SERVICE);
  removeNetworks();
});

function removeNetworks(): void {
  for (const n of [FIRST, LATER]) {
    try {
      execFileSync('docker', ['network', 'rm', n], { stdio: 'ignore' });
    } catch {} // not there
  }
}
afterAll(async () => {
  await lb?.stop();
  removeRun(SERVICE);
  removeNetworks();
});

describe('address change through the engine', () => {
  it('a container that gets a new address under the same id is served there, without a failed request', async () => {
    docker('network', 'create', '--label', `${TEST_RUN_LABEL}=${SERVICE}`, LATER);
    docker('network', 'create', '--label', `${TEST_RUN_LABEL}=${SERVICE}`, FIRST);
    const name = `${SERVICE}-a`;
    runNodeScript({ run: SERVICE, name, network: LATER, labels: lbLabels(SERVICE), script: SERVER });
    const before = ipOn(name, LATER);
    lb = await startLb({
      DISCOVERY: 'docker',
      LB_SERVICE: SERVICE,
      DOCKER_ADDRESS: 'network',
      METRICS_SOURCE: 'none',
      LOG_LEVEL: 'info',
    });
    await waitFor(async () => (await fetch(`${lb.proxy}/`)).status === 200, { timeoutMs: 15_000 });
    const list = async () =>
      backendListSchema.parse(await (await fetch(`${lb.admin}/api/backends`)).json()).backends;
    const [first] = await list();
    expect(first!.url).toBe(`http://${before}:3000`);

    const answeredAt: string[] = [];
    const failures: number[] = [];
    let running = true;
    const load = Array.from({ length: 4 }, async () => {
      while (running) {
        const res = await fetch(`${lb.proxy}/who`).catch(() => undefined);
        if (res?.status !== 200) failures.push(res?.status ?? 0);
        else answeredAt.push(await res.text());
      }
    });
    await waitFor(() => answeredAt.length > 20, { timeoutMs: 5000 });

    docker('network', 'connect', FIRST, name);
    const after = ipOn(name, FIRST);
    expect(after).not.toBe(before);
    await waitFor(async () => (await list())[0]?.url === `http://${after}:3000`, { timeoutMs: 10_000 });
    const [moved] = await list();
    expect(moved!.id).toBe(first!.id);
    // once the balancer has the new address, requests arrive there
    await waitFor(() => answeredAt.at(-1) === after, { timeoutMs: 3000 });
    const mark = answeredAt.length;
    await waitFor(() => answeredAt.length > mark + 40, { timeoutMs: 5000 });
    running = false;
    await Promise.all(load);
    expect(failures).toEqual([]);
    expect(new Set(answeredAt.slice(mark))).toEqual(new Set([after]));
    expect(lb.proc.output()).toContain('backend address changed');
  });
});
