// POST /cpu/toggle and GET /cpu: the background CPU burner.
import { cpuToggleBodySchema } from '@headroom/shared';
import type { FastifyPluginAsync } from 'fastify';
import type { BackendContext } from '../app.js';
import { parseOr400 } from './validation.js';

export const cpuRoutes: FastifyPluginAsync<{ ctx: BackendContext }> = async (app, { ctx }) => {
  const publish = () => {
    const s = ctx.burner.current;
    ctx.telemetry.burnerActive.set(s.on ? 1 : 0);
    ctx.telemetry.burnerThreads.set(s.on ? s.cores : 0);
    ctx.telemetry.burnerDuty.set(s.duty);
    return s;
  };
  publish();
  app.get('/cpu', async () => publish());
  app.post('/cpu/toggle', async (req) => {
    const body = parseOr400(cpuToggleBodySchema, req.body ?? {}, 'body');
    await ctx.burner.apply(body);
    const state = publish();
    req.log.info({ burner: state }, 'cpu burner changed');
    return state;
  });
};
