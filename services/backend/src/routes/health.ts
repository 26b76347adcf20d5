import type { FastifyPluginAsync } from 'fastify';
import type { BackendContext } from '../app.js';

export const healthRoutes: FastifyPluginAsync<{ ctx: BackendContext }> = async (app, { ctx }) => {
  app.get('/health', async (_req, reply) => {
    if (ctx.shuttingDown) return reply.status(503).send({ status: 'shutting-down', instance: ctx.instance });
    return { status: 'ok', instance: ctx.instance };
  });
};
