// The proxy port: a plain node:http server (no framework router: the route table's one
// lookup per request is all the routing) that sends each request to its service (by host
// and path) and streams it to the backend that service's balancer picks, through that
// backend's undici Pool. ProxyHandler.handle/upgrade serve every listener (plain and TLS).
// Per request: a RequestContext (what the request is, what was tried), an Exchange
// (streams the response, reports) and a RetryHandler (undici's handler; retries onto
// untried backends). One RequestRecorder writes the outcome everywhere.
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '@headroom/shared';
import type { Affinity, BalancerCore, Pick as Choice } from '../balancing/balancer-core.js';
import type { HoldController } from '../hold/hold-controller.js';
import { normaliseRequestPath } from '../routing/request-path.js';
import { type Route, stripPrefix } from '../routing/route-table.js';
import type { AccessLog } from '../telemetry/access-log.js';
import type { RequestRecorder } from '../telemetry/request-recorder.js';
import { httpsRedirect } from '../tls/redirect.js';
import type { Admission } from './admission.js';
import { Exchange, type ExchangeDeps } from './exchange.js';
import { readCookie, upstreamRequestHeaders } from './forward-headers.js';
import { rawProxyError, sendProxyError } from './proxy-error.js';
import { checkRequest, MAX_TARGET_LENGTH, PROXY_ALLOW } from './request-checks.js';
import { RequestContext } from './request-context.js';
import { type RetryDeps, RetryHandler } from './retry-handler.js';
import type { TrustedProxies } from './trusted-proxies.js';
import { openTunnel, type TunnelSettings } from './tunnel.js';
import type { UpstreamPools } from './upstream-pools.js';

/** What the proxy needs of the services: a route per request, and the route's service. */
export interface ServiceRouter {
  route(host: string | undefined, url: string): Route | undefined;
  unitOf(route: Route):
    | {
        readonly core: BalancerCore;
        readonly hold: HoldController;
        readonly queue: Admission;
        readonly tlsRedirect?: boolean;
      }
    | undefined;
}

export interface ProxyDeps {
  /** ACCESS_LOG: one line per answered request; undefined when off. */
  accessLog?: AccessLog | undefined;
  /** Routes by host and path to a service, each with its own balancer and hold queue. */
  services: ServiceRouter;
  pools: UpstreamPools;
  recorder: RequestRecorder;
  logger: Logger;
  retries: number;
  /** A client stalled this long sending its body or reading the response is cut (0: never). */
  clientIdleMs?: number;
  /** WebSocket (Upgrade) tunnels: TCP/TLS connect timeout, then the time to the upgrade answer. */
  tunnel: TunnelSettings;
  /** TRUSTED_PROXIES: peers whose X-Forwarded-* are kept; default: nobody. */
  trustedProxies?: TrustedProxies | undefined;
  /** lb.tls.redirect: the https port a 308 names (TLS_REDIRECT_PORT; 443 is left out). */
  tlsRedirectPort?: number;
}

/** The 404 of a request no route matches: never forwarded. Host and path are quoted, capped. */
function noRouteMessage(host: string | undefined, url: string): string {
  const path = url.split('?', 1)[0]!.slice(0, 200);
  return `no route for host "${(host ?? '').slice(0, 200)}" and path "${path}"`;
}

function sendNoRoute(res: ServerResponse, host: string | undefined, url: string): void {
  sendProxyError(res, 'noRoute', noRouteMessage(host, url));
}

export class ProxyHandler {
  private inFlightRequests = 0;
  private drainedWaiters: Array<() => void> = [];
  private readonly exchangeDeps: ExchangeDeps;
  private readonly retryDeps: RetryDeps;

  constructor(readonly deps: ProxyDeps) {
    // built once: the per-request objects share them, so a request allocates no closure
    this.exchangeDeps = {
      recorder: deps.recorder,
      closed: () => this.requestClosed(),
      clientIdleMs: deps.clientIdleMs ?? 0,
      accessLog: deps.accessLog,
    };
    this.retryDeps = { pools: deps.pools, recorder: deps.recorder, retries: deps.retries };
  }

  /** Requests the proxy is handling right now (for graceful shutdown). */
  get active(): number {
    return this.inFlightRequests;
  }

  /** Resolves when no request is in flight. */
  idle(): Promise<void> {
    if (this.inFlightRequests === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainedWaiters.push(resolve));
  }

  private requestClosed(): void {
    this.inFlightRequests--;
    if (this.inFlightRequests === 0) for (const w of this.drainedWaiters.splice(0)) w();
  }

