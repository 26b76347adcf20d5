import { isIP } from 'node:net';
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

/** Pure: `10.0.0.0/8`, `192.168.1.7`, `fd00::/8` → address, prefix and family; or why not (TRUSTED_PROXIES). */
export function parseCidr(
  entry: string,
): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | string {
  const [address = '', prefixText, extra] = entry.trim().split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return `"${entry}" is not an IP address or CIDR (e.g. 10.0.0.0/8)`;
  const max = family === 4 ? 32 : 128;
  const prefix =
    prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= max)) return `"${entry}": the prefix length must be 0..${max}`;
  return { address, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
}
