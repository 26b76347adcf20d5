// `pnpm start` on a terminal prints one readable line per log event (pino-pretty), not JSON
// (issue 15 item 5); piped, it prints JSON (walkthrough.test.ts checks that side). The
// terminal is a real pseudo-terminal from util-linux `script`; Ctrl-C is typed into it.
import { type LocalStack, startLocalStack, waitFor } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let term: LocalStack;
// the colour codes pino-pretty writes, then carriage returns
const COLOURS = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const plain = () => term.output().replace(COLOURS, '').replace(/\r/g, '');

beforeAll(async () => {
  term = await startLocalStack({
    terminal: true,
    // whatever the caller's shell had: the terminal decides
    env: { REPLICAS: '1', LOG_LEVEL: 'info', LOG_PRETTY: undefined },
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
  await term?.stop(0, 'SIGKILL');
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
    term.child.stdin?.write('\x03');
    const code = await term.exited;
    expect(code).toBe(0);
  });
});