  affinityOf(core: BalancerCore, req: IncomingMessage): Affinity | undefined {
    const sticky = core.sticky;
    if (sticky.kind === 'cookie') return { cookie: readCookie(req.headers.cookie, sticky.cookie) };
    if (sticky.kind === 'header') {
      const v = req.headers[sticky.header];
      return { header: Array.isArray(v) ? v[0] : v };
    }
    return undefined;
  }

  /** TLS to this balancer, or to a trusted proxy in front of it that says so (X-Forwarded-Proto: https). */
  private cameOverTls(req: IncomingMessage): boolean {
    if ((req.socket as { encrypted?: boolean }).encrypted === true) return true;
    return (
      req.headers['x-forwarded-proto'] === 'https' &&
      this.deps.trustedProxies?.has(req.socket.remoteAddress) === true
    );
  }

  /**
   * lb.tls.redirect=true, plain HTTP: a 308 to the same URL over https; false when the
   * request is to be served as usual (an ACME HTTP-01 challenge, which must stay plain).
   */
  private redirected(req: IncomingMessage, res: ServerResponse, url: string): boolean {
    const d = httpsRedirect(req.headers.host, url, this.deps.tlsRedirectPort ?? 443);
    if (d.kind === 'forward') return false;
    if (d.kind === 'redirect') {
      res.writeHead(308, { location: d.location, 'content-length': '0' });
      res.end();
    } else
      sendProxyError(
        res,
        'badRequest',
        'this service is served over https only, and the Host header cannot be redirected to',
      );
    return true;
  }

