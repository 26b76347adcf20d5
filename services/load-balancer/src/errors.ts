// The balancer's error catalogue (admin API): typed, coded, with their HTTP status.
// Proxy errors (LB_ERR_NO_BACKEND 503, LB_ERR_UPSTREAM 502, LB_ERR_UPSTREAM_TIMEOUT 504)
// are written by proxy/proxy-server.ts with the same JSON shape; the hold path's (scale to
// zero) by hold/hold-controller.ts, both 503 with Retry-After: HOLD_ERRORS.
import createError from '@fastify/error';

export const ValidationError = createError<[string]>('LB_ERR_VALIDATION', '%s', 400);
export const UnauthorizedError = createError(
  'LB_ERR_UNAUTHORIZED',
  'this call needs Authorization: Bearer <ADMIN_TOKEN>',
  401,
);
export const UnknownBackendError = createError<[string]>(
  'LB_ERR_UNKNOWN_BACKEND',
  'no backend with id "%s"',
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

/** Scale to zero: a held request that cannot wait (503 with Retry-After). */
export const HOLD_ERRORS = {
  /** HOLD_MAX_REQUESTS already held. */
  full: 'LB_ERR_HOLD_FULL',
  /** HOLD_TIMEOUT_MS passed before a replica passed its health check. */
  timeout: 'LB_ERR_HOLD_TIMEOUT',
  /** The balancer is shutting down: held requests are answered, not cut. */
  shutdown: 'LB_ERR_HOLD_SHUTDOWN',
} as const;
