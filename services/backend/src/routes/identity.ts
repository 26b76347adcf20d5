import type { FastifyPluginAsync } from 'fastify';
import type { BackendContext } from '../app.js';

export const identityRoutes: FastifyPluginAsync<{ ctx: BackendContext }> = async (app, { ctx }) => {
  app.get('/', async () => ({
    instance: ctx.instance,
    hostname: ctx.hostname,
    pid: process.pid,
    version: ctx.version,
  }));
};
