// Graceful stop on SIGTERM/SIGINT: /health answers 503 at once (so balancers stop sending),
// the listener closes (no new connections), in-flight requests finish, and the process
// exits within the grace period whatever happens.
import type { Logger } from '@headroom/shared';
import type { FastifyInstance } from 'fastify';
import type { BackendContext } from './app.js';

export function installShutdown(
  app: FastifyInstance,
  ctx: BackendContext,
  logger: Logger,
  graceMs: number,
): void {
  let started = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (started) return;
    started = true;
    ctx.shuttingDown = true;
    logger.info({ signal, graceMs }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => {
      logger.warn({ graceMs }, 'grace period over: exiting with requests still in flight');
      process.exit(1);
    }, graceMs);
    force.unref();
    Promise.all([ctx.burner.stop(), app.close()])
      .then(() => {
        ctx.memory.free();
        logger.info('stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'error while shutting down');
        process.exit(1);
      });
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
