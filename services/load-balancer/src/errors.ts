// The balancer's error catalogue: every LB_ERR_* code, with its HTTP status. The admin API's
// errors are typed (@fastify/error); the proxy port's own answers (PROXY_ERRORS: never a
// backend's) all go through one writer, proxy/proxy-error.ts, with the same JSON shape
// {statusCode, code, error, message}. docs/errors.md explains each code (errors-doc.test.ts
// keeps the two in step). The service queue's
// answers (overload, and the scale-to-zero hold, which is the same queue: proxy/admission.ts)
// are 503 with Retry-After: PROXY_ERRORS.overloaded and the hold codes.
import createError from '@fastify/error';
import { BALANCER_API_CODES } from '@headroom/shared';

export const ValidationError = createError<[string]>('LB_ERR_VALIDATION', '%s', 400);
export const UnauthorizedError = createError(
  'LB_ERR_UNAUTHORIZED',
  'this call needs Authorization: Bearer <ADMIN_TOKEN>',
  401,
);
export const UnknownBackendError = createError<[string]>(
  BALANCER_API_CODES.unknownBackend,
  'no backend with id "%s"',
  404,
);
export const UnknownServiceError = createError<[string]>(
  'LB_ERR_UNKNOWN_SERVICE',
  'no service named "%s" (GET /api/services lists them)',
  404,
);
export const NotRemovableError = createError<[string, string]>(
  'LB_ERR_NOT_REMOVABLE',
  'backend "%s" comes from %s discovery: stop the container (or drain it) instead',
  409,
);
export const NoAutoscalerError = createError(
  'LB_ERR_NO_AUTOSCALER',
  'no autoscaler configured (set AUTOSCALER_URL)',
  404,
);
export const UpstreamCallError = createError<[string]>('LB_ERR_BACKEND_CALL', '%s', 502);

/** The admin API's own answers that are not thrown by a route (admin-server.ts maps them). */
export const ADMIN_ERRORS = {
  internal: 'LB_ERR_INTERNAL',
  invalidJson: 'LB_ERR_INVALID_JSON',
  bodyTooLarge: 'LB_ERR_BODY_TOO_LARGE',
  unsupportedMediaType: 'LB_ERR_UNSUPPORTED_MEDIA_TYPE',
  rateLimited: BALANCER_API_CODES.rateLimited,
  notFound: 'LB_ERR_NOT_FOUND',
} as const;

/** A Docker Engine API call failed (discovery, stats): logged with the engine's message, never answered. */
export const ENGINE_API_ERROR_CODE = 'LB_ERR_ENGINE_API';

/** The proxy port's own answers, by kind: code and status. Written only by proxy/proxy-error.ts. */
export const PROXY_ERRORS = {
  /** Malformed request: framing (CL+TE, bad chunks), Host missing, repeated or invalid. */
  badRequest: { code: 'LB_ERR_BAD_REQUEST', status: 400 },
  /**
   * The request path cannot be normalised (routing/request-path.ts): a `%` not followed by two
   * hex digits. Routes are matched on the normal form, so such a path has no route to match.
   */
  invalidPath: { code: 'LB_ERR_INVALID_PATH', status: 400 },
  /** The client did not send its request head within HEADERS_TIMEOUT_MS. */
  requestTimeout: { code: 'LB_ERR_REQUEST_TIMEOUT', status: 408 },
  /** TRACE that reaches its last hop here (Max-Forwards: 0): not reflected. */
  methodNotAllowed: { code: 'LB_ERR_METHOD_NOT_ALLOWED', status: 405 },
  /** Request-target longer than MAX_TARGET_LENGTH. */
  uriTooLong: { code: 'LB_ERR_URI_TOO_LONG', status: 414 },
  /** Request head larger than Node's max header size (16 KiB). */
  headersTooLarge: { code: 'LB_ERR_HEADERS_TOO_LARGE', status: 431 },
  /** A transfer coding other than chunked in a request (RFC 9112 §6.1). */
  notImplemented: { code: 'LB_ERR_TRANSFER_CODING', status: 501 },
  /** No route matches the request's host and path (lb.host / lb.path): never forwarded. */
  noRoute: { code: 'LB_ERR_NO_ROUTE', status: 404 },
  /** No backend is healthy (or the service has none). */
  noBackend: { code: 'LB_ERR_NO_BACKEND', status: 503 },
  /** The backend failed (refused, reset) and no retry was possible. */
  upstream: { code: 'LB_ERR_UPSTREAM', status: 502 },
  /** The backend did not answer within RESPONSE_TIMEOUT_MS (or its body stalled). */
  upstreamTimeout: { code: 'LB_ERR_UPSTREAM_TIMEOUT', status: 504 },
  /** Scale to zero: HOLD_MAX_REQUESTS already held. */
  holdFull: { code: 'LB_ERR_HOLD_FULL', status: 503 },
  /** Scale to zero: HOLD_TIMEOUT_MS passed before a replica passed its health check. */
  holdTimeout: { code: 'LB_ERR_HOLD_TIMEOUT', status: 503 },
  /** Scale to zero: the balancer is shutting down; held requests are answered, not cut. */
  holdShutdown: { code: 'LB_ERR_HOLD_SHUTDOWN', status: 503 },
  /**
   * Overload (issue #26): every backend is at its concurrency limit and the request cannot
   * wait: the service queue is full (QUEUE_MAX), its predicted wait is past QUEUE_TIMEOUT_MS,
   * or it waited that long. With Retry-After and X-Headroom-Shed (the reason).
   */
  overloaded: { code: 'LB_ERR_OVERLOADED', status: 503 },
} as const satisfies Record<string, { code: string; status: number }>;

export type ProxyErrorKind = keyof typeof PROXY_ERRORS;

/** Scale to zero: a held request that cannot wait (503 with Retry-After). */
export const HOLD_ERRORS = {
  full: PROXY_ERRORS.holdFull.code,
  timeout: PROXY_ERRORS.holdTimeout.code,
  shutdown: PROXY_ERRORS.holdShutdown.code,
} as const;
