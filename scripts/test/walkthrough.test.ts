// README's "A short walkthrough", done by a test on the embedded stack (`pnpm start`: the
// balancer, the autoscaler's local runtime and its backends, real processes, each backend in
// its own 0.5-core cgroup), on this 2-core machine. Open-loop load to 127.0.0.1 only, bounded
// in count and time. Short autoscaler windows through the environment (INTERVAL_MS,
// SCALE_DOWN_WINDOW_MS), as README says.
//   (a) steady load; CPU stress on one backend (POST /api/backends/:id/cpu/toggle on the
//       balancer's admin port) moves most of its share to the others within 5 s, and p99
//       stays within 3× of before (the figures are printed);
//   (b) a sustained load step makes the autoscaler add a replica that serves traffic within 15 s;
//   (c) when the load stops, the replica is drained and removed after the scale-down window,
//       and no request of the whole run failed.
import { writeFileSync } from 'node:fs';
import {
  BACKEND_METRICS,
  type BackendView,
  backendEventsSchema,
  backendListSchema,
  decisionListSchema,
} from '@headroom/shared';
import { type LocalStack, startLocalStack, waitFor } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { between, type OpenLoop, openLoop, quantile, type Sample, shares } from '../open-loop.mjs';

const SCALE_DOWN_WINDOW_MS = 15_000;
const INTERVAL_MS = 1_000;
// per backend 0.5 core: /load?ms=20 serves ~25/s at most. 3 backends at ~16 %, so that the pinned
// backend of (a) (100 %) and the others (~25 %) stay under the scale-up threshold (0.66 on average):
const STEADY_RPS = 12;
// ~80 % of three backends: above the 0.6 target by more than the tolerance
const STEP_RPS = 54;
const TRICKLE_RPS = 5;

let stack: LocalStack;
let proxy = '';
let admin = '';
let scaler = '';
let load: OpenLoop;
const figures: Record<string, unknown> = {};

// the autoscaled service's backends: `./dev start` also runs a second app (service docs, on /docs)
async function backends(): Promise<BackendView[]> {
  return backendListSchema
    .parse(await (await fetch(`${admin}/api/backends`)).json())
    .backends.filter((b) => b.service !== 'docs');
}

