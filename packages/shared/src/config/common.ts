import { LOG_LEVELS } from '../logger.js';
import { env } from './env-fields.js';

/** Fields every service reads. */
export const loggingFields = {
  LOG_LEVEL: env.oneOf(LOG_LEVELS)('info', 'Log level: fatal, error, warn, info, debug, trace or silent.'),
  LOG_PRETTY: env.bool(false, 'Human-readable logs for a terminal instead of JSON lines.'),
};

/**
 * Why a Docker engine address (DOCKER_HOST, an entry of DOCKER_HOSTS) cannot be used, or
 * undefined when it can: the balancer speaks to engines at unix:///path or tcp://host[:port]
 * (http:// and https:// too), not ssh:// as the docker CLI does.
 */
export function engineAddressProblem(address: string, bareSocketPath = false): string | undefined {
  if (bareSocketPath && address.startsWith('/')) return undefined;
  if (address.startsWith('unix://'))
    return address.length > 'unix://'.length
      ? undefined
      : 'unix:// needs a socket path (unix:///var/run/docker.sock)';
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(address)?.[1]?.toLowerCase();
  if (scheme === undefined || !['tcp', 'http', 'https'].includes(scheme))
    return `expected unix:///path or tcp://host:port${scheme ? ` (${scheme}:// is not supported)` : ''}`;
  try {
    const url = new URL(address.replace(/^tcp:/i, 'http:'));
    if (url.hostname === '') return 'expected tcp://host:port: the host is missing';
  } catch {
    return 'expected tcp://host:port: not a valid address';
  }
  return undefined;
}