  /**
   * The request handler of every listener (plain HTTP, TLS): route, then hold or forward.
   * Per request: one route lookup (a Map get and a short prefix scan, no allocation).
   */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (!this.accept(req, res)) return;
    const url = req.url ?? '/';
    const route = this.deps.services.route(req.headers.host, url);
    const unit = route === undefined ? undefined : this.deps.services.unitOf(route);
    if (route === undefined || unit === undefined) {
      this.deps.recorder.noRoute(req.method ?? 'GET');
      this.deps.accessLog?.request('', '', req.method ?? 'GET', url, req.headers.host, 404, 0, 0, 0);
      sendNoRoute(res, req.headers.host, url);
      return;
    }
    // lb.tls.redirect: before the hold, so a redirect never wakes a sleeping service
    if (unit.tlsRedirect === true && !this.cameOverTls(req) && this.redirected(req, res, url)) return;
    // the warm path's whole cost of scale to zero: one number assignment and one boolean check
    const hold = unit.hold;
    hold.lastRequestAt = Date.now();
    if (hold.holding) {
      hold.hold(req, res, this.resume);
      return;
    }
    // the service queue (issue #26): a backend with room under its limit, or wait (null)
    const queue = unit.queue;
    const pick = queue.enter(req, res);
    if (pick !== null) this.forward(req, res, unit.core, route, url, pick, queue);
  };

  /** A first attempt's pick for `req` in `core` (its affinity), with `waiting` others in its service's queue. */
  pickFor(core: BalancerCore, req: IncomingMessage, waiting: number): Choice | undefined {
    return core.pick(Date.now(), this.affinityOf(core, req), undefined, waiting);
  }

  /**
   * A request that waited in `queue` at the limits, dispatched to `pick`: routed again for
   * its prefix (its service's routes may have changed meanwhile).
   */
  dequeued(
    req: IncomingMessage,
    res: ServerResponse,
    core: BalancerCore,
    queue: Admission,
    pick: Choice | undefined,
  ): void {
    const url = req.url ?? '/';
    const route = this.deps.services.route(req.headers.host, url);
    if (route === undefined) {
      this.deps.recorder.noRoute(req.method ?? 'GET');
      sendNoRoute(res, req.headers.host, url);
      return;
    }
    this.forward(req, res, core, route, url, pick, queue);
  }

  /** The request-head checks (request-checks.ts): answers the request itself and returns false, or adjusts it to forward. */
  private accept(req: IncomingMessage, res: ServerResponse): boolean {
    const verdict = checkRequest(req.method, req.url, req.rawHeaders);
    if (verdict.kind === 'reject') {
      res.shouldKeepAlive = false;
      sendProxyError(
        res,
        verdict.error,
        verdict.message,
        verdict.error === 'methodNotAllowed' ? { allow: PROXY_ALLOW } : {},
      );
      return false;
    }
    if (verdict.kind === 'options') {
      res.writeHead(200, { allow: PROXY_ALLOW, 'content-length': '0' }).end();
      return false;
    }
    if (verdict.absolute) {
      // RFC 9112 §3.2.2: the target's authority replaces the received Host; origin-form upstream
      req.url = verdict.absolute.path;
      req.headers.host = verdict.absolute.host;
    }
    // Routes are matched on the path in normal form (RFC 3986 §6.2.2), and that form is what
    // the backend receives: balancer and backend must agree on which route a path belongs to,
    // or `/api/../admin` is routed as /api and served as /admin (routing/request-path.ts).
    const path = normaliseRequestPath(req.url ?? '/');
    if (typeof path !== 'string') {
      res.shouldKeepAlive = false;
      sendProxyError(res, 'invalidPath', path.message);
      return false;
    }
    req.url = path;
    if (verdict.maxForwards !== undefined) req.headers['max-forwards'] = String(verdict.maxForwards);
    // Node's server has answered 100 Continue already; undici refuses to send Expect upstream
    // (it answered the client 502 before): the body follows the head at once instead.
    if (req.headers.expect !== undefined) delete req.headers.expect;
    return true;
  }

  /**
   * A held request whose service lost its routes (HoldController.rehome; a held request of an
   * awake service is handed to a backend by its queue, dequeued above): routed again (e.g. the
   * default catch-all handed over to a named service), then held there if that service is not
   * awake or has no healthy backend yet; else into its service's queue like any request.
   */
  private readonly resume = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const route = this.deps.services.route(req.headers.host, url);
    const unit = route === undefined ? undefined : this.deps.services.unitOf(route);
    if (route === undefined || unit === undefined) {
      this.deps.recorder.noRoute(req.method ?? 'GET');
      sendNoRoute(res, req.headers.host, url);
      return;
    }
    const hold = unit.hold;
    // traffic for the service it lands in: a request the default catch-all held and then handed
    // to the named service that took over its routes is that service's last request (its idle
    // window counts from it), not only the default one's
    hold.lastRequestAt = Date.now();
    if (!hold.holding && !unit.core.runtime(Date.now()).some((r) => r.state === 'healthy'))
      hold.event({ kind: 'request', backends: 0 });
    if (hold.holding) {
      hold.hold(req, res, this.resume);
      return;
    }
    const pick = unit.queue.enter(req, res);
    if (pick !== null) this.forward(req, res, unit.core, route, url, pick, unit.queue);
  };

  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    core: BalancerCore,
    route: Route,
    url: string,
    pick: Choice | undefined,
    queue: Admission,
  ): void {
    this.inFlightRequests++;
    const headers = upstreamRequestHeaders(req.headers, {
      remoteAddress: req.socket.remoteAddress,
      encrypted: (req.socket as { encrypted?: boolean }).encrypted === true,
      trusted: this.deps.trustedProxies?.has(req.socket.remoteAddress),
    });
    let path = url;
    if (route.strip && route.path.length > 1) {
      path = stripPrefix(url, route.path);
      // what the backend needs to build its own URLs (Traefik's stripprefix does the same)
      headers['x-forwarded-prefix'] = route.path;
    }
    const ctx = new RequestContext(
      req,
      res,
      core,
      this.affinityOf(core, req),
      headers,
      path,
      route.service,
      queue,
    );
    // slow body (R-U-Dead-Yet): the client socket times out while the body is still coming
    const idle = this.exchangeDeps.clientIdleMs;
    if (idle > 0 && ctx.hasBody && !req.complete) {
      req.socket.setTimeout(idle);
      req.once('end', clearClientIdle);
    }
    const exchange = new Exchange(ctx, this.exchangeDeps);
    new RetryHandler(ctx, exchange, this.retryDeps).start(pick);
  }

  /**
   * WebSocket (and any Upgrade) requests: routed like requests, count as traffic (the service
   * is not idle), held and waking the service while it sleeps, then a tunnel to the picked backend.
   */
  readonly upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // the normal form, as for requests (accept()): routed and forwarded on the same path
    const path = normaliseRequestPath(req.url ?? '/');
    if (typeof path !== 'string') {
      socket.end(rawProxyError('invalidPath', path.message));
      return;
    }
    req.url = path;
    const url = path;
    const route = this.deps.services.route(req.headers.host, url);
    const unit = route === undefined ? undefined : this.deps.services.unitOf(route);
    if (route === undefined || unit === undefined) {
      this.deps.recorder.noRoute(req.method ?? 'GET');
      socket.end(rawProxyError('noRoute', noRouteMessage(req.headers.host, url)));
      return;
    }
    if (unit.tlsRedirect === true && !this.cameOverTls(req)) {
      // browsers do not follow a redirect of a WebSocket handshake, but a client that does gets the https URL
      const d = httpsRedirect(req.headers.host, url, this.deps.tlsRedirectPort ?? 443);
      socket.end(
        d.kind === 'redirect'
          ? `HTTP/1.1 308 Permanent Redirect\r\nlocation: ${d.location}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`
          : rawProxyError('badRequest', 'this service is served over https only'),
      );
      return;
    }
    const hold = unit.hold;
    hold.lastRequestAt = Date.now();
    if (hold.holding) {
      hold.holdUpgrade(req, socket, head, this.resumeUpgrade);
      return;
    }
    this.tunnel(req, socket, head, unit, route);
  };

  /** A held upgrade, taken from its service's queue once awake (or rehomed): routed again, then tunnelled. */
  private readonly resumeUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = req.url ?? '/';
    const route = this.deps.services.route(req.headers.host, url);
    const unit = route === undefined ? undefined : this.deps.services.unitOf(route);
    if (route === undefined || unit === undefined) {
      socket.end(rawProxyError('noRoute', noRouteMessage(req.headers.host, url)));
      return;
    }
    this.tunnel(req, socket, head, unit, route);
  };

  private tunnel(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    unit: { readonly core: BalancerCore; readonly hold: HoldController },
    route: Route,
  ): void {
    const core = unit.core;
    openTunnel(req, socket, head, this.affinityOf(core, req), route, {
      core,
      activity: unit.hold,
      recorder: this.deps.recorder,
      logger: this.deps.logger,
      tunnel: this.deps.tunnel,
      trustedProxies: this.deps.trustedProxies,
    });
  }
}

