// The admin token's sources: a table for the decision, then the real file system (a temp
// directory) for what the balancer and the autoscaler do with ADMIN_TOKEN_FILE.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AdminTokenError, planAdminToken, resolveAdminToken } from './admin-token.js';
import { loadBalancerConfigSchema } from './load-balancer.js';
import { ConfigError, parseConfig } from './load-config.js';

describe('planAdminToken', () => {
  it.each([
    {
      envToken: 'e',
      file: '/f',
      fileToken: 'x',
      create: true,
      want: { action: 'use', token: 'e', source: 'env' },
    },
    {
      envToken: 'e',
      file: undefined,
      fileToken: undefined,
      create: false,
      want: { action: 'use', token: 'e', source: 'env' },
    },
    {
      envToken: '',
      file: '/f',
      fileToken: 'x',
      create: false,
      want: { action: 'use', token: 'x', source: 'file' },
    },
    {
      envToken: undefined,
      file: '/f',
      fileToken: 'x',
      create: true,
      want: { action: 'use', token: 'x', source: 'file' },
    },
    { envToken: undefined, file: '/f', fileToken: undefined, create: true, want: { action: 'generate' } },
    { envToken: undefined, file: '/f', fileToken: '', create: true, want: { action: 'generate' } },
    { envToken: undefined, file: '/f', fileToken: undefined, create: false, want: { action: 'wait' } },
    { envToken: undefined, file: undefined, fileToken: undefined, create: true, want: { action: 'none' } },
  ] as const)('env $envToken, file $file ($fileToken), create $create', ({ want, ...input }) => {
    expect(planAdminToken(input)).toEqual(want);
  });
});

interface Line {
  level: 'info' | 'warn';
  obj: Record<string, unknown>;
  msg: string;
}
function recorder() {
  const lines: Line[] = [];
  const log = {
    info: (obj: Record<string, unknown>, msg: string) => lines.push({ level: 'info', obj, msg }),
    warn: (obj: Record<string, unknown>, msg: string) => lines.push({ level: 'warn', obj, msg }),
  } as unknown as Parameters<typeof resolveAdminToken>[0]['log'];
  return { lines, log };
}

describe('resolveAdminToken on the real file system', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'headroom-token-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('generates a token into an absent file (0600), logs it once, and reads the same one after a restart', async () => {
    const file = join(dir, 'sub', 'admin-token');
    const first = recorder();
    const a = await resolveAdminToken({ envToken: undefined, file, create: true, log: first.log });
    expect(a.source).toBe('generated');
    expect(a.token).toMatch(/^[0-9a-f]{48}$/);
    expect(readFileSync(file, 'utf8').trim()).toBe(a.token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const generated = first.lines.filter((l) => l.msg.includes('admin token generated'));
    expect(generated).toHaveLength(1);
    expect(generated[0]?.level).toBe('warn');
    expect(generated[0]?.msg).toContain(a.token);
    expect(generated[0]?.msg).toContain(file);

    const second = recorder();
    const b = await resolveAdminToken({ envToken: undefined, file, create: true, log: second.log });
    expect(b).toEqual({ token: a.token, source: 'file' });
    expect(second.lines.some((l) => l.msg.includes('admin token generated'))).toBe(false);
  });

  it('lets ADMIN_TOKEN win over the file, which it leaves alone', async () => {
    const file = join(dir, 'admin-token');
    writeFileSync(file, 'from-file\n');
    const { log } = recorder();
    expect(await resolveAdminToken({ envToken: 'from-env', file, create: true, log })).toEqual({
      token: 'from-env',
      source: 'env',
    });
    expect(readFileSync(file, 'utf8')).toBe('from-file\n');
  });

  it('without create (the autoscaler) waits for the file the balancer writes', async () => {
    const file = join(dir, 'admin-token');
    const { log, lines } = recorder();
    setTimeout(() => writeFileSync(file, 'late-token\n'), 300);
    const t0 = Date.now();
    const r = await resolveAdminToken({
      envToken: undefined,
      file,
      create: false,
      waitMs: 5000,
      pollMs: 50,
      log,
    });
    expect(r).toEqual({ token: 'late-token', source: 'file' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(lines.some((l) => l.msg.startsWith('waiting for the admin token'))).toBe(true);
  });

  it('without create, gives up after waitMs with the field and the reason', async () => {
    const file = join(dir, 'admin-token');
    const { log } = recorder();
    await expect(
      resolveAdminToken({ envToken: undefined, file, create: false, waitMs: 200, pollMs: 50, log }),
    ).rejects.toThrow(/ADMIN_TOKEN_FILE .*no token after 200 ms/);
  });

  it('fails with the field and the reason when the file cannot be created', async () => {
    // /proc refuses new files even to root (a read-only directory would not stop root)
    const { log } = recorder();
    const err = await resolveAdminToken({
      envToken: undefined,
      file: '/proc/self/headroom-admin-token',
      create: true,
      log,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdminTokenError);
    expect(String(err)).toMatch(
      /ADMIN_TOKEN_FILE \/proc\/self\/headroom-admin-token: absent and cannot be created/,
    );
  });

  it('fails with the field and the reason when the file cannot be read', async () => {
    const notADir = join(dir, 'plain');
    writeFileSync(notADir, '');
    const { log } = recorder();
    const err = await resolveAdminToken({
      envToken: undefined,
      file: join(notADir, 'admin-token'),
      create: true,
      log,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdminTokenError);
    expect(String(err)).toMatch(/ADMIN_TOKEN_FILE .*: cannot be read/);
  });
});

describe('load-balancer config with ADMIN_TOKEN_FILE', () => {
  it('accepts a non-loopback ADMIN_HOST with a token file (it always yields a token)', () => {
    const cfg = parseConfig('load-balancer', loadBalancerConfigSchema, {
      ADMIN_HOST: '0.0.0.0',
      ADMIN_TOKEN_FILE: '/var/lib/headroom/admin-token',
    });
    expect(cfg.ADMIN_TOKEN_FILE).toBe('/var/lib/headroom/admin-token');
    expect(() => parseConfig('load-balancer', loadBalancerConfigSchema, { ADMIN_HOST: '0.0.0.0' })).toThrow(
      ConfigError,
    );
  });
});
