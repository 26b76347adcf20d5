// A service's settings from its autoscale.* labels over the environment's defaults, or
// ConfigInvalid naming the container and the label.
import { describe, expect, it } from 'vitest';
import { type SettingsDefaults, serviceSettings } from './service-settings.js';

const defaults: SettingsDefaults = {
  policy: {
    min: 1,
    max: 10,
    tolerance: 0.1,
    scaleUpWindowMs: 0,
    scaleDownWindowMs: 60_000,
    scaleUpMaxFactor: 2,
    scaleDownMaxStep: 1,
  },
  targets: [{ metric: 'cpu', target: 0.6 }],
  idleAfterMs: undefined,
  wakeRequestsPerReplica: 10,
  canSleep: true,
};
const src = (name: string, labels: Record<string, string>) => ({
  name,
  labels: { 'autoscale.enable': 'true', ...labels },
});

describe('serviceSettings', () => {
  it('no labels: the environment', () => {
    const r = serviceSettings(defaults, []);
    expect(r.ok && r.settings).toMatchObject({ policy: { min: 1, max: 10 }, targets: [{ metric: 'cpu' }] });
  });
  it('labels override bounds; the metrics named are the ones used', () => {
    const r = serviceSettings(defaults, [
      src('shop-web', { 'autoscale.min': '2', 'autoscale.max': '4', 'autoscale.target.concurrency': '5' }),
    ]);
    expect(r.ok && r.settings.policy).toMatchObject({ min: 2, max: 4, tolerance: 0.1 });
    expect(r.ok && r.settings.targets).toEqual([{ metric: 'concurrency', target: 5 }]);
  });
  it("the first (the user's) container sets the values; every labelled one must be valid", () => {
    const r = serviceSettings(defaults, [
      src('shop-web', { 'autoscale.max': '4' }),
      src('shop-1', { 'autoscale.max': 'x' }),
    ]);
    expect(r).toEqual({
      ok: false,
      container: 'shop-1',
      label: 'autoscale.max',
      message: 'expected an integer 0..1000, got "x"',
    });
  });
  it('a label min above the env max is ConfigInvalid', () => {
    const r = serviceSettings(defaults, [src('a', { 'autoscale.min': '12' })]);
    expect(r.ok ? null : [r.container, r.label]).toEqual(['a', 'autoscale.min']);
  });
  it('min 0 needs an idle window (lb.idle.after or SCALE_TO_ZERO_AFTER_MS)', () => {
    expect(serviceSettings(defaults, [src('a', { 'autoscale.min': '0' })]).ok).toBe(false);
    const r = serviceSettings(defaults, [src('a', { 'autoscale.min': '0', 'lb.idle.after': '30000' })]);
    expect(r.ok && r.settings.scaleToZero).toEqual({ idleAfterMs: 30_000, wakeRequestsPerReplica: 10 });
    // awake, the ordinary policy never goes below 1
    expect(r.ok && r.settings.policy.min).toBe(1);
  });
  it('no balancer: min 0 cannot sleep and runs as 1', () => {
    const r = serviceSettings({ ...defaults, canSleep: false, idleAfterMs: 5000 }, [
      src('a', { 'autoscale.min': '0' }),
    ]);
    expect(r.ok && r.settings.scaleToZero).toBeUndefined();
    expect(r.ok && r.settings.policy.min).toBe(1);
  });
});
