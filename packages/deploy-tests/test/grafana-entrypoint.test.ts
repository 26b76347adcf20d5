// grafana/entrypoint.sh, the compose stack's Grafana entrypoint, run for real by sh and by
// busybox sh (Grafana's image is Alpine) with a stand-in for Grafana's /run.sh that prints
// the password it was given: generated once and kept, or GRAFANA_ADMIN_PASSWORD when set.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { repoPath } from '../src/repo-files.js';

const shells = [['sh'], ['busybox', 'sh']].filter(
  ([cmd, ...args]) => spawnSync(cmd as string, [...args, '-c', 'true']).status === 0,
);

describe.each(shells)('grafana/entrypoint.sh under %s', (...shell) => {
  let dir: string;
  const run = (env: Record<string, string> = {}) => {
    const res = spawnSync(
      shell[0] as string,
      [...shell.slice(1), repoPath('grafana/entrypoint.sh'), 'arg1'],
      {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH ?? '',
          GRAFANA_PASSWORD_FILE: join(dir, 'pw'),
          GRAFANA_ENTRYPOINT: join(dir, 'run.sh'),
          ...env,
        },
      },
    );
    if (res.status !== 0) throw new Error(res.stderr);
    return res.stdout;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'headroom-grafana-'));
    writeFileSync(
      join(dir, 'run.sh'),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell script, not a template
      '#!/bin/sh\necho "run: $GF_SECURITY_ADMIN_PASSWORD $* ${GRAFANA_ADMIN_PASSWORD:-unset}"\n',
      {
        mode: 0o755,
      },
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('generates a password on the first start, logs it once, keeps it (0600) for the next', () => {
    const first = run();
    const pw = readFileSync(join(dir, 'pw'), 'utf8');
    expect(pw).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(statSync(join(dir, 'pw')).mode & 0o777).toBe(0o600);
    expect(first).toContain(`grafana admin password generated: ${pw}`);
    expect(first).toContain(`run: ${pw} arg1 unset`);
    const second = run();
    expect(second).not.toContain('generated');
    expect(second).toContain(`run: ${pw} arg1`);
  });

  it('uses GRAFANA_ADMIN_PASSWORD when set, and writes nothing', () => {
    expect(run({ GRAFANA_ADMIN_PASSWORD: 'mine' })).toBe('run: mine arg1 unset\n');
    expect(() => statSync(join(dir, 'pw'))).toThrow();
  });
});
