// The TLS listener (TLS_PORT): an https.Server with the plain listener's request and
// upgrade handlers (proxy-server.ts), so routing, balancing, holding and recording are one
// code path whichever port a request came in on. Certificates come from the CertStore:
// SNICallback answers from its current table, the server's default context (clients
// without SNI) is swapped with setSecureContext on each reload. Neither touches an open
// connection: it keeps the context it was handshaken with.
import { createServer, type Server } from 'node:https';
import type { Logger } from '@headroom/shared';
import type { Registry } from 'prom-client';
import {
  attachProxyHandler,
  type ProxyHandler,
  type ProxyServerSettings,
  proxyServerOptions,
} from '../proxy/proxy-server.js';
import { CertStore, TLS_MIN_VERSION } from './cert-store.js';

export function createTlsProxyServer(
  handler: ProxyHandler,
  settings: ProxyServerSettings,
  store: CertStore,
  logger: Logger,
): Server {
  const fallback = store.select(undefined);
  const server = createServer(
    {
      ...proxyServerOptions(settings),
      minVersion: TLS_MIN_VERSION,
      // HTTP/1.1 only, said so in ALPN: the proxy speaks no h2 yet
      ALPNProtocols: ['http/1.1'],
      // Node's default is 120 s: a client that opens the port and says nothing (or speaks
      // plain HTTP) would pin a socket that long. The same bound as for request headers.
      handshakeTimeout: settings.headersTimeoutMs,
      ...(fallback ? { cert: fallback.context.cert, key: fallback.context.key } : {}),
      SNICallback: (servername, cb) => {
        // undefined when no certificate is loaded: the handshake fails (a clean close)
        cb(null, store.select(servername)?.context.context);
      },
    },
    handler.handle,
  );
  store.onChange = (table) => {
    const def = table.fallback;
    // no certificate left: an empty default context, so handshakes fail instead of serving a removed certificate
    server.setSecureContext({
      minVersion: TLS_MIN_VERSION,
      ...(def ? { cert: def.context.cert, key: def.context.key } : {}),
    });
  };
  // A failed handshake (plain HTTP on this port, no shared version, a timeout) is the
  // client's problem: debug only, so a scanner cannot flood the log. The socket is closed
  // here: Node does so for a protocol error, but leaves a handshake timeout's socket open.
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket) => {
    logger.debug({ err: err.code ?? err.message, remote: socket.remoteAddress }, 'TLS handshake failed');
    socket.destroy();
  });
  return attachProxyHandler(server, handler);
}

export interface TlsProxy {
  server: Server;
  store: CertStore;
}

/**
 * Reads TLS_CERT_DIR, then builds the listener (not listening yet). A directory that cannot
 * be listed is a configuration error, thrown as one line naming the field.
 */
export async function createTlsProxy(
  dir: string,
  handler: ProxyHandler,
  settings: ProxyServerSettings,
  logger: Logger,
  registry: Registry,
): Promise<TlsProxy> {
  const store = new CertStore({ dir }, logger, registry);
  try {
    await store.start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(
      `  TLS_CERT_DIR=${JSON.stringify(dir)}: ${e.code === 'ENOENT' ? 'no such directory' : e.code === 'ENOTDIR' ? 'not a directory' : e.code === 'EACCES' ? 'permission denied' : e.message}`,
    );
  }
  return { server: createTlsProxyServer(handler, settings, store, logger), store };
}
