// Browser-safe entry: only the API contracts (no logger, no config, no prom-client).
export * from './autoscaler-api.js';
export * from './backend-api.js';
export * from './balancer-api.js';
export * from './common.js';
