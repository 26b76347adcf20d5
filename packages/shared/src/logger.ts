// createLogger: the one pino setup for every service. JSON on stdout by default (what
// log shippers want); LOG_PRETTY=true or LOG_FORMAT=pretty gives a readable terminal.
import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerSettings {
  service: string;
  level?: LogLevel | undefined;
  pretty?: boolean | undefined;
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    name: settings.service,
    level: settings.level ?? 'info',
    base: { service: settings.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Never log credentials that pass through the admin APIs.
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', '*.token'],
      censor: '[redacted]',
    },
  };
  if (settings.pretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } },
    });
  }
  return pino(options);
}
