// The Engine API client against the real engine (integration tier: needs the Docker socket).
import { describe, expect, it } from 'vitest';
import { EngineApiError, EngineClient } from '../src/discovery/engine-api.js';

describe('EngineClient (real engine)', () => {
  it('lists, and a missing container is an EngineApiError with status 404 and the engine message', async () => {
    const c = new EngineClient({ socketPath: '/var/run/docker.sock' });
    try {
      expect(Array.isArray(await c.listContainers({ all: true, filters: { label: ['lb.enable'] } }))).toBe(
        true,
      );
      const err = await c
        .getContainer('no-such-container-headroom')
        .inspect()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineApiError);
      expect((err as EngineApiError).statusCode).toBe(404);
      expect((err as Error).message).toMatch(/no such container/i);
    } finally {
      await c.close();
    }
  });
});
