// The backend's error catalogue: typed, coded, with the HTTP status they answer.
import createError from '@fastify/error';

export const BadRequestError = createError<[string]>('BACKEND_ERR_BAD_REQUEST', '%s', 400);
export const MemoryCapError = createError<[number, number, number]>(
  'BACKEND_ERR_MEMORY_CAP',
  'holding %s MiB more would pass the cap of %s MiB (held: %s MiB)',
  400,
);
export const METHOD_NOT_ALLOWED_CODE = 'BACKEND_ERR_METHOD_NOT_ALLOWED';
/** Codes the error handlers answer for fastify's own errors. */
export const BACKEND_ERROR_CODES = {
  /** 400: fastify's schema validation refused the request. */
  validation: 'BACKEND_ERR_VALIDATION',
  /** 500: a route failed unexpectedly (logged with its stack). */
  internal: 'BACKEND_ERR_INTERNAL',
  /** 404: no such route. */
  notFound: 'BACKEND_ERR_NOT_FOUND',
} as const;
