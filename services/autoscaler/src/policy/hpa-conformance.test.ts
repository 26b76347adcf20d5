// Kubernetes HPA conformance (issue #25): the replica calculator's and the stabilization and
// limit cases of kubernetes/kubernetes pkg/controller/podautoscaler (attribution and mapping in
// hpa-conformance.cases.ts), run through Headroom's pure policy. A case where Headroom decides
// otherwise on purpose carries our count and the reason, and docs/architecture.md lists it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decide } from './decide.js';
import { CALC_CASES, LIMIT_CASES, STABILIZE_CASES } from './hpa-conformance.cases.js';
import { recommendForMetric } from './replica-ratio.js';
import { stabilize } from './stabilization.js';

const TOLERANCE = 0.1;

describe('HPA replica calculator cases (replica_calculator_test.go)', () => {
  it.each(CALC_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = recommendForMetric({ metric: 'cpu', target: c.target, values: c.values }, c.current, TOLERANCE);
    expect(r.recommendation).toBe(c.ours ?? c.hpa);
  });

  it('every case that differs says why, and docs/architecture.md lists it', () => {
    const doc = readFileSync(new URL('../../../../docs/architecture.md', import.meta.url), 'utf8');
    const differing = CALC_CASES.filter((c) => c.ours !== undefined);
    expect(differing.length).toBeGreaterThan(0);
    for (const c of differing) {
      expect(c.why, c.name).toBeTruthy();
      expect(c.ours, c.name).not.toBe(c.hpa);
      expect(doc, c.name).toContain(`\`${c.name}\``);
    }
    // most cases agree: the differences are the listed ones, nothing else
    expect(CALC_CASES.length - differing.length).toBe(41);
  });
});

describe('HPA stabilization cases (horizontal_test.go TestNormalizeDesiredReplicas[WithBehavior])', () => {
  const NOW = 1_000_000_000;
  it.each(STABILIZE_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const history = c.history.map(([replicas, ago]) => ({ at: NOW - ago * 1000, replicas }));
    const r = stabilize(
      history,
      c.recommendation,
      c.current,
      NOW,
      (c.upWindowS ?? 0) * 1000,
      (c.downWindowS ?? 300) * 1000,
    );
    expect(r.replicas).toBe(c.hpa);
  });
});

describe('HPA limit cases (horizontal_test.go TestConvertDesiredReplicasWithRules)', () => {
  it.each(LIMIT_CASES.map((c) => [c.annotation, c] as const))('%s', (_name, c) => {
    // one metric whose per-replica value asks for exactly `desired` replicas
    const r = decide({
      now: 0,
      current: c.current,
      ready: c.current,
      readings: [{ metric: 'rps', target: 1, values: Array(c.current).fill(c.desired / c.current) }],
      settings: {
        // awake, Headroom's floor is 1 as the HPA's is (min 0 is a sleep, decided elsewhere)
        min: Math.max(1, c.min),
        max: c.max,
        tolerance: TOLERANCE,
        scaleUpWindowMs: 0,
        scaleDownWindowMs: 0,
        scaleUpMaxFactor: 2,
        scaleDownMaxStep: 1000,
      },
      history: [],
    });
    expect(r.desired).toBe(c.hpa);
    expect(r.reason).toBe(c.reason);
  });
});
