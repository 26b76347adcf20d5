import { describe, expect, it } from 'vitest';
import {
  currentLimit,
  INITIAL_LIMIT,
  initialLimit,
  type LimitSettings,
  observeAnswer,
  PROBE_AFTER,
  parseMaxConn,
} from './concurrency-limit.js';

const settings: LimitSettings = { min: 1, max: 200 };

/**
 * A backend kept full (a queue waits in front of it): each answer was dispatched behind
 * limit − 1 others. `parallel` requests are served at once in `serviceMs`; beyond that they
 * queue inside the backend, so latency grows with the limit. The first answer is an idle one.
 */
function saturate(
  serviceMs: number,
  parallel: number,
  answers: number,
  s = settings,
  hostDelayMs = 0,
): number[] {
  const st = initialLimit(s);
  observeAnswer(st, serviceMs, 0, false, s);
  const seen: number[] = [];
  for (let i = 0; i < answers; i++) {
    const limit = currentLimit(st, undefined);
    const ahead = limit - 1;
    const latency = serviceMs * Math.max(1, Math.ceil(limit / parallel)) + hostDelayMs;
    observeAnswer(st, latency, ahead, false, s);
    seen.push(currentLimit(st, undefined));
  }
  return seen;
}

describe('adaptive limit', () => {
  it.each([
    // [what, service ms, served at once, lowest, highest limit after 200 answers]
    ['one request at a time (CPU-bound): one in service, one or two ready', 10, 1, 2, 3],
    ['the same at 100× the latency: the limit is about the queue, not the time', 1000, 1, 2, 3],
    ['four at once (a worker pool of 4): four in service, up to one more round ready', 10, 4, 4, 9],
    ['twenty at once (waiting on I/O): grows to about 20', 200, 20, 18, 30],
  ])('%s', (_what, serviceMs, parallel, lo, hi) => {
    const seen = saturate(serviceMs, parallel, 200);
    const settled = seen.slice(-50);
    expect(Math.min(...settled)).toBeGreaterThanOrEqual(lo);
    expect(Math.max(...settled)).toBeLessThanOrEqual(hi);
  });

  it.each([
    // [what, service ms, host delay ms on every answer under load, lowest limit after 300 answers]
    // host delay: our own event loop and the scheduler on a busy host; it does not shrink when
    // the backend gets fewer requests, so a limit that reads it as queueing starves the backend
    ['a 0.1 ms backend behind 2 ms of host delay is not held at the minimum', 0.1, 2, 25],
    ['the same behind 4 ms', 0.1, 4, 8],
  ])('%s', (_what, serviceMs, delay, lo) => {
    const seen = saturate(serviceMs, 1, 300, settings, delay);
    expect(Math.min(...seen.slice(-50))).toBeGreaterThanOrEqual(lo);
  });

  it.each([
    // [what, host delay the sampler reports, host delay in every answer, lowest limit]
    ['a busy balancer (30 ms late): its own delay is not read as the backend queueing', 30, 30, 25],
    ['the sampler reporting nothing: the same answers hold the limit low', 0, 30, 0],
  ])('%s', (_what, reported, delay, lo) => {
    // LIMIT_MIN's default of 2: the backend is never idle, so no idle answer relearns the no-load latency
    const s = { min: 2, max: 200, hostDelayMs: reported };
    const settled = saturate(0.1, 1, 300, s, delay).slice(-50);
    if (lo > 0) expect(Math.min(...settled)).toBeGreaterThanOrEqual(lo);
    else expect(Math.max(...settled)).toBeLessThanOrEqual(3);
  });

  it('host delay does not lift a slow backend that really queues', () => {
    // 10 ms one at a time, the balancer 5 ms late: still one in service and a few ready
    const settled = saturate(10, 1, 300, { ...settings, hostDelayMs: 5 }, 5).slice(-50);
    expect(Math.max(...settled)).toBeLessThanOrEqual(4);
  });

  it('stays within LIMIT_MIN and LIMIT_MAX', () => {
    expect(Math.max(...saturate(200, 50, 400, { min: 1, max: 12 }))).toBeLessThanOrEqual(12);
    expect(Math.min(...saturate(10, 1, 200, { min: 5, max: 200 }))).toBeGreaterThanOrEqual(5);
  });

  it('does not grow while the backend never had half its limit in flight (app-limited)', () => {
    const st = initialLimit(settings);
    for (let i = 0; i < 500; i++) observeAnswer(st, 10, i % 2, false, settings);
    expect(currentLimit(st, undefined)).toBe(INITIAL_LIMIT);
  });

  it('backs off 10 % per failed answer, not below LIMIT_MIN', () => {
    const st = initialLimit(settings);
    observeAnswer(st, 10, 0, true, settings);
    expect(st.limit).toBeCloseTo(INITIAL_LIMIT * 0.9);
    for (let i = 0; i < 100; i++) observeAnswer(st, 10, 0, true, settings);
    expect(st.limit).toBe(1);
  });

  it('keeps its limit when the backend never goes idle (long-lived requests), never pinned to 1', () => {
    const st = initialLimit(settings);
    observeAnswer(st, 10, 0, false, settings);
    for (let i = 0; i < PROBE_AFTER + 50; i++) observeAnswer(st, 20, 1, false, settings);
    expect(currentLimit(st, undefined)).toBeGreaterThan(1);
    // an idle answer still refreshes the no-load estimate
    observeAnswer(st, 12, 0, false, settings);
    expect(st.noLoadMs).toBeGreaterThan(10);
  });

  it('a backend that turns slower is learned: the no-load latency follows its idle answers', () => {
    const st = initialLimit(settings);
    for (let i = 0; i < 20; i++) observeAnswer(st, 4, 0, false, settings);
    expect(st.noLoadMs).toBeCloseTo(4);
    for (let i = 0; i < 60; i++) observeAnswer(st, 16, 0, false, settings);
    expect(st.noLoadMs).toBeGreaterThan(14);
  });

  it('lb.maxconn pins the limit whatever was learned', () => {
    const st = initialLimit(settings);
    for (let i = 0; i < PROBE_AFTER + 5; i++) observeAnswer(st, 20, 3, false, settings);
    expect(currentLimit(st, 7)).toBe(7);
  });
});

describe('lb.maxconn values', () => {
  it.each([
    [undefined, undefined],
    ['4', 4],
    [' 12 ', 12],
    ['1', 1],
    ['0', { invalid: '"0" must be at least 1' }],
    ['-3', { invalid: '"-3" is not a whole number' }],
    ['1.5', { invalid: '"1.5" is not a whole number' }],
    ['many', { invalid: '"many" is not a whole number' }],
    ['', { invalid: '"" is not a whole number' }],
    ['99999999999999999999', { invalid: '"99999999999999999999" is too large' }],
  ])('%j → %j', (value, expected) => {
    expect(parseMaxConn(value)).toEqual(expected);
  });
});
