import { LOG_LEVELS } from '../logger.js';
import { env } from './env-fields.js';

/** Fields every service reads. */
export const loggingFields = {
  LOG_LEVEL: env.oneOf(LOG_LEVELS)('info', 'Log level: fatal, error, warn, info, debug, trace or silent.'),
  LOG_PRETTY: env.bool(false, 'Human-readable logs for a terminal instead of JSON lines.'),
};
