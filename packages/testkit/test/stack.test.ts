// The testkit's starters against the real services and the real engine: a balancer in front
// of a backend serves through its proxy and stops cleanly (the port closes); a bad config is
// seen as an exit with its one-line reason; a labelled container is found by the balancer's
// labels and removed by its run's marker.
import { LB_LABELS } from '@headroom/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { hostDocker, requireDocker } from '../src/docker/engine.js';
import { BASE_IMAGE, ensureBaseImage, ensureImage, imageRecipe } from '../src/docker/images.js';
import { lbLabels, removeRun, runNodeScript, TEST_RUN_LABEL, testRunId } from '../src/docker/labelled.js';
import { runUntilExit, startBackend, startBalancer } from '../src/stack/services.js';
import { waitFor } from '../src/wait-for.js';

const run = testRunId('tk');
afterAll(() => removeRun(run));

describe('stack starters', () => {
  it('startBalancer + startBackend: served through the proxy, stop() closes the ports', async () => {
    const backend = await startBackend();
    const lb = await startBalancer({ DISCOVERY: 'static', BACKENDS: backend.url, LOG_LEVEL: 'info' });
    try {
      await waitFor(async () => (await fetch(`${lb.proxy}/`)).status === 200, { message: 'proxy serves' });
      const body = (await (await fetch(`${lb.proxy}/`)).json()) as { instance: string };
      expect(body.instance).toBe(backend.instance);
      await lb.waitForOutput('"level":30');
    } finally {
      expect(await lb.stop()).toBe(0);
      await backend.stop();
    }
    await expect(fetch(`${lb.admin}/healthz`)).rejects.toThrow();
  });

  it('runUntilExit: a refused config exits 1 with the field named', async () => {
    const { code, output } = await runUntilExit('load-balancer', { DISCOVERY: 'static', PORT: 'nope' });
    expect(code).toBe(1);
    expect(output).toContain('PORT');
  });
});

describe('labelled containers and images', () => {
  it('runLabelled: balancer labels, the run marker, a published port; removeRun removes it', async () => {
    requireDocker();
    ensureBaseImage();
    const c = runNodeScript({
      run,
      labels: lbLabels('tk-svc'),
      publish: ['127.0.0.1::3000'],
      script: `require('node:http').createServer((q, s) => s.end('hi')).listen(3000)`,
    });
    expect(c.name.startsWith(`${run}-`)).toBe(true);
    const labels = JSON.parse(hostDocker('inspect', '-f', '{{json .Config.Labels}}', c.id)) as Record<
      string,
      string
    >;
    expect(labels).toMatchObject({
      [TEST_RUN_LABEL]: run,
      [LB_LABELS.service]: 'tk-svc',
      [LB_LABELS.port]: '3000',
    });
    const url = `http://127.0.0.1:${c.hostPort(3000)}/`;
    await waitFor(async () => (await (await fetch(url)).text()) === 'hi', { message: 'container serves' });
    removeRun(run);
    expect(hostDocker('ps', '-aq', '--filter', `label=${TEST_RUN_LABEL}=${run}`)).toBe('');
  });

  it('ensureImage: knows how each project image is made, refuses one it cannot make', () => {
    expect(imageRecipe('headroom/backend:latest')).toMatchObject({
      args: ['backend'],
      env: { TAG: 'latest' },
    });
    expect(imageRecipe(BASE_IMAGE)?.script).toMatch(/build-base-image\.sh$/);
    expect(imageRecipe('headroom/prometheus:local')?.script).toMatch(/build-exporter-images\.sh$/);
    expect(() => ensureImage('example.invalid/nothing:1')).toThrow(/not one this project builds/);
  });
});
