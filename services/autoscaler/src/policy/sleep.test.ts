import { describe, expect, it } from 'vitest';
import { idleWindow, judgeSleep, type SleepInput, wakeReplicas } from './sleep.js';

const base: SleepInput = {
  now: 100_000,
  current: 1,
  idleAfterMs: 30_000,
  service: { lastRequestAt: 50_000, held: 0 },
  inFlight: 0,
  activeSince: 0,
  wakeHeld: null,
  wakeRequestsPerReplica: 10,
  max: 5,
};

describe('judgeSleep', () => {
  it.each([
    // name, overrides, expected kind, expected desired (sleep/wake/asleep) or floor (awake)
    ['idle past the window: sleep', {}, 'sleep', 0],
    ['idle exactly the window: sleep', { service: { lastRequestAt: 70_000, held: 0 } }, 'sleep', 0],
    ['request inside the window: awake', { service: { lastRequestAt: 80_000, held: 0 } }, 'awake', 1],
    ['a request in flight: awake', { inFlight: 1 }, 'awake', 1],
    [
      'a request held while awake raises the floor',
      { service: { lastRequestAt: 50_000, held: 25 } },
      'awake',
      3,
    ],
    [
      'no request since start, started long ago: sleep',
      { service: { lastRequestAt: null, held: 0 } },
      'sleep',
      0,
    ],
    [
      'no request since start, started inside the window: awake',
      { service: { lastRequestAt: null, held: 0 }, activeSince: 90_000 },
      'awake',
      1,
    ],
    ['woke inside the window (old lastRequestAt): awake', { activeSince: 95_000 }, 'awake', 1],
    ['no balancer view: never sleep', { service: null }, 'awake', 1],
    ['scale to zero off: never sleep', { idleAfterMs: null }, 'awake', 1],
    ['several replicas idle: all sleep', { current: 3 }, 'sleep', 0],
    ['sleeping, nothing asked: stay at 0', { current: 0 }, 'asleep', 0],
    ['sleeping, without a balancer view: stay at 0', { current: 0, service: null }, 'asleep', 0],
    [
      'sleeping, balancer holds 1: wake 1',
      { current: 0, service: { lastRequestAt: 99_000, held: 1 } },
      'wake',
      1,
    ],
    [
      'sleeping, balancer holds 25: wake 3',
      { current: 0, service: { lastRequestAt: 99_000, held: 25 } },
      'wake',
      3,
    ],
    ['sleeping, wake asked with held 0: wake 1', { current: 0, wakeHeld: 0 }, 'wake', 1],
    ['sleeping, wake asked with 12 held: wake 2', { current: 0, wakeHeld: 12 }, 'wake', 2],
    [
      'sleeping, wake without a balancer view still wakes',
      { current: 0, service: null, wakeHeld: 3 },
      'wake',
      1,
    ],
    ['wake clamped to max', { current: 0, wakeHeld: 1000 }, 'wake', 5],
    [
      'larger of wake held and view held counts',
      { current: 0, wakeHeld: 5, service: { lastRequestAt: 1, held: 31 } },
      'wake',
      4,
    ],
    ['scale to zero off and 0 replicas: the ordinary policy', { current: 0, idleAfterMs: null }, 'awake', 1],
  ] as const)('%s', (_name, overrides, kind, n) => {
    const r = judgeSleep({ ...base, ...(overrides as Partial<SleepInput>) });
    expect(r.kind).toBe(kind);
    if (r.kind === 'awake') expect(r.floor).toBe(n);
    else expect(r.desired).toBe(n);
  });

  it('carries the reason code and the numbers in the message', () => {
    const sleep = judgeSleep(base);
    expect(sleep).toMatchObject({ reason: 'IdleScaleToZero' });
    if (sleep.kind === 'sleep') expect(sleep.message).toContain('idle 50000 ms ≥ 30000 ms; 1 → 0');
    const wake = judgeSleep({ ...base, current: 0, wakeHeld: 25 });
    expect(wake).toMatchObject({ reason: 'WakeOnRequest' });
    if (wake.kind === 'wake') expect(wake.message).toContain('25 held → 3; 0 → 3');
    expect(judgeSleep({ ...base, current: 0 })).toMatchObject({ reason: 'Sleeping' });
  });
});

describe('wakeReplicas', () => {
  it.each([
    [0, 10, 5, 1],
    [1, 10, 5, 1],
    [10, 10, 5, 1],
    [11, 10, 5, 2],
    [50, 10, 5, 5],
    [500, 10, 5, 5],
    [3, 1, 10, 3],
  ])('held %i, %i per replica, max %i → %i', (held, per, max, want) => {
    expect(wakeReplicas(held, per, max)).toBe(want);
  });
});

describe('idleWindow', () => {
  it.each([
    ['the balancer view wins', 5_000, ['7000'], 60_000, 5_000],
    ['else a replica label', null, [undefined, '7000'], 60_000, 7_000],
    ['else the configured window', null, [undefined], 60_000, 60_000],
    ['an invalid label is ignored', undefined, ['soon', '-5', '0'], 60_000, 60_000],
    ['a label with spaces', null, [' 9000 '], 60_000, 9_000],
  ] as const)('%s', (_n, balancer, labels, configured, want) => {
    expect(idleWindow(balancer, labels, configured)).toBe(want);
  });
});
