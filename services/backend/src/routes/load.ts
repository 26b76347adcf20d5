// GET /load?ms=N: N ms of real CPU on the request path, like a CPU-bound service.
import { loadQuerySchema } from '@headroom/shared';
import type { FastifyPluginAsync } from 'fastify';
import type { BackendContext } from '../app.js';
import { spinCpu } from '../work/spin-cpu.js';
import { parseOr400 } from './validation.js';

export const loadRoutes: FastifyPluginAsync<{ ctx: BackendContext }> = async (app, { ctx }) => {
  app.get('/load', async (req) => {
    const { ms } = parseOr400(loadQuerySchema, req.query, 'query');
    const elapsedMs = spinCpu(ms);
    ctx.telemetry.loadDuration.observe(elapsedMs / 1000);
    return { instance: ctx.instance, requestedMs: ms, elapsedMs: Math.round(elapsedMs * 100) / 100 };
  });
};
