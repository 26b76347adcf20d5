// The autoscaler's error catalogue: AS_ERR_* codes, each with its HTTP status.
import createError from '@fastify/error';

export const AS_ERR_UNAUTHORIZED = createError(
  'AS_ERR_UNAUTHORIZED',
  'a valid "Authorization: Bearer <token>" header is required',
  401,
);
export const AS_ERR_BAD_REQUEST = createError<[string]>('AS_ERR_BAD_REQUEST', 'invalid request: %s', 400);
export const AS_ERR_NOT_FOUND = createError<[string]>('AS_ERR_NOT_FOUND', 'no route %s', 404);
/** Codes the autoscaler answers or throws without an error class of their own. */
export const AS_ERROR_CODES = {
  /** 429: the admin API's rate limit. */
  rateLimited: 'AS_ERR_RATE_LIMITED',
  /** 500: an admin call failed unexpectedly (logged with its stack). */
  internal: 'AS_ERR_INTERNAL',
  /** No engine answers: the tick pauses scaling and says why in the status. */
  engineUnavailable: 'AS_ERR_ENGINE_UNAVAILABLE',
} as const;
