// Test fixtures: the real balancer process, and tiny HTTP servers for behaviours the
// stress backend does not have (echo, never answer, refuse).
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bigAnswerMiB, type ServiceProcess, sendMiB, startBalancer, waitFor } from '@headroom/testkit';

export interface RunningLb {
  proc: ServiceProcess;
  proxy: string;
  admin: string;
  stop(): Promise<number | null>;
}

/** The balancer with this file's test defaults (static discovery, fast health checks, no slow start). */
export async function startLb(env: Record<string, string>): Promise<RunningLb> {
  const lb = await startBalancer({
    DISCOVERY: 'static',
    HEALTH_INTERVAL_MS: '200',
    SLOW_START_MS: '0',
    ...env,
  });
  return { proc: lb, proxy: lb.proxy, admin: lb.admin, stop: () => lb.stop() };
}

export async function healthyCount(admin: string): Promise<number> {
  const body = (await (await fetch(`${admin}/api/backends`)).json()) as {
    backends: Array<{ state: string }>;
  };
  return body.backends.filter((b) => b.state === 'healthy').length;
}

export async function waitHealthy(admin: string, n: number): Promise<void> {
  await waitFor(async () => (await healthyCount(admin)) >= n, {
    timeoutMs: 10_000,
    message: `${n} healthy backends`,
  });
}

export interface TestServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<TestServer> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Answers /health; for anything else: the request's headers, and a SHA-256 and size of its body. */
export function echoServer(name: string): Promise<TestServer> {
  return listen(
    createServer((req: IncomingMessage, res) => {
      if (req.url === '/health') {
        res.end('ok');
        return;
      }
      if (req.url?.startsWith('/big')) {
        sendMiB(res, bigAnswerMiB(req.url), { 'content-type': 'application/octet-stream' });
        return;
      }
      const hash = createHash('sha256');
      let size = 0;
      req.on('data', (d: Buffer) => {
        hash.update(d);
        size += d.length;
      });
      req.on('end', () => {
        res.writeHead(200, {
          'content-type': 'application/json',
          connection: 'keep-alive, x-hop',
          'x-hop': 'secret',
          'x-backend-instance': name,
        });
        res.end(
          JSON.stringify({
            name,
            method: req.method,
            url: req.url,
            headers: req.headers,
            size,
            sha256: hash.digest('hex'),
          }),
        );
      });
    }),
  );
}

/** Passes health checks but never answers anything else. */
export function blackHoleServer(): Promise<TestServer> {
  return listen(
    createServer((req, res) => {
      if (req.url === '/health') res.end('ok');
      // otherwise: hold the request open, never answer
    }),
  );
}

/** Reads each request, then drops the connection without answering: a backend that crashes mid-request. */
export function crashServer(): Promise<TestServer> {
  return listen(
    createServer((req: IncomingMessage) => {
      if (req.url === '/health') {
        req.socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        return;
      }
      req.resume();
      req.on('end', () => setTimeout(() => req.socket.destroy(), 50));
    }),
  );
}
