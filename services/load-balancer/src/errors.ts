// The balancer's error catalogue (admin API): typed, coded, with their HTTP status.
// Proxy errors (LB_ERR_NO_BACKEND 503, LB_ERR_UPSTREAM 502, LB_ERR_UPSTREAM_TIMEOUT 504)
// are written by proxy/proxy-server.ts with the same JSON shape.
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
