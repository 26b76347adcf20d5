// The recording rules the autoscaler's default queries read: promtool accepts them, its
// rule unit tests pass, and they record exactly the series named in shared RECORDED_SERIES.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { RECORDED_SERIES, SCALE_METRICS } from '@headroom/shared';
import { PROMTOOL_BIN, repoRoot } from '@headroom/testkit';
import { describe, expect, it } from 'vitest';
import { defaultQuery } from '../src/observe/queries.js';

const rules = `${repoRoot}prometheus/rules/headroom.rules.yml`;

describe('prometheus/rules/headroom.rules.yml', () => {
  it('passes promtool check rules and its rule unit tests', () => {
    expect(execFileSync(PROMTOOL_BIN, ['check', 'rules', rules]).toString()).toContain('SUCCESS');
    execFileSync(PROMTOOL_BIN, ['test', 'rules', `${repoRoot}prometheus/rules/headroom.rules.test.yml`]);
  });

  it('records every series the default queries read', () => {
    const recorded = [...readFileSync(rules, 'utf8').matchAll(/^\s*- record: (\S+)/gm)].map((m) => m[1]);
    expect(recorded.sort()).toEqual(Object.values(RECORDED_SERIES).sort());
    for (const metric of SCALE_METRICS) {
      const series = defaultQuery(metric, 'web').split('{')[0];
      expect(recorded).toContain(series);
    }
  });
});
