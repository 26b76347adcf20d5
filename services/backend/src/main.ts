// Stress backend entry point: config, logger, server, signals.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { backendConfigSchema, createLogger, loadConfig } from '@headroom/shared';
import { buildApp } from './app.js';
import { readLimits } from './resource-limits.js';
import { installShutdown } from './shutdown.js';

const config = loadConfig('backend', backendConfigSchema);
const logger = createLogger({ service: 'backend', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const hostname = os.hostname();
const limits = readLimits();
const { app, ctx } = buildApp(config, logger, {
  instance: config.INSTANCE_ID ?? hostname,
  hostname,
  version: pkg.version,
  limits,
});
installShutdown(app, ctx, logger, config.SHUTDOWN_GRACE_MS);

try {
  const address = await app.listen({ port: config.PORT, host: config.HOST });
  logger.info(
    {
      address,
      instance: ctx.instance,
      cpuLimit: limits.cpuCores,
      cpuLimitFrom: limits.cpuSource,
      burnerMaxThreads: ctx.burner.current.maxCores,
      memoryLimit: limits.memoryBytes,
    },
    'backend listening',
  );
} catch (err) {
  logger.fatal({ err }, 'could not start');
  process.exit(1);
}
