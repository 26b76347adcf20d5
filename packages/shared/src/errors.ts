// Error codes that cross a service boundary, so they have one home both sides import: the
// configuration error every service's start refuses with, and the balancer API's codes the
// autoscaler reacts to. Each service's own codes live in its catalogue (services/*/src/errors.ts);
// docs/errors.md explains every one (packages/shared/test/error-catalogue.test.ts checks both).

/** Invalid environment at start: one line per bad field, exit 1. */
export const CONFIG_ERROR_CODE = 'HEADROOM_ERR_CONFIG';

/** The balancer admin API's codes a client acts on (the balancer's catalogue uses these). */
export const BALANCER_API_CODES = {
  /** 429: the admin API's rate limit (ADMIN_RATE_LIMIT); Retry-After says when. */
  rateLimited: 'LB_ERR_RATE_LIMITED',
  /** 404: no backend with that id (removed already: a drain of it is done). */
  unknownBackend: 'LB_ERR_UNKNOWN_BACKEND',
} as const;
