// deploy/healthcheck.sh, the images' Docker HEALTHCHECK, against a real HTTP server: healthy
// only on a 200 from the path, through bash's /dev/tcp when there is bash (no process started
// but the shell: node -e fetch cost ~60 ms of CPU per check) and through node without bash
// (the offline base image). The image tests run it inside the built images.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoPath } from '../src/repo-files.js';

const script = repoPath('deploy/healthcheck.sh');
let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    res.statusCode = req.url === '/health' ? 200 : 503;
    res.end('x');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => server.close());

/** The script's exit code (asynchronous: the server answers from this process). */
function check(path: string, env: NodeJS.ProcessEnv = process.env, p = port): Promise<number | null> {
  return new Promise((resolve) => {
    const child = execFile('/bin/sh', [script, String(p), path], { env, timeout: 10_000 });
    child.on('exit', (code) => resolve(code));
  });
}

/** A PATH holding only node: no bash, so the script takes its node fallback. */
function pathWithoutBash(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hc-nobash-'));
  symlinkSync(process.execPath, join(dir, 'node'));
  return dir;
}

describe('deploy/healthcheck.sh', () => {
  it('with bash: 0 on a 200, 1 on a 503, 1 when nothing listens', async () => {
    expect(spawnSync('sh', ['-c', 'command -v bash']).status).toBe(0);
    expect(await check('/health')).toBe(0);
    expect(await check('/other')).toBe(1);
    expect(await check('/health', process.env, 1)).toBe(1);
  });

  it('without bash it falls back to node: the same answers', async () => {
    const env = { ...process.env, PATH: pathWithoutBash() };
    expect(spawnSync('/bin/sh', ['-c', 'command -v bash'], { env }).status).not.toBe(0);
    expect(await check('/health', env)).toBe(0);
    expect(await check('/other', env)).toBe(1);
    expect(await check('/health', env, 1)).toBe(1);
  });
});
