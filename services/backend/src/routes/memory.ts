// POST /memory {mb} holds memory, DELETE /memory frees it, GET /memory reports.
import { memoryBodySchema } from '@headroom/shared';
import type { FastifyPluginAsync } from 'fastify';
import type { BackendContext } from '../app.js';
import { MemoryCapError } from '../errors.js';
import { parseOr400 } from './validation.js';

export const memoryRoutes: FastifyPluginAsync<{ ctx: BackendContext }> = async (app, { ctx }) => {
  const state = () => {
    ctx.telemetry.memoryHeld.set(ctx.memory.heldMb * 1024 * 1024);
    return { heldMb: ctx.memory.heldMb, capMb: ctx.memory.capMb };
  };
  app.get('/memory', async () => state());
  app.post('/memory', async (req) => {
    const { mb } = parseOr400(memoryBodySchema, req.body, 'body');
    if (!ctx.memory.add(mb)) throw new MemoryCapError(mb, ctx.memory.capMb, ctx.memory.heldMb);
    return state();
  });
  app.delete('/memory', async () => {
    ctx.memory.free();
    return state();
  });
};
