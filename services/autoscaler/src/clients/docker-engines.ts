// Dockerode clients for the configured engines: DOCKER_HOSTS entries (unix:///path,
// tcp://host:port) or the local socket.
import Docker from 'dockerode';

export interface Engine {
  /** As configured; names the host in placement, logs and replica records. */
  id: string;
  docker: Docker;
}

export function engineFromAddress(address: string, timeoutMs = 10_000): Engine {
  if (address.startsWith('unix://'))
    return {
      id: address,
      docker: new Docker({ socketPath: address.slice('unix://'.length), timeout: timeoutMs }),
    };
  if (address.startsWith('/'))
    return { id: address, docker: new Docker({ socketPath: address, timeout: timeoutMs }) };
  const url = new URL(address.replace(/^tcp:/, 'http:'));
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  return {
    id: address,
    docker: new Docker({
      host: url.hostname,
      port: url.port || (protocol === 'https' ? 2376 : 2375),
      protocol,
      timeout: timeoutMs,
    }),
  };
}

export function enginesFromConfig(hosts: readonly string[], socket: string): Engine[] {
  return hosts.length > 0 ? hosts.map((h) => engineFromAddress(h)) : [engineFromAddress(socket)];
}
