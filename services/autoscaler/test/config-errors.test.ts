// The README's configuration promise for the autoscaler: an invalid value, or settings that are
// only wrong together, stop it at start with one line per field (name, value, what was
// expected) and exit code 1, no stack trace. The scale-to-zero row: MIN_REPLICAS=0 alone is
// refused, the idle window SCALE_TO_ZERO_AFTER_MS is required. The real built main, spawned.
import { runUntilExit } from '@headroom/testkit';
import { describe, expect, it } from 'vitest';

// a valid start otherwise (the local runtime, deciding only, the balancer's view as the source)
const base = {
  RUNTIME: 'local',
  DRY_RUN: 'true',
  LB_ADMIN_URL: 'http://127.0.0.1:9',
  HOST: undefined,
  ADMIN_PORT: '0',
  ADMIN_TOKEN: undefined,
  ADMIN_TOKEN_FILE: undefined,
  PROMETHEUS_URL: undefined,
};

describe('autoscaler configuration errors: one line per field, exit 1', () => {
  it.each([
    ['a value of the wrong kind', { MAX_REPLICAS: 'many' }, /MAX_REPLICAS="many": /],
    [
      'MIN_REPLICAS=0 without SCALE_TO_ZERO_AFTER_MS',
      { MIN_REPLICAS: '0' },
      /MIN_REPLICAS=.*0.*needs SCALE_TO_ZERO_AFTER_MS/,
    ],
    [
      'MIN_REPLICAS above MAX_REPLICAS',
      { MIN_REPLICAS: '5', MAX_REPLICAS: '2' },
      /MIN_REPLICAS=.*must not exceed MAX_REPLICAS/,
    ],
  ])('%s', async (_name, env, line) => {
    const { code, output } = await runUntilExit('autoscaler', { ...base, ...env });
    expect(code).toBe(1);
    expect(output).toMatch(line);
    expect(output).not.toMatch(/^\s+at /m);
  });
});
