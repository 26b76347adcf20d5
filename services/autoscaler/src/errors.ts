// The autoscaler's error catalogue: AS_ERR_* codes, each with its HTTP status.
import createError from '@fastify/error';

export const AS_ERR_UNAUTHORIZED = createError(
  'AS_ERR_UNAUTHORIZED',
  'a valid "Authorization: Bearer <token>" header is required',
  401,
);
export const AS_ERR_BAD_REQUEST = createError<[string]>('AS_ERR_BAD_REQUEST', 'invalid request: %s', 400);
export const AS_ERR_NOT_FOUND = createError<[string]>('AS_ERR_NOT_FOUND', 'no route %s', 404);
export const AS_ERR_CONFIG = createError<[string]>('AS_ERR_CONFIG', 'invalid configuration: %s', 500);
