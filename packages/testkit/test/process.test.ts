// A service that dies at start is reported at once, with its exit and its last words, not at
// the end of the readiness timeout: a test that starts a misconfigured balancer fails in
// milliseconds with the reason instead of 20 s later with "timed out".
import { describe, expect, it } from 'vitest';
import { freePort } from '../src/free-port.js';
import { startProcess, waitReady } from '../src/stack/process.js';

// prints a reason and exits 3 before it ever listens
const dies = () =>
  startProcess({
    command: process.execPath,
    args: ['-e', `console.error('config refused: PORT'); process.exit(3)`],
    name: 'dies-at-start',
  });

describe('startProcess', () => {
  it('waitReady rejects as soon as the process exits, with the exit code and the output', async () => {
    const url = `http://127.0.0.1:${await freePort()}/healthz`;
    const started = Date.now();
    // the readiness timeout is 20 s; an exit must be reported far sooner (5 s leaves a loaded
    // machine ample room to spawn node and see it exit)
    await expect(waitReady(dies(), url, 'dies-at-start', 20_000)).rejects.toThrow(
      /dies-at-start exited \(code 3\)[\s\S]*config refused: PORT/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('waitForOutput rejects as soon as the process exits, with the output', async () => {
    const started = Date.now();
    await expect(dies().waitForOutput('listening', 20_000)).rejects.toThrow(
      /dies-at-start exited \(code 3\)[\s\S]*config refused: PORT/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
