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

/**
 * pino-pretty for a person at a terminal: one line per event (`12:00:01.234 INFO
 * (autoscaler): local replica started {"replica":"backend-4",…}`), the service name once
 * (it is the logger's name), no pid or hostname (one machine, several processes).
 */
export const PRETTY_OPTIONS = {
  colorize: true,
  singleLine: true,
  translateTime: 'SYS:HH:MM:ss.l',
  ignore: 'pid,hostname,service',
} as const;

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
      transport: { target: 'pino-pretty', options: PRETTY_OPTIONS },
    });
  }
  return pino(options);
}
