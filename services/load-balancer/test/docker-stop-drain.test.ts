// A hand-run `docker stop` drains the container while its stop grace runs (issue #27): before,
// it stayed in rotation until it exited. Real engine: two replicas of one service, round-robin;
// one is stopped; its app keeps answering for 4 s after SIGTERM (finishing its work), and in
// that time the balancer sends it nothing new.
import { execFile, execFileSync } from 'node:child_process';
import { type DiscoveringBalancer, hostDockerRun, lbLabels, waitFor } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const testRun = hostDockerRun('lbfix-stop');
const RUN = testRun.id;
const SERVER = `const s = require('node:http').createServer((req, res) => res.end(process.env.NAME)).listen(3000);
process.on('SIGTERM', () => setTimeout(() => process.exit(0), 4000));`;

let lb: DiscoveringBalancer | undefined;
const list = () => lb!.backends();

beforeAll(async () => {
  testRun.require();
  for (const name of ['a', 'b'])
    testRun.node({
      name: `${RUN}-${name}`,
      env: { NAME: name },
      labels: lbLabels(RUN),
      publish: ['127.0.0.1::3000'],
      script: SERVER,
    });
  lb = await testRun.balancer({ LB_SERVICE: RUN, BALANCER_MODE: 'round-robin', LOG_LEVEL: 'info' });
  await lb.waitHealthy(2);
});
afterAll(() => testRun.end());

describe('docker stop drains (real engine)', () => {
  it('the stopped container is drained while it still runs, and gets no new request', async () => {
    const stopped = new Promise<void>((resolve) =>
      execFile('docker', ['stop', '-t', '10', `${RUN}-a`], () => resolve()),
    );
    const a = await waitFor(
      async () => (await list()).find((b) => b.name === `${RUN}-a` && b.state === 'draining'),
      { timeoutMs: 3000, intervalMs: 50, message: 'a draining after docker stop' },
    );
    expect(a.stateReason).toContain('draining');
    // still running: the drain came from the stop signal, not from the exit
    expect(
      execFileSync('docker', ['inspect', '-f', '{{.State.Running}}', `${RUN}-a`])
        .toString()
        .trim(),
    ).toBe('true');
    const answers = await Promise.all(
      Array.from({ length: 20 }, async () => (await (await fetch(`${lb!.proxy}/`)).text()).trim()),
    );
    expect(new Set(answers)).toEqual(new Set(['b']));
    expect(lb!.output()).toMatch(/backend draining: container \S+-a is stopping \(engine sent signal/);
    await stopped;
  });
});
