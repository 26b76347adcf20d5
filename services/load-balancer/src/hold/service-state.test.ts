import type { ServiceState } from '@headroom/shared';
import { describe, expect, it } from 'vitest';
import {
  holds,
  initialStatus,
  nextStatus,
  SERVICE_REASONS,
  type ServiceEvent,
  type ServiceReasonCode,
  type ServiceStatus,
  wantsWaitingPage,
} from './service-state.js';

const at = (state: ServiceState, reason: ServiceReasonCode = 'Started'): ServiceStatus => ({
  state,
  reason,
  since: 0,
});

// [from, event, to state, reason of the change (null: no change)]
const table: [ServiceState, ServiceEvent, ServiceState, ServiceReasonCode | null][] = [
  ['awake', { kind: 'announce-sleep', detail: 'idle 300 s' }, 'sleeping', 'AutoscalerSaidIdle'],
  ['sleeping', { kind: 'announce-sleep' }, 'sleeping', null],
  ['waking', { kind: 'announce-sleep' }, 'waking', null],
  ['sleeping', { kind: 'announce-awake' }, 'awake', 'AutoscalerSaidAwake'],
  ['awake', { kind: 'announce-awake' }, 'awake', null],
  // a sleep aborted after a request was held: its replica stays, so release now
  ['waking', { kind: 'announce-awake' }, 'awake', 'AutoscalerSaidAwake'],
  ['awake', { kind: 'discovered', running: 0, asleep: true }, 'sleeping', 'DiscoveredAsleep'],
  // no replica and nothing stopped: not a sleeping service, just none (503 as before)
  ['awake', { kind: 'discovered', running: 0, asleep: false }, 'awake', null],
  ['awake', { kind: 'discovered', running: 1, asleep: true }, 'awake', null],
  // the announced sleep holds while the last replica drains (no race)
  ['sleeping', { kind: 'discovered', running: 1, asleep: false }, 'sleeping', null],
  ['waking', { kind: 'discovered', running: 1, asleep: false }, 'waking', null],
  ['waking', { kind: 'discovered', running: 0, asleep: true }, 'waking', null],
  ['sleeping', { kind: 'request' }, 'waking', 'RequestHeld'],
  ['waking', { kind: 'request' }, 'waking', null],
  ['awake', { kind: 'request' }, 'awake', null],
  // nothing known since start and no backend: held, and the service woken (MIN_REPLICAS=0
  // before the autoscaler's first tick)
  ['awake', { kind: 'request', backends: 0 }, 'waking', 'RequestWithoutBackend'],
  ['awake', { kind: 'request', backends: 2 }, 'awake', null],
  ['sleeping', { kind: 'request', backends: 0 }, 'waking', 'RequestHeld'],
  ['waking', { kind: 'health-pass', backend: 'b1' }, 'awake', 'FirstHealthPass'],
  // started by hand (docker start) while sleeping
  ['sleeping', { kind: 'health-pass', backend: 'b1' }, 'awake', 'FirstHealthPass'],
  ['awake', { kind: 'health-pass', backend: 'b1' }, 'awake', null],
  // held requests and no backend left while awake (the woken replica gone before the hand-off,
  // a sleep aborted after the last replica stopped): a new wake, not HOLD_TIMEOUT_MS for nothing
  ['awake', { kind: 'pool', backends: 0, held: 1 }, 'waking', 'HeldWithoutBackend'],
  // nothing held: a known-awake service with no backend answers 503 at once, as before
  ['awake', { kind: 'pool', backends: 0, held: 0 }, 'awake', null],
  // a backend is there (healthy or not yet): it takes them, or its first health pass does
  ['awake', { kind: 'pool', backends: 1, held: 3 }, 'awake', null],
  // asleep or waking, a wake is already asked for
  ['waking', { kind: 'pool', backends: 0, held: 2 }, 'waking', null],
  ['sleeping', { kind: 'pool', backends: 0, held: 2 }, 'sleeping', null],
];

describe('nextStatus', () => {
  it.each(table)('%s + %o -> %s (%s)', (from, event, state, reason) => {
    const before = at(from);
    const after = nextStatus(before, event, 1_000);
    expect(after.state).toBe(state);
    if (reason === null) {
      expect(after).toBe(before); // same object: nothing to log
    } else {
      expect(after.reason).toBe(reason);
      expect(after.since).toBe(1_000);
    }
  });

  it('keeps the detail for the log line', () => {
    expect(nextStatus(at('awake'), { kind: 'announce-sleep', detail: 'idle 300 s' }, 5).detail).toBe(
      'idle 300 s',
    );
    expect(nextStatus(at('waking'), { kind: 'health-pass', backend: 'web-1' }, 5).detail).toBe('web-1');
  });

  it('a full cycle: awake -> sleeping -> waking -> awake', () => {
    let s = initialStatus(0);
    const seen: ServiceState[] = [s.state];
    for (const e of [
      { kind: 'announce-sleep' },
      { kind: 'discovered', running: 0, asleep: true },
      { kind: 'request' },
      { kind: 'request' },
      { kind: 'health-pass', backend: 'b' },
    ] as ServiceEvent[]) {
      const n = nextStatus(s, e, 1);
      if (n !== s) seen.push(n.state);
      s = n;
    }
    expect(seen).toEqual(['awake', 'sleeping', 'waking', 'awake']);
  });

  it('holds only when not awake', () => {
    expect([holds(at('awake')), holds(at('sleeping')), holds(at('waking'))]).toEqual([false, true, true]);
  });

  it('holds when awake only by default and with no backend; a known awake state answers at once', () => {
    expect(holds(at('awake', 'Started'), 0)).toBe(true);
    expect(holds(at('awake', 'Started'), 1)).toBe(false);
    expect(holds(at('awake', 'AutoscalerSaidAwake'), 0)).toBe(false);
    expect(holds(at('awake', 'FirstHealthPass'), 0)).toBe(false);
    // known awake (the autoscaler aborted a sleep): a request with no backend is not held
    const aborted = at('awake', 'AutoscalerSaidAwake');
    expect(nextStatus(aborted, { kind: 'request', backends: 0 }, 1)).toBe(aborted);
  });

  it('every reason has a message', () => {
    for (const m of Object.values(SERVICE_REASONS)) expect(m.length).toBeGreaterThan(10);
  });
});

describe('wantsWaitingPage', () => {
  it.each([
    ['text/html,application/xhtml+xml', true, true],
    ['text/html', false, false],
    ['application/json', true, false],
    ['*/*', true, false],
    [undefined, true, false],
  ] as [string | undefined, boolean, boolean][])('Accept %s, page %s -> %s', (accept, on, want) =>
    expect(wantsWaitingPage(accept, on)).toBe(want),
  );
});
