// The engine's own HEALTHCHECK status counts (issue #27: `dockerHealth` was carried and never
// used). Real engine, real containers with a HEALTHCHECK the test flips by creating a file:
// Docker's `unhealthy` takes a backend out at once, with the reason in its state and the log;
// under the TCP default, `starting` keeps an open port out until Docker says healthy.
import { execFileSync } from 'node:child_process';
import { type DiscoveringBalancer, hostDockerRun, lbLabels, waitFor } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const testRun = hostDockerRun('lbfix-hc');
const RUN = testRun.id;
const SERVICE = RUN;
const SERVER = `require('node:http').createServer((req, res) => res.end('ok')).listen(3000);`;

function run(name: string, health: string[]): void {
  testRun.node({
    name,
    labels: lbLabels(SERVICE),
    publish: ['127.0.0.1::3000'],
    flags: health,
    script: SERVER,
  });
}

/** The base image has no touch/rm: the container's own node writes and removes the flag file. */
function flag(name: string, file: string, present: boolean): void {
  const js = present ? `require('fs').writeFileSync('${file}', '')` : `require('fs').unlinkSync('${file}')`;
  execFileSync('docker', ['exec', name, 'node', '-e', js]);
}

let lb: DiscoveringBalancer;
const backend = (name: string) => lb.backend(name);

beforeAll(async () => {
  testRun.require();
  lb = await testRun.balancer({ LB_SERVICE: SERVICE, HEALTH_INTERVAL_MS: '500' });
});
afterAll(() => testRun.end());

describe('Docker HEALTHCHECK status (real engine)', () => {
  it("Docker's unhealthy takes a backend out of rotation with the reason, and healthy brings it back", async () => {
    const name = `${SERVICE}-sick`;
    // healthy while /tmp/sick is absent; one failed check makes it unhealthy
    run(name, ['--health-cmd', 'test ! -f /tmp/sick', '--health-interval', '1s', '--health-retries', '1']);
    await waitFor(async () => (await backend(name))?.state === 'healthy', {
      timeoutMs: 20_000,
      message: `${name} healthy`,
    });
    flag(name, '/tmp/sick', true);
    const out = await waitFor(
      async () => {
        const b = await backend(name);
        return b?.state === 'unhealthy' ? b : undefined;
      },
      { timeoutMs: 20_000, message: `${name} taken out after Docker says unhealthy` },
    );
    expect(out.stateReason).toContain('Docker HEALTHCHECK reports unhealthy');
    // the port still answers: only Docker's word took it out
    expect((await fetch(`${lb.proxy}/`)).status).toBe(503);
    expect(lb.output()).toMatch(
      /backend unhealthy: health check failed: Docker HEALTHCHECK reports unhealthy/,
    );
    flag(name, '/tmp/sick', false);
    await waitFor(async () => (await backend(name))?.state === 'healthy', {
      timeoutMs: 20_000,
      message: `${name} back once Docker says healthy`,
    });
    execFileSync('docker', ['rm', '-f', name]);
  });

  it('under the TCP default, an open port waits for Docker to leave `starting`', async () => {
    const name = `${SERVICE}-slow`;
    // failing checks inside the start period leave the status at `starting`
    run(name, [
      '--health-cmd',
      'test -f /tmp/ready',
      '--health-interval',
      '1s',
      '--health-start-period',
      '120s',
    ]);
    const held = await waitFor(
      async () => {
        const b = await backend(name);
        return b?.stateReason?.includes('still starting') ? b : undefined;
      },
      { timeoutMs: 20_000, message: `${name} held while Docker says starting` },
    );
    expect(held.state).toBe('unhealthy');
    // checks keep running meanwhile; it stays out while the status is starting
    await new Promise((r) => setTimeout(r, 1500));
    expect((await backend(name))?.state).toBe('unhealthy');
    flag(name, '/tmp/ready', true);
    await waitFor(async () => (await backend(name))?.state === 'healthy', {
      timeoutMs: 20_000,
      message: `${name} healthy once Docker says healthy`,
    });
    expect((await fetch(`${lb.proxy}/`)).status).toBe(200);
  });
});
