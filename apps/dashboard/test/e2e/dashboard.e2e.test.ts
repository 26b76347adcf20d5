// The dashboard end to end: the real balancer serving the built dashboard, real stress
// backends behind it, driven through Debian's headless Chromium with playwright-core.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  type RunningBackend,
  type RunningBalancer,
  repoRoot,
  startBackend,
  startBalancer,
  waitFor,
} from '@headroom/testkit';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../../dist', import.meta.url));
const artifacts = `${repoRoot}artifacts`;
let backends: RunningBackend[] = [];
let lb: RunningBalancer;
let admin: string;
let proxy: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  execFileSync(
    process.execPath,
    [
      fileURLToPath(new URL('../../node_modules/vite/bin/vite.js', import.meta.url)),
      'build',
      '--logLevel',
      'warn',
    ],
    {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: 'inherit',
    },
  );
  backends = await Promise.all([1, 2, 3].map((i) => startBackend({ instance: `dash-be-${i}` })));
  lb = await startBalancer({
    DISCOVERY: 'static',
    // two services: the first two backends are the catch-all, the third answers blog.localhost
    BACKENDS: backends
      .map((b, i) => (i === 2 ? `${b.url}#service=blog&host=blog.localhost` : b.url))
      .join(','),
    METRICS_SOURCE: 'backend',
    METRICS_INTERVAL_MS: '500',
    SLOW_START_MS: '0',
    DASHBOARD_DIR: dist,
  });
  admin = lb.admin;
  proxy = lb.proxy;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1440, height: 1400 } });
});

afterAll(async () => {
  await browser?.close();
  await lb?.stop();
  await Promise.all(backends.map((b) => b.stop()));
});

describe('dashboard in Chromium', () => {
  it('shows the live backends', async () => {
    await page.goto(`${admin}/`);
    for (const b of backends)
      await page.getByText(new URL(b.url).host, { exact: true }).first().waitFor({ timeout: 15_000 });
    await page.getByText('3/3 backends healthy').waitFor({ timeout: 15_000 });
    expect(await page.locator('table.backends tbody tr').count()).toBe(3);
  });

  it('switches the balancing mode on the server', async () => {
    await page.getByRole('button', { name: 'Latency' }).click();
    await waitFor(
      async () => ((await (await fetch(`${admin}/api/mode`)).json()) as { mode: string }).mode === 'latency',
      { timeoutMs: 5000 },
    );
    await page.waitForSelector('[data-mode="latency"][aria-pressed="true"]');
    expect(await page.getAttribute('[data-mode="resource-aware"]', 'aria-pressed')).toBe('false');
  });

  it('toggles CPU stress on a backend', async () => {
    const first = backends[0]!;
    const row = page.locator('tr', { hasText: new URL(first.url).host });
    await row.getByRole('button', { name: 'Stress CPU' }).click();
    await waitFor(
      async () => ((await (await fetch(`${first.url}/cpu`)).json()) as { on: boolean }).on === true,
      { timeoutMs: 5000 },
    );
    await row.getByRole('button', { name: 'Stop stress' }).waitFor();
    // a reload still shows it burning: the state is read back from the backend
    await page.reload();
    await page
      .locator('tr', { hasText: new URL(first.url).host })
      .getByRole('button', { name: 'Stop stress' })
      .waitFor();
  });

  it('draws traffic and saves a screenshot', async () => {
    // traffic through the proxy so the charts have something to show
    const until = Date.now() + 4000;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() < until) await (await fetch(`${proxy}/load?ms=5`)).arrayBuffer();
      }),
    );
    await waitFor(async () => (await page.locator('.recharts-line path.recharts-curve').count()) > 0, {
      timeoutMs: 10_000,
    });
    // the mode change is marked on the charts
    await page.locator('.recharts-reference-line').first().waitFor({ state: 'attached', timeout: 10_000 });
    // one more history poll after the traffic, so its last seconds are drawn
    await page.waitForResponse((r) => r.url().endsWith('/api/stats/history'), { timeout: 10_000 });
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: `${artifacts}/dashboard.png`, fullPage: true });
    expect(statSync(`${artifacts}/dashboard.png`).size).toBeGreaterThan(10_000);
    const first = backends[0]!;
    await fetch(`${first.url}/cpu/toggle`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"on":false}',
    });
  });

  // The layout holds at common widths: nothing of the backends table (its last column, CPU stress,
  // above all) lies under the transitions timeline, and each stress button is the element a click
  // at its centre reaches. A screenshot per width is kept in artifacts/ for a look.
  it.each([1280, 1400, 1920])('lays out the backends table beside the timeline at %i px', async (width) => {
    await page.setViewportSize({ width, height: 1200 });
    await page.goto(`${admin}/`);
    await page.getByText('3/3 backends healthy').waitFor({ timeout: 15_000 });
    const timeline = await page.locator('aside.timeline').boundingBox();
    expect(timeline).not.toBeNull();
    const cells = page.locator('table.backends th, table.backends td');
    const boxes = await cells.evaluateAll((els) =>
      els.map((e) => {
        const r = e.getBoundingClientRect();
        return {
          x: r.x + window.scrollX,
          y: r.y + window.scrollY,
          w: r.width,
          h: r.height,
          text: e.textContent,
        };
      }),
    );
    const t = timeline!;
    const overlapping = boxes.filter(
      (b) => b.x < t.x + t.width && b.x + b.w > t.x && b.y < t.y + t.height && b.y + b.h > t.y,
    );
    expect(overlapping.map((b) => b.text)).toEqual([]);
    for (const button of await page.locator('table.backends button.toggle').all()) {
      await button.scrollIntoViewIfNeeded();
      const hit = await button.evaluate((el) => {
        const r = el.getBoundingClientRect();
        const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
        return top === el || el.contains(top);
      });
      expect(hit, 'the CPU stress button is reachable').toBe(true);
    }
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: `${artifacts}/dashboard-${width}.png`, fullPage: true });
  });

  it('shows the route table and narrows the page to the service picked', async () => {
    await page.setViewportSize({ width: 1440, height: 1400 });
    await page.goto(`${admin}/`);
    const blog = page.getByTestId('service-blog');
    await blog.getByText('blog.localhost/').waitFor({ timeout: 15_000 });
    await page.getByTestId('service-default').getByText('catch-all').waitFor();
    expect(await blog.locator('td.num').textContent()).toBe('1/1');
    await page.getByLabel('Service').selectOption('blog');
    await page.getByRole('heading', { name: 'Backends of blog' }).waitFor();
    expect(await page.locator('table.backends tbody tr').count()).toBe(1);
    // the mode switch now acts on that service alone
    await page.getByRole('button', { name: 'Round-robin' }).click();
    const modes = async () =>
      Object.fromEntries(
        (
          (await (await fetch(`${admin}/api/services`)).json()) as {
            services: { name: string; mode: string }[];
          }
        ).services.map((s) => [s.name, s.mode]),
      );
    await waitFor(async () => (await modes()).blog === 'round-robin', { timeoutMs: 5000 });
    expect((await modes()).default).not.toBe('round-robin');
    await page.waitForSelector('[data-mode="round-robin"][aria-pressed="true"]');
    await page.getByLabel('Service').selectOption('');
    expect(await page.locator('table.backends tbody tr').count()).toBe(3);
  });
});
