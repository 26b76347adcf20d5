// `pnpm start` on a terminal prints one readable line per log event (pino-pretty), not JSON
// (issue 15 item 5); piped, it prints JSON (walkthrough.test.ts checks that side). The
// terminal is a real pseudo-terminal from util-linux `script`; Ctrl-C is typed into it.
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort, repoRoot, waitFor } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let term: ChildProcess;
let output = '';
// biome-ignore lint/suspicious/noControlCharactersInRegex: the colour codes pino-pretty writes
const plain = () => output.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');

beforeAll(async () => {
  const [p, a, s] = [await freePort(), await freePort(), await freePort()];
  const cmd = `exec '${process.execPath}' '${repoRoot}scripts/start-local.mjs'`;
  term = spawn('script', ['-qfec', cmd, '/dev/null'], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(p),
      ADMIN_PORT: String(a),
      AUTOSCALER_PORT: String(s),
      REPLICAS: '1',
      LOG_LEVEL: 'info',
      // whatever the caller's shell had: the terminal decides
      LOG_PRETTY: undefined,
      OPEN_BROWSER: 'false',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  term.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  term.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  await waitFor(() => plain().includes('local replica started'), {
    timeoutMs: 60_000,
    intervalMs: 200,
    message: 'the stack is up on a terminal',
  }).catch((err: Error) => {
    throw new Error(`${err.message}\n${plain()}`);
  });
});

afterAll(async () => {
  if (term.exitCode === null) term.kill('SIGKILL');
});

describe('pnpm start on a terminal', () => {
  it('prints one readable line per event, from every service, and no JSON', () => {
    const text = plain();
    expect(text).toContain('Headroom is up');
    for (const service of ['load-balancer', 'autoscaler', 'backend'])
      expect(text).toMatch(new RegExp(`^\\[\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\] INFO \\(${service}\\): `, 'm'));
    expect(text).toMatch(/INFO \(autoscaler\): local replica started \{"replica":"backend-1",/);
    expect(text).not.toContain('{"level":');
  });

  it('Ctrl-C stops it', async () => {
    term.stdin?.write('\x03');
    const code = await new Promise<number | null>((resolve) => term.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
  });
});