/** The body has arrived: the connection may be quiet again (a long poll waits on the backend, not the client). */
function clearClientIdle(this: IncomingMessage): void {
  this.socket.setTimeout(0);
}

export interface ProxyServerSettings {
  /** A client that has not sent its whole request head by then is dropped (slowloris). */
  headersTimeoutMs: number;
}

/** The node:http options both proxy listeners (plain and TLS) share. */
export function proxyServerOptions(settings: ProxyServerSettings): ServerOptions {
  return {
    keepAliveTimeout: 65_000,
    // no whole-request limit: uploads and long polls may take as long as they need
    requestTimeout: 0,
    headersTimeout: settings.headersTimeoutMs,
    // Node enforces headersTimeout on this tick (30 s by default, far past a short limit)
    connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(settings.headersTimeoutMs / 4))),
  };
}

export function createProxyServer(
  handler: ProxyHandler,
  settings: ProxyServerSettings = { headersTimeoutMs: 10_000 },
): Server {
  return attachProxyHandler(createServer(proxyServerOptions(settings), handler.handle), handler);
}

/**
 * Upgrades and malformed requests, for either listener: the TLS one (tls/tls-server.ts) is
 * an https.Server with the same request handler, so a request is routed, balanced and
 * recorded the same whichever port it came in on.
 */
export function attachProxyHandler<S extends Server>(server: S, handler: ProxyHandler): S {
  server.on('upgrade', handler.upgrade);
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // malformed requests (bad framing, CL+TE smuggling, oversized headers) end here
    if (!socket.writable) return;
    // Bytes that do not parse after a complete request on the same connection (pipelined):
    // that one is being answered, and a raw 400 written now would reach the client as the
    // answer to it. Let its response finish, then close (node:http keeps it as _httpMessage).
    // When the bad bytes are inside the current request's own body, it is that request which
    // is malformed: its upstream exchange is aborted with it, and the client gets the 400.
    const current = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
    if (current && !current.writableFinished && current.req.complete) {
      current.shouldKeepAlive = false;
      current.once('finish', () => socket.end());
      current.once('close', () => socket.destroy());
      return;
    }
    // the answer first: destroying the request below can take the socket down with it
    socket.end(parserErrorResponse(err));
    if (current && !current.writableFinished) current.req.destroy(err);
  });
  return server;
}

/** The proxy's answer to a request Node's parser refused. */
function parserErrorResponse(err: NodeJS.ErrnoException & { rawPacket?: Buffer }): string {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return rawProxyError('requestTimeout', 'request head not received in time');
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    // the request line alone past the limit is a target too long (414), not a header section (431)
    const head = err.rawPacket;
    const eol = head ? head.indexOf('\r\n') : -1;
    if (head && (eol < 0 ? head.length : eol) > MAX_TARGET_LENGTH) {
      return rawProxyError('uriTooLong', `request-target over ${MAX_TARGET_LENGTH} octets`);
    }
    return rawProxyError('headersTooLarge', 'request header section too large');
  }
  return rawProxyError('badRequest', `malformed request (${err.code ?? 'parse error'})`);
}
