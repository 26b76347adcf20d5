// Slow start is not silent (issue #27): the real balancer reports a joining backend's ramp,
// its start and its end, as a log line, an event in /api/events and the transitions counter.
import { backendEventsSchema } from '@headroom/shared';
import { waitFor } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoServer, type RunningLb, startLb, type TestServer } from './lb-fixtures.js';

let echo: TestServer;
let lb: RunningLb | undefined;
beforeAll(async () => {
  echo = await echoServer('ramp');
});
afterAll(async () => {
  await lb?.stop();
  await echo?.close();
});

describe('slow-start transitions (real balancer)', () => {
  it('a joining backend: slow start began, then ended, logged, evented and counted', async () => {
    lb = await startLb({
      BACKENDS: echo.url,
      METRICS_SOURCE: 'none',
      SLOW_START_MS: '800',
      LOG_LEVEL: 'info',
    });
    const running = lb;
    const events = await waitFor(
      async () => {
        const { events } = backendEventsSchema.parse(
          await (await fetch(`${running.admin}/api/events`)).json(),
        );
        return events.some((e) => e.to === 'full-weight') ? events : undefined;
      },
      { timeoutMs: 10_000, message: 'slow start began and ended' },
    );
    const began = events.find((e) => e.to === 'slow-start');
    const ended = events.find((e) => e.to === 'full-weight');
    expect(began).toMatchObject({ code: 'slow-start-began', from: 'healthy' });
    expect(began?.reason).toContain('over 800 ms');
    expect(ended).toMatchObject({ code: 'slow-start-ended' });
    // the window, measured from the ramp's start (the 250 ms ticker reports the end)
    expect(ended!.at - began!.at).toBeGreaterThanOrEqual(800);
    expect(events.map((e) => e.to)).toEqual(['healthy', 'slow-start', 'full-weight']);
    const metrics = await (await fetch(`${running.admin}/metrics`)).text();
    expect(metrics).toMatch(/headroom_lb_backend_transitions_total\{[^}]*to="slow-start"[^}]*\} 1/);
    expect(metrics).toMatch(/headroom_lb_backend_transitions_total\{[^}]*to="full-weight"[^}]*\} 1/);
    expect(running.proc.output()).toMatch(/backend slow-start: slow start: ramping/);
    expect(running.proc.output()).toMatch(/backend full-weight: slow start over after 800 ms/);
  });
});
