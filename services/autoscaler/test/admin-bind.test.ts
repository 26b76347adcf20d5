// Safe by default (issue #25 item 5): without ADMIN_TOKEN the autoscaler's admin API (pause,
// resume, wake) listens on loopback only, like the balancer's; with a token it listens on every
// address; a non-loopback HOST without a token is refused at start, naming the field. The real
// built service, DRY_RUN so it starts nothing.
import { networkInterfaces } from 'node:os';
import { freePort, runUntilExit, startAutoscaler } from '@headroom/testkit';
import { describe, expect, it } from 'vitest';

/** An address of this machine other than loopback (the docker0 bridge at least, where Docker runs). */
function outsideAddress(): string {
  for (const addrs of Object.values(networkInterfaces()))
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  throw new Error('this machine has no non-loopback IPv4 address to test the bind address with');
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

const base = {
  RUNTIME: 'local',
  DRY_RUN: 'true',
  // the balancer's view is the metric source; nothing answers there, which is fine for this test
  LB_ADMIN_URL: 'http://127.0.0.1:9',
  HOST: undefined,
  ADMIN_TOKEN: undefined,
  ADMIN_TOKEN_FILE: undefined,
};

describe('autoscaler admin API bind address', () => {
  it('without a token: loopback only', async () => {
    const as = await startAutoscaler(base);
    try {
      expect(await answers(`${as.admin}/healthz`)).toBe(true);
      expect(await answers(`http://${outsideAddress()}:${as.adminPort}/healthz`)).toBe(false);
    } finally {
      await as.stop();
    }
  });

  it('with a token: every address', async () => {
    const as = await startAutoscaler({ ...base, ADMIN_TOKEN: 'bind-test-token' });
    try {
      expect(await answers(`http://${outsideAddress()}:${as.adminPort}/healthz`)).toBe(true);
    } finally {
      await as.stop();
    }
  });

  // services/autoscaler/README.md: 600 requests a minute per client, then 429 with its code
  it('rate-limits each client to 600 requests a minute', async () => {
    const as = await startAutoscaler(base);
    try {
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 610; i++) {
        last = await fetch(`${as.admin}/healthz`);
        statuses.push(last.status);
        if (last.status !== 200) break;
        await last.arrayBuffer();
      }
      const ok = statuses.filter((st) => st === 200).length;
      // the start-up readiness polls spent a few of the 600
      expect(ok).toBeGreaterThan(580);
      expect(ok).toBeLessThanOrEqual(600);
      expect(last?.status).toBe(429);
      expect(await last?.json()).toMatchObject({ statusCode: 429, code: 'AS_ERR_RATE_LIMITED' });
    } finally {
      await as.stop();
    }
  });

  it('a non-loopback HOST without a token is refused at start, naming HOST', async () => {
    const r = await runUntilExit('autoscaler', {
      ...base,
      HOST: '0.0.0.0',
      ADMIN_PORT: String(await freePort()),
    });
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/HOST.*needs ADMIN_TOKEN or ADMIN_TOKEN_FILE/);
    expect(r.output).not.toMatch(/\n\s+at /); // one line, no stack
  });
});
