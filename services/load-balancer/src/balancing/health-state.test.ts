// The transition table: one event applied to a slot in a given state gives this change (or none).
import { describe, expect, it } from 'vitest';
import { spec } from './balancer-sim.test-helper.js';
import {
  applyDrain,
  applyHealthCheck,
  applyOutcome,
  applyWeight,
  beginRamp,
  endRamp,
  type HealthRules,
} from './health-state.js';
import { createSlot, type Slot } from './slot.js';

const rules: HealthRules = { healthRise: 2, healthFall: 2, ejectAfterFailures: 3, ejectCooldownMs: 10_000 };

function slot(state: Partial<Slot> = {}): Slot {
  return Object.assign(createSlot(spec('b1'), 0, 't', 0), state);
}

describe('health-state transitions', () => {
  it.each([
    { name: 'first pass of two needed: no change', s: {}, event: 'pass', to: null },
    {
      name: 'second pass: healthy, first check',
      s: { passes: 1 },
      event: 'pass',
      to: 'healthy',
      code: 'health-check-passed',
      reason: /first health check passed/,
    },
    {
      name: 'one failure of two: no change',
      s: { healthy: true, everHealthy: true },
      event: 'fail',
      to: null,
    },
    {
      name: 'second failure: unhealthy with the probe reason',
      s: { healthy: true, everHealthy: true, fails: 1 },
      event: 'fail',
      to: 'unhealthy',
      code: 'health-check-failed',
      reason: /health check failed: ECONNREFUSED \(2 in a row, fall 2\)/,
    },
    {
      name: 'third consecutive proxied failure: ejected for the cooldown',
      s: { healthy: true, everHealthy: true, consecutiveFailures: 2 },
      event: 'connect-error',
      to: 'ejected',
      code: 'consecutive-failures',
      reason: /ejected after 3 consecutive failures \(connect-error\); out for at least 10000 ms/,
    },
    {
      name: 'the last eligible backend is never ejected',
      s: { healthy: true, everHealthy: true, consecutiveFailures: 2 },
      event: 'connect-error-alone',
      to: null,
    },
    {
      name: 'passes during the ejection cooldown do not readmit',
      s: { passes: 5, ejectedUntil: 20_000, everHealthy: true, reason: 'ejected after 3' },
      event: 'pass',
      to: null,
    },
    {
      name: 'a pass after the cooldown readmits and says so',
      s: { passes: 1, ejectedUntil: 500, everHealthy: true, reason: 'ejected after 3' },
      event: 'pass',
      to: 'healthy',
      code: 'health-check-passed',
      reason: /after the ejection cooldown/,
    },
    {
      name: 'a success resets the failure run',
      s: { healthy: true, consecutiveFailures: 2 },
      event: 'success',
      to: null,
    },
    {
      name: 'drain',
      s: { healthy: true },
      event: 'drain',
      to: 'draining',
      code: 'drain-requested',
      reason: /no new requests/,
    },
    { name: 'drain twice: one transition', s: { healthy: true, draining: true }, event: 'drain', to: null },
    {
      name: 'undrain says where it goes back to',
      s: { healthy: true, draining: true },
      event: 'undrain',
      to: 'undrained',
      code: 'undrain-requested',
      reason: /back to healthy/,
    },
    {
      name: 'weight change',
      s: { healthy: true },
      event: 'weight',
      to: 'weight-changed',
      code: 'weight-set',
      reason: /weight 1 → 3/,
    },
  ] as const)('$name', (row) => {
    const s = slot(row.s as Partial<Slot>);
    const now = 1000;
    const t =
      row.event === 'pass'
        ? applyHealthCheck(s, true, now, rules)
        : row.event === 'fail'
          ? applyHealthCheck(s, false, now, rules, 'ECONNREFUSED')
          : row.event === 'connect-error'
            ? applyOutcome(s, 'connect-error', now, rules, true)
            : row.event === 'connect-error-alone'
              ? applyOutcome(s, 'connect-error', now, rules, false)
              : row.event === 'success'
                ? applyOutcome(s, 'success', now, rules, true)
                : row.event === 'drain'
                  ? applyDrain(s, true, now)
                  : row.event === 'undrain'
                    ? applyDrain(s, false, now)
                    : applyWeight(s, 3, now);
    if (row.to === null) {
      expect(t).toBeNull();
      return;
    }
    expect(t).toMatchObject({ id: 'b1', name: 'b1', to: row.to, code: row.code, at: now });
    expect(t!.reason).toMatch(row.reason);
  });

  it('an ejected slot is out of rotation and waits for the cooldown', () => {
    const s = slot({ healthy: true, everHealthy: true, consecutiveFailures: 2 });
    applyOutcome(s, 'http-5xx', 0, rules, true);
    expect(s.healthy).toBe(false);
    expect(s.ejectedUntil).toBe(10_000);
    expect(applyHealthCheck(s, true, 5000, rules)).toBeNull();
    expect(applyHealthCheck(s, true, 10_000, rules)?.to).toBe('healthy');
  });

  it('Docker unhealthy (immediate) takes a healthy slot out at the first failure', () => {
    const s = slot({ healthy: true, everHealthy: true });
    const t = applyHealthCheck(s, false, 5, rules, 'Docker HEALTHCHECK reports unhealthy', true);
    expect(t).toMatchObject({
      to: 'unhealthy',
      reason: 'health check failed: Docker HEALTHCHECK reports unhealthy',
    });
  });
});

describe('slow-start transitions', () => {
  // [what, slot before, window ms, now for end] → begin transition?, end transition at `now`?
  const rows: Array<[string, Partial<Slot>, number, number, string | null, string | null]> = [
    [
      'a healthy slot with a window ramps, and the end is reported once over',
      { healthy: true, since: 100 },
      1000,
      1100,
      'slow-start',
      'full-weight',
    ],
    ['not over yet: no end', { healthy: true, since: 100 }, 1000, 1099, 'slow-start', null],
    ['no window (SLOW_START_MS=0): nothing', { healthy: true, since: 100 }, 0, 5000, null, null],
    [
      'left rotation during the ramp: the end is silent',
      { healthy: false, since: 100 },
      1000,
      1100,
      null,
      null,
    ],
  ];
  it.each(rows)('%s', (_name, state, windowMs, endAt, begin, end) => {
    const s = slot(state);
    const b = beginRamp(s, 100, windowMs);
    expect(b?.to ?? null).toBe(begin);
    if (b) {
      expect(b.code).toBe('slow-start-began');
      expect(b.reason).toContain(`over ${windowMs} ms`);
    }
    const e = endRamp(s, endAt);
    expect(e?.to ?? null).toBe(end);
    if (e) {
      expect(e.code).toBe('slow-start-ended');
      expect(endRamp(s, endAt + 1000)).toBeNull(); // once
    }
  });
  it('a slot that goes unhealthy mid-ramp ends it without an event', () => {
    const s = slot({ healthy: true, since: 0 });
    beginRamp(s, 0, 1000);
    s.healthy = false;
    expect(endRamp(s, 2000)).toBeNull();
    expect(s.rampUntil).toBeNull();
  });
});
