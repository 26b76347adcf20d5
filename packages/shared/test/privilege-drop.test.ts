// runAsConfiguredUser for real: a child Node process started as root (this test runs as root,
// as CI does) calls it, as main.ts does, and then opens a Unix socket that is root:<gid> 0660,
// a gid no user here has: it can only get in through the supplementary group the drop kept.
// The built module is used (dist/, `./dev build` makes it), as the services use it.
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const DIST = new URL('../dist/index.js', import.meta.url);
const SOCKET_GID = 4242;
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

let dir = '';
let socket = '';
let server: Server;

// What the child does: the drop first (as a service's main.ts), then it reports its ids, whether
// it can become root again, and what connecting to the socket gave.
const CHILD = `
import { connect } from 'node:net';
const { createLogger, runAsConfiguredUser } = await import(process.env.SHARED_DIST);
const log = createLogger({ service: 'privilege-test', level: 'info' });
const sockets = process.env.SOCKETS ? process.env.SOCKETS.split(',') : [];
const r = runAsConfiguredUser('privilege-test', log, sockets);
let regained = false;
try { process.setuid(0); regained = process.getuid() === 0; } catch {}
const reply = await new Promise((resolve) => {
  const c = connect(process.env.SOCKET_PATH);
  c.once('data', (d) => { resolve(d.toString()); c.destroy(); });
  c.once('error', (e) => resolve(e.code));
});
process.stdout.write('RESULT ' + JSON.stringify({
  uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(),
  plan: r.plan, unreachable: r.unreachable, regained, reply,
}) + '\\n');
`;

interface ChildResult {
  status: number | null;
  stderr: string;
  logs: Array<Record<string, unknown>>;
  result?: {
    uid: number;
    gid: number;
    groups: number[];
    plan: { action: string; reason?: string };
    unreachable: string[];
    regained: boolean;
    reply: string;
  };
}

// Asynchronous: the socket's server answers from this process's event loop.
function child(env: Record<string, string>, as?: { uid: number; gid: number }): Promise<ChildResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', CHILD],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', SHARED_DIST: DIST.href, SOCKET_PATH: socket, ...env },
        timeout: 20_000,
        ...(as ?? {}),
      },
      (err, stdout, stderr) => {
        const lines = stdout.split('\n').filter(Boolean);
        const resultLine = lines.find((l) => l.startsWith('RESULT '));
        resolve({
          status: err ? ((err as { code?: number }).code ?? null) : 0,
          stderr,
          logs: lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
          ...(resultLine ? { result: JSON.parse(resultLine.slice('RESULT '.length)) } : {}),
        });
      },
    );
  });
}

describe.runIf(isRoot)('runAsConfiguredUser, started as root', () => {
  beforeAll(async () => {
    if (!existsSync(DIST)) throw new Error(`${DIST.pathname} is missing: run ./dev build first`);
    dir = mkdtempSync(join(tmpdir(), 'headroom-privilege-'));
    chmodSync(dir, 0o755);
    socket = join(dir, 'engine.sock');
    server = createServer((c) => c.end('hello'));
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    // as the Docker socket on a host: owned by root, group <gid>, rw for both, nothing for others
    chownSync(socket, 0, SOCKET_GID);
    chmodSync(socket, 0o660);
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('drops to RUN_AS keeping the socket group, reaches the socket through it only, and cannot regain root', async () => {
    const r = await child({ RUN_AS: 'nobody', SOCKETS: socket });
    expect(r.status, r.stderr).toBe(0);
    expect(r.result).toMatchObject({ uid: NOBODY, gid: NOBODY, regained: false, reply: 'hello' });
    expect(r.result?.groups.sort()).toEqual([SOCKET_GID, NOBODY].sort());
    expect(r.result?.unreachable).toEqual([]);
    // logged once, with what it now runs as
    const dropped = r.logs.filter((l) => String(l.msg).startsWith('dropped root'));
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatchObject({ uid: NOBODY, gid: NOBODY, runAs: 'nobody' });
    expect([...((dropped[0]?.groups as number[] | undefined) ?? [])].sort()).toEqual(
      [SOCKET_GID, NOBODY].sort(),
    );
  });

  it('without the socket group the same user is refused by the socket, and says so', async () => {
    // the socket not among the service's sockets: no group kept for it (the control case)
    const r = await child({ RUN_AS: 'nobody', SOCKETS: '' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.result).toMatchObject({ uid: NOBODY, groups: [NOBODY], reply: 'EACCES' });
  });

  it('logs a warning when a socket stays unreachable after the drop (mode without group rw)', async () => {
    chmodSync(socket, 0o600);
    try {
      const r = await child({ RUN_AS: 'nobody', SOCKETS: socket });
      expect(r.status, r.stderr).toBe(0);
      expect(r.result).toMatchObject({ uid: NOBODY, reply: 'EACCES', unreachable: [socket] });
      expect(
        r.logs.some((l) => l.level === 40 && String(l.msg).includes(`cannot read and write ${socket}`)),
      ).toBe(true);
    } finally {
      chmodSync(socket, 0o660);
    }
  });

  it('stays root when RUN_AS is empty, and logs it', async () => {
    const r = await child({ RUN_AS: '', SOCKETS: socket });
    expect(r.status, r.stderr).toBe(0);
    expect(r.result).toMatchObject({ uid: 0, plan: { action: 'keep', reason: 'no-run-as' }, reply: 'hello' });
    expect(r.logs.some((l) => l.msg === 'running as root: RUN_AS is empty')).toBe(true);
  });

  it('refuses to start when RUN_AS names no user: the field and the reason, exit 1', async () => {
    const r = await child({ RUN_AS: 'no-such-user', SOCKETS: socket });
    expect(r.status).toBe(1);
    expect(r.result).toBeUndefined();
    expect(r.stderr).toContain('invalid configuration for privilege-test:');
    expect(r.stderr).toContain('RUN_AS="no-such-user": no user "no-such-user" in /etc/passwd');
  });

  it('not root: continues as it is, whatever RUN_AS says, and warns that the socket is out of reach', async () => {
    const r = await child({ RUN_AS: 'no-such-user', SOCKETS: socket }, { uid: NOBODY, gid: NOBODY });
    expect(r.status, r.stderr).toBe(0);
    expect(r.result).toMatchObject({
      uid: NOBODY,
      plan: { action: 'keep', reason: 'not-root' },
      reply: 'EACCES',
      unreachable: [socket],
    });
  });
});