/** The autoscaler's decisions since `sinceMs` (epoch), oldest first, at most `n`. */
async function decisionsSince(sinceMs: number, n = 30): Promise<string[]> {
  const { decisions } = decisionListSchema.parse(await (await fetch(`${scaler}/api/decisions`)).json());
  return decisions
    .filter((d) => Date.parse(d.at) >= sinceMs)
    .reverse()
    .slice(0, n)
    .map((d) => `${d.at} ${d.reason}: ${d.message}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  stack = await startLocalStack({
    env: {
      LOG_LEVEL: 'info',
      INTERVAL_MS: String(INTERVAL_MS),
      SCALE_DOWN_WINDOW_MS: String(SCALE_DOWN_WINDOW_MS),
    },
    healthy: 3,
  });
  proxy = stack.proxy;
  admin = stack.admin;
  scaler = stack.autoscaler;
  load = openLoop({ url: `${proxy}/load?ms=20`, rate: STEADY_RPS, maxInFlight: 200, maxRequests: 20_000 });
}, 90_000);

afterAll(async () => {
  await load?.stop();
  if (process.env.WALKTHROUGH_LOG && stack) writeFileSync(process.env.WALKTHROUGH_LOG, stack.output());
  process.stdout.write(`walkthrough figures ${JSON.stringify(figures, null, 1)}\n`);
  // SIGINT: what Ctrl-C sends; the stack stops its processes before it exits
  await stack?.stop(30_000, 'SIGINT');
}, 60_000);

describe('README walkthrough on the embedded stack', () => {
  it('three healthy backends, each with 0.5 core of its own', async () => {
    // the stack counts the second app's backend among its healthy ones: wait for all three of ours
    await waitFor(async () => (await backends()).filter((b) => b.state === 'healthy').length === 3, {
      timeoutMs: 30_000,
      message: 'three healthy backends of the autoscaled service',
    });
    const list = await backends();
    expect(list.filter((b) => b.state === 'healthy')).toHaveLength(3);
    for (const b of list) {
      const metrics = await (await fetch(`${b.url}/metrics`)).text();
      expect(metrics, b.name).toMatch(new RegExp(`^${BACKEND_METRICS.cpuLimit}\\{[^}]*\\} 0\\.5$`, 'm'));
    }
  });

  it('(a) CPU stress on one backend moves most of its share to the others within 5 s; p99 stays within 3×', async () => {
    // resource-aware ignores a backend's capacity for its first 10 s of metrics
    await sleep(10_000);
    const base0 = load.now();
    await sleep(10_000);
    const before = between(load.samples, base0, load.now());
    // the backend with the most traffic: resource-aware does not spread a light load evenly
    const top = Object.entries(shares(before)).sort((x, y) => y[1] - x[1])[0]![0];
    const victim = (await backends()).find((b) => b.name === top);
    const toggled = await fetch(`${admin}/api/backends/${victim!.id}/cpu/toggle`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ on: true }),
    });
    expect(toggled.status).toBe(200);
    const t = load.now();
    await sleep(10_000);
    // what the balancer (and through it the autoscaler) reads for the pinned backend; not a
    // threshold: on a machine shared with other work the burner may not get its whole quota
    const victimCpu = (await backends()).find((b) => b.id === victim!.id)?.cpu ?? null;
    const settled = between(load.samples, t + 5_000, t + 10_000);
    const after = between(load.samples, t, t + 10_000);
    await fetch(`${admin}/api/backends/${victim!.id}/cpu/toggle`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ on: false }),
    });
    const shareBefore = shares(before)[victim!.name] ?? 0;
    const shareAfter = shares(settled)[victim!.name] ?? 0;
    const p99 = (xs: readonly Sample[]) =>
      quantile(
        xs.map((x) => x.ms),
        0.99,
      );
    const p99Before = p99(before);
    const p99After = p99(after);
    const toVictim = after.filter((x) => x.instance === victim!.name);
    Object.assign(figures, {
      a: {
        victim: victim!.name,
        victimCpu,
        requestsBefore: before.length,
        requestsAfter: after.length,
        sharesBefore: shares(before),
        sharesSettled: shares(settled),
        p50Before: quantile(
          before.map((x) => x.ms),
          0.5,
        ),
        p99Before,
        p50After: quantile(
          after.map((x) => x.ms),
          0.5,
        ),
        p99After,
        p99Settled: p99(settled),
        // where the tail comes from: the stressed backend's own answers, or the others'
        toVictimAfter: toVictim.length,
        p99AfterVictim: p99(toVictim),
        p99AfterOthers: p99(after.filter((x) => x.instance !== victim!.name)),
      },
    });
    expect(shareAfter).toBeLessThan(shareBefore / 2);
    // 2× is what a quiet machine showed (the figures above, printed every run); p99 of
    // ~120 samples is nearly their maximum, and a busy CI machine pushed it to 2.1× once: the
    // bound here is 3×, which still fails when the share does not move (the stressed backend's
    // answers are several times slower)
    expect(p99After).toBeLessThanOrEqual(3 * p99Before);
  }, 60_000);

  let added: BackendView | undefined;

  it('(b) a sustained load step adds a replica that serves traffic within 15 s', async () => {
    // The pinned backend of (a) read 100 % CPU, which may have made the autoscaler add one;
    // with the burner off it goes back to MIN_REPLICAS after the window. Start from there.
    const afterStress = (await backends()).length;
    await waitFor(async () => (await backends()).length === 3, {
      timeoutMs: SCALE_DOWN_WINDOW_MS + 20_000,
      intervalMs: 250,
      message: 'back to three backends after (a)',
    });
    const first = new Set((await backends()).map((b) => b.name));
    await sleep(2_000);
    load.setRate(STEP_RPS);
    const step = load.now();
    const stepAt = Date.now();
    added = await waitFor(
      async () => (await backends()).find((b) => !first.has(b.name) && b.state === 'healthy'),
      { timeoutMs: 20_000, intervalMs: 200, message: 'a new healthy backend' },
    ).catch(async (err: Error) => {
      throw new Error(
        `${err.message}; the autoscaler decided:\n${(await decisionsSince(stepAt)).join('\n')}`,
      );
    });
    const served = await waitFor(() => load.samples.find((s) => s.at >= step && s.instance === added!.name), {
      timeoutMs: 20_000,
      intervalMs: 100,
      message: `${added.name} serves a request`,
    });
    const seconds = (served.at + served.ms - step) / 1000;
    const during = between(load.samples, step, load.now());
    Object.assign(figures, {
      b: {
        added: added.name,
        backendsAfterStress: afterStress,
        secondsToServing: seconds,
        p99DuringStep: quantile(
          during.map((x) => x.ms),
          0.99,
        ),
        skippedSoFar: load.skipped,
        // resource-aware's split while the three carried the step (the autoscaler reads the mean)
        sharesUntilServing: shares(between(load.samples, step, served.at)),
        decisions: await decisionsSince(stepAt, 20),
      },
    });
    expect(seconds).toBeLessThanOrEqual(15);
    // a scale-up decision with the CPU it saw (its reason is HostCapacityExhausted when it
    // wanted more replicas than fit)
    const { decisions } = decisionListSchema.parse(await (await fetch(`${scaler}/api/decisions`)).json());
    const up = decisions.find((d) => d.action === 'scale-up' && Date.parse(d.at) >= stepAt);
    expect(up?.message).toMatch(/cpu [\d.]+\/0\.6/);
    // hold the step a little longer: sustained, not a blip
    await sleep(5_000);
  }, 90_000);

  it('(c) when the load stops the replica is drained and removed after the window, and nothing failed', async () => {
    expect(added).toBeDefined();
    load.setRate(TRICKLE_RPS);
    const stoppedAt = Date.now();
    await waitFor(async () => !(await backends()).some((b) => b.name === added!.name), {
      timeoutMs: SCALE_DOWN_WINDOW_MS + 30_000,
      intervalMs: 250,
      message: `${added!.name} removed`,
    });
    const removedAfter = Date.now() - stoppedAt;
    const { events } = backendEventsSchema.parse(await (await fetch(`${admin}/api/events`)).json());
    const mine = events.filter((e) => e.id === added!.id).map((e) => e.to);
    await load.stop();
    const failed = load.samples.filter((s) => s.status !== 200);
    Object.assign(figures, {
      c: {
        removedAfterMs: removedAfter,
        events: mine,
        requests: load.samples.length,
        skipped: load.skipped,
        failed: failed.length,
        failures: failed.slice(0, 5),
      },
    });
    // The window runs from the first recommendation for fewer replicas, not from the load
    // stop: with four replicas at the step's rate the mean may already ask for three, so the
    // removal can come less than a window after the stop (CI saw 14.9 s). The log records
    // changes only, so the streak of ScaleDownStabilized before the scale-down starts at the
    // first low recommendation; the tick before it still asked for the current count.
    const log = decisionListSchema
      .parse(await (await fetch(`${scaler}/api/decisions?limit=500`)).json())
      .decisions.slice()
      .reverse();
    const down = log.findLastIndex((d) => d.action === 'scale-down');
    expect(down, 'a scale-down decision').toBeGreaterThan(0);
    let first = down;
    while (first > 0 && log[first - 1]!.reason === 'ScaleDownStabilized') first--;
    expect(first, 'held by the window before it scaled down').toBeLessThan(down);
    const heldMs = Date.parse(log[down]!.at) - Date.parse(log[first]!.at);
    (figures.c as Record<string, unknown>).windowHeldMs = heldMs;
    // the last tick that asked for the current count came about a tick before the streak (a
    // late tick makes that gap longer): 14.0 s measured for a 15 s window
    expect(heldMs).toBeGreaterThanOrEqual(SCALE_DOWN_WINDOW_MS - 2 * INTERVAL_MS);
    expect(mine).toContain('draining');
    expect(mine.indexOf('draining')).toBeLessThan(mine.indexOf('removed'));
    expect(failed).toEqual([]);
    expect(load.skipped).toBe(0);
  }, 90_000);

  it('piped (not a terminal), every service logs JSON lines', () => {
    const lines = stack
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    expect(lines.length).toBeGreaterThan(10);
    const services = new Set(lines.map((l) => (JSON.parse(l) as { service: string }).service));
    expect([...services].sort()).toEqual(['autoscaler', 'backend', 'load-balancer']);
    expect(stack.output()).not.toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] /m);
  });
});
