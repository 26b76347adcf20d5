// WebSocket (and any Upgrade) requests: a raw tunnel to the picked backend, TCP or TLS
// as its URL says (an https backend is dialled with TLS on 443 by default, its name as
// SNI, its certificate verified like the pools do). The request goes up with the same
// header rewriting as every other request (hop-by-hop stripped, X-Forwarded-* added),
// plus the Connection/Upgrade pair the upgrade needs. What the core learns is the
// connect-and-handshake time, up to the backend's answer to the upgrade: a session that
// then stays open for ten minutes is not a ten-minute latency sample, and it does not
// count as a request in flight while it lasts.
import type { IncomingMessage } from 'node:http';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { Logger } from '@headroom/shared';
import type { Affinity, BalancerCore, Outcome } from '../balancing/balancer-core.js';
import { type Route, stripPrefix } from '../routing/route-table.js';
import type { RequestRecorder } from '../telemetry/request-recorder.js';
import { upstreamRequestHeaders } from './forward-headers.js';
import type { TrustedProxies } from './trusted-proxies.js';

export interface TunnelSettings {
  /** TCP (and TLS) connect timeout: over it the client gets 502. */
  connectTimeoutMs: number;
  /** From connected to the backend's answer to the upgrade: over it the client gets 504. */
  responseTimeoutMs: number;
}

export interface TunnelDeps {
  core: Pick<BalancerCore, 'pick'>;
  recorder: RequestRecorder;
  logger: Logger;
  tunnel: TunnelSettings;
  trustedProxies?: TrustedProxies | undefined;
  /** Told when the session opens and when it ends: an open WebSocket keeps its service awake. */
  activity?: SessionActivity | undefined;
}

export interface SessionActivity {
  sessionOpened(): void;
  sessionClosed(): void;
}

const REPLY_503 = 'HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n';
const REPLY_502 = 'HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n';
const REPLY_504 = 'HTTP/1.1 504 Gateway Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n';

/** The request head sent upstream: request line, rewritten headers, the upgrade pair. */
export function upgradeRequestHead(req: IncomingMessage, trusted?: TrustedProxies, route?: Route): string {
  const headers = upstreamRequestHeaders(req.headers, {
    remoteAddress: req.socket.remoteAddress,
    encrypted: (req.socket as { encrypted?: boolean }).encrypted === true,
    trusted: trusted?.has(req.socket.remoteAddress),
  });
  let path = req.url ?? '/';
  if (route?.strip && route.path.length > 1) {
    path = stripPrefix(path, route.path);
    headers['x-forwarded-prefix'] = route.path;
  }
  let head = `${req.method ?? 'GET'} ${path} HTTP/1.1\r\n`;
  for (const name in headers) {
    const value = headers[name]!;
    if (Array.isArray(value)) for (const v of value) head += `${name}: ${v}\r\n`;
    else head += `${name}: ${value}\r\n`;
  }
  head += `connection: Upgrade\r\nupgrade: ${String(req.headers.upgrade ?? 'websocket')}\r\n\r\n`;
  return head;
}

type Phase = 'connecting' | 'handshake' | 'open';

const NO_TRIES: readonly number[] = [];

export function openTunnel(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  affinity: Affinity | undefined,
  route: Route | undefined,
  deps: TunnelDeps,
): void {
  const { core, recorder, tunnel } = deps;
  const method = req.method ?? 'GET';
  const now = Date.now();
  // a tunnel does not queue (issue #26): its upgrade goes over a full backend's limit rather
  // than wait behind requests (an empty `tried` lifts the limit)
  const pick = core.pick(now, affinity, NO_TRIES);
  if (!pick) {
    recorder.unrouted(method, route?.service);
    socket.end(REPLY_503);
    return;
  }
  const target = new URL(pick.url);
  const secure = target.protocol === 'https:';
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const port = Number(target.port || (secure ? 443 : 80));
  const ahead = recorder.attemptStarted(pick, now);
  const started = performance.now();
  let phase: Phase = 'connecting';
  let recorded = false;
  const record = (outcome: Outcome, status: number) => {
    if (recorded) return;
    recorded = true;
    const ms = performance.now() - started;
    recorder.attemptEnded(pick, ahead, Date.now(), ms, outcome);
    if (outcome === 'aborted') return;
    recorder.requestDone(pick, method, status, ms, outcome !== 'success');
  };
  const upstream: Socket = secure
    ? tlsConnect({ host, port, servername: isIP(host) === 0 ? host : undefined, ALPNProtocols: ['http/1.1'] })
    : netConnect(port, host);
  upstream.setTimeout(tunnel.connectTimeoutMs);
  const fail = (reply: string, outcome: Outcome, status: number, why: string) => {
    record(outcome, status);
    deps.logger.debug({ backend: pick.id, why, phase }, 'upgrade tunnel failed');
    if (socket.writable) socket.end(reply);
    upstream.destroy();
  };
  upstream.once(secure ? 'secureConnect' : 'connect', () => {
    phase = 'handshake';
    upstream.setTimeout(tunnel.responseTimeoutMs);
    upstream.write(upgradeRequestHead(req, deps.trustedProxies, route));
    if (head.length > 0) upstream.write(head);
    socket.pipe(upstream);
  });
  upstream.once('data', (first: Buffer) => {
    // the backend's answer to the upgrade: the handshake is over, the session begins
    phase = 'open';
    upstream.setTimeout(0);
    deps.activity?.sessionOpened();
    const status = Number(first.toString('latin1', 9, 12));
    record(status >= 500 ? 'http-5xx' : 'success', Number.isFinite(status) ? status : 0);
    socket.write(first);
    upstream.pipe(socket);
  });
  upstream.on('timeout', () => {
    if (phase === 'connecting') fail(REPLY_502, 'timeout', 502, 'connect timeout');
    else if (phase === 'handshake') fail(REPLY_504, 'timeout', 504, 'no answer to the upgrade in time');
  });
  upstream.on('error', (err: Error) => {
    if (phase === 'open') {
      socket.destroy();
      return;
    }
    fail(REPLY_502, 'connect-error', 502, err.message);
  });
  upstream.on('close', () => {
    if (phase !== 'open') fail(REPLY_502, 'connect-error', 502, 'closed before answering the upgrade');
    socket.destroy();
  });
  socket.on('error', () => upstream.destroy());
  let ended = false;
  const sessionEnded = () => {
    if (ended || phase !== 'open') return;
    ended = true;
    deps.activity?.sessionClosed();
  };
  upstream.once('close', sessionEnded);
  socket.on('close', () => {
    // the client left before the backend answered: not the backend's failure
    if (phase !== 'open') record('aborted', 0);
    sessionEnded();
    upstream.destroy();
  });
}
