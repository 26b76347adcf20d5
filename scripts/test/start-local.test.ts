// `pnpm start` as a user runs it: the balancer, the autoscaler in its local runtime and
// the three backends it starts, all real processes; traffic through the proxy reaches
// every backend, and Ctrl-C leaves nothing running.
import { backendListSchema } from '@headroom/shared';
import { type LocalStack, startLocalStack, waitFor } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let stack: LocalStack;
let proxy: string;
let admin: string;

beforeAll(async () => {
  stack = await startLocalStack();
  proxy = stack.proxy;
  admin = stack.admin;
});

afterAll(async () => {
  await stack?.stop(0, 'SIGKILL');
});

describe('pnpm start (embedded stack)', () => {
  it('brings up three healthy backends behind the balancer', async () => {
    const list = await waitFor(
      async () => {
        if (stack.child.exitCode !== null) throw new Error(`stack exited: ${stack.output()}`);
        const body = backendListSchema.parse(await (await fetch(`${admin}/api/backends`)).json());
        return body.backends.filter((b) => b.state === 'healthy').length >= 3 ? body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, message: 'three healthy backends' },
    );
    expect(list.backends.length).toBe(3);
    expect(stack.output()).toContain('Headroom is up');
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
    const code = await stack.stop(30_000, 'SIGINT');
    expect(code).toBe(0);
    for (const url of [admin, ...ports]) {
      await expect(fetch(`${url}/health`)).rejects.toThrow();
    }
  });
});
