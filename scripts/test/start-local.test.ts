// `pnpm start` as a user runs it: the balancer, the autoscaler in its local runtime and
// the three backends it starts, all real processes; traffic through the proxy reaches
// every backend, and Ctrl-C leaves nothing running.
import { type ChildProcess, spawn } from 'node:child_process';
import { backendListSchema } from '@headroom/shared';
import { freePort, repoRoot, waitFor } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let stack: ChildProcess;
let output = '';
let proxy: string;
let admin: string;

beforeAll(async () => {
  const [p, a, s] = [await freePort(), await freePort(), await freePort()];
  proxy = `http://127.0.0.1:${p}`;
  admin = `http://127.0.0.1:${a}`;
  stack = spawn(process.execPath, [`${repoRoot}scripts/start-local.mjs`], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(p),
      ADMIN_PORT: String(a),
      AUTOSCALER_PORT: String(s),
      LOG_LEVEL: 'warn',
      OPEN_BROWSER: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  stack.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  stack.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
});

afterAll(async () => {
  if (stack.exitCode === null) {
    stack.kill('SIGKILL');
  }
});

describe('pnpm start (embedded stack)', () => {
  it('brings up three healthy backends behind the balancer', async () => {
    const list = await waitFor(
      async () => {
        if (stack.exitCode !== null) throw new Error(`stack exited: ${output}`);
        const body = backendListSchema.parse(await (await fetch(`${admin}/api/backends`)).json());
        return body.backends.filter((b) => b.state === 'healthy').length >= 3 ? body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, message: 'three healthy backends' },
    );
    expect(list.backends.length).toBe(3);
    expect(output).toContain('Headroom is up');
  });

  it('serves /load from every backend through the proxy', async () => {
    // 8 at a time, as users send them: one request after another always finds every backend
    // idle, and resource-aware then keeps picking the same one (lowest cost, no reason to move)
    const seen = new Set<string>();
    for (let round = 0; round < 10 && seen.size < 3; round++) {
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          const res = await fetch(`${proxy}/load?ms=20`);
          expect(res.status).toBe(200);
          seen.add(((await res.json()) as { instance: string }).instance);
        }),
      );
    }
    expect(seen.size).toBe(3);
  });

  it('stops every process on SIGINT', async () => {
    const ports = backendListSchema
      .parse(await (await fetch(`${admin}/api/backends`)).json())
      .backends.map((b) => b.url);
    stack.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => stack.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
    for (const url of [admin, ...ports]) {
      await expect(fetch(`${url}/health`)).rejects.toThrow();
    }
  });
});
