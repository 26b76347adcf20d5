// Removing a static backend (DELETE /api/backends/:id): a drain, then out of the static list.
// The poll's decision as a table; the watcher with fake timers and recorded consumers (the
// real balancer runs it in test/proxy-hardening.test.ts: drain-complete and drain-timeout).

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BackendTransition } from '../balancing/balancer-core.js';
import type { BackendSpec } from '../model/backend-spec.js';
import { type DrainStep, drainStep, StaticDrain } from './static-drain.js';

describe('drainStep', () => {
  it.each<[string, number, number, number, DrainStep]>([
    ['nothing in flight: done at once', 0, 0, 1000, 'complete'],
    ['nothing in flight at the deadline: complete, not a timeout', 0, 1000, 1000, 'complete'],
    ['requests in flight before the deadline: wait', 2, 999, 1000, 'wait'],
    ['requests in flight at the deadline: timeout', 1, 1000, 1000, 'timeout'],
    ['requests in flight past the deadline: timeout', 3, 5000, 1000, 'timeout'],
  ])('%s', (_name, inFlight, now, deadline, want) => {
    expect(drainStep(inFlight, now, deadline)).toBe(want);
  });
});

const spec = (id: string, source: BackendSpec['source']): BackendSpec => ({
  id,
  url: 'http://127.0.0.1:1',
  name: `${id}-name`,
  service: 'web',
  source,
  sticky: { kind: 'none' },
});

function harness() {
  const inFlight = new Map<string, number>([['s1', 2]]);
  const specs = new Map([
    ['s1', spec('s1', 'static')],
    ['d1', spec('d1', 'docker')],
  ]);
  const draining: Array<[string, boolean]> = [];
  const transitions: BackendTransition[] = [];
  const cut: string[] = [];
  const removed: string[] = [];
  const drain = new StaticDrain({
    spec: (id) => specs.get(id),
    isStatic: (id) => specs.get(id)?.source === 'static',
    removeStatic: (id) => removed.push(id),
    services: {
      setDraining: (id, d) => {
        draining.push([id, d]);
        return true;
      },
      inFlight: (id) => inFlight.get(id) ?? 0,
    },
    transitions: { record: (t) => transitions.push(t) },
    cut: (id) => cut.push(id),
    drainTimeoutMs: 1000,
    pollMs: 50,
  });
  return { drain, inFlight, draining, transitions, cut, removed };
}

describe('StaticDrain', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('unknown: not-found; discovered: not-removable; nothing drains', () => {
    const h = harness();
    expect(h.drain.remove('nope')).toBe('not-found');
    expect(h.drain.remove('d1')).toBe('not-removable');
    expect(h.draining).toEqual([]);
  });

  it('drains, waits for the requests in flight, then removes it: drain-complete, nothing cut', async () => {
    const h = harness();
    expect(h.drain.remove('s1')).toBe('removing');
    expect(h.draining).toEqual([['s1', true]]);
    // asked again while it drains: the same drain
    expect(h.drain.remove('s1')).toBe('removing');
    await vi.advanceTimersByTimeAsync(500);
    expect(h.removed).toEqual([]);
    h.inFlight.set('s1', 0);
    await vi.advanceTimersByTimeAsync(50);
    expect(h.removed).toEqual(['s1']);
    expect(h.cut).toEqual([]);
    expect(h.transitions).toMatchObject([
      { id: 's1', name: 's1-name', from: 'draining', to: 'drained', code: 'drain-complete' },
    ]);
    expect(h.drain.draining()).toEqual([]);
    expect(h.draining).toEqual([['s1', true]]);
  });

  it('at DRAIN_TIMEOUT_MS with requests left: drain-timeout naming them, they are cut, then removed', async () => {
    const h = harness();
    h.drain.remove('s1');
    await vi.advanceTimersByTimeAsync(950);
    expect(h.removed).toEqual([]);
    await vi.advanceTimersByTimeAsync(50);
    expect(h.transitions).toHaveLength(1);
    expect(h.transitions[0]).toMatchObject({ code: 'drain-timeout' });
    expect(h.transitions[0]!.reason).toContain('2 request(s) in flight');
    expect(h.cut).toEqual(['s1']);
    expect(h.removed).toEqual(['s1']);
  });

  it('stop() ends the drains in progress: nothing is removed or cut afterwards', async () => {
    const h = harness();
    h.drain.remove('s1');
    h.drain.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(h.removed).toEqual([]);
    expect(h.cut).toEqual([]);
    expect(h.transitions).toEqual([]);
  });
});
