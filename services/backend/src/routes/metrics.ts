import type { FastifyPluginAsync } from 'fastify';
import type { BackendContext } from '../app.js';

export const metricsRoutes: FastifyPluginAsync<{ ctx: BackendContext }> = async (app, { ctx }) => {
  app.get('/metrics', async (_req, reply) => {
    const body = await ctx.telemetry.registry.metrics();
    return reply.type(ctx.telemetry.registry.contentType).send(body);
  });
};
