import { describe, expect, it } from 'vitest';
import { loopDelayMs, sampleLoopDelay } from './loop-delay.js';

describe('event-loop delay sampler', () => {
  it.each([
    [10.4, 0.4],
    [9.3, 0],
    [42, 32],
  ])('histogram mean %d ms → %d ms of delay (the resolution is not delay)', (mean, delay) => {
    expect(loopDelayMs(mean)).toBeCloseTo(delay);
  });

  it('reads a loop blocked in 40 ms slices as tens of milliseconds late', async () => {
    const into = { hostDelayMs: 0 };
    const stop = sampleLoopDelay(into, 500);
    const end = Date.now() + 1200;
    await new Promise<void>((done) => {
      const spin = () => {
        const t = Date.now();
        while (Date.now() - t < 40) {}
        if (Date.now() < end) setImmediate(spin);
        else done();
      };
      spin();
    });
    stop();
    expect(into.hostDelayMs).toBeGreaterThan(5);
  });
});
