// A hand-run `docker stop` drains the container while its stop grace runs (issue #27): before,
// it stayed in rotation until it exited. Real engine: two replicas of one service, round-robin;
// one is stopped; its app keeps answering for 4 s after SIGTERM (finishing its work), and in
// that time the balancer sends it nothing new.
import { execFile, execFileSync } from 'node:child_process';
import { backendListSchema } from '@headroom/shared';
import {
  ensureBaseImage,
  lbLabels,
  removeRun,
  requireDocker,
  runNodeScript,
  testRunId,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLb, startLb } from './lb-fixtures.js';

const RUN = testRunId('lbfix-stop');
const SERVER = `const s = require('node:http').createServer((req, res) => res.end(process.env.NAME)).listen(3000);
process.on('SIGTERM', () => setTimeout(() => process.exit(0), 4000));`;

let lb: RunningLb | undefined;
async function list() {
  return backendListSchema.parse(await (await fetch(`${lb!.admin}/api/backends`)).json()).backends;
}

beforeAll(async () => {
  requireDocker();
  ensureBaseImage();
  for (const name of ['a', 'b'])
    runNodeScript({
      run: RUN,
      name: `${RUN}-${name}`,
      env: { NAME: name },
      labels: lbLabels(RUN),
      publish: ['127.0.0.1::3000'],
      script: SERVER,
    });
  lb = await startLb({
    DISCOVERY: 'docker',
    LB_SERVICE: RUN,
    DOCKER_ADDRESS: 'published',
    METRICS_SOURCE: 'none',
    BALANCER_MODE: 'round-robin',
    LOG_LEVEL: 'info',
  });
  await waitFor(async () => (await list()).filter((b) => b.state === 'healthy').length === 2, {
    timeoutMs: 20_000,
    message: 'two healthy replicas',
  });
});
afterAll(async () => {
  await lb?.stop();
  removeRun(RUN);
});

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
    expect(lb!.proc.output()).toMatch(/backend draining: container \S+-a is stopping \(engine sent signal/);
    await stopped;
  });
});
