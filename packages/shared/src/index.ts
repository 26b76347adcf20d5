// The whole public surface of @headroom/shared.
export * from './config/admin-token.js';
export * from './config/autoscaler.js';
export * from './config/backend.js';
export { engineAddressProblem, parseCidr } from './config/common.js';
export { env, type FieldMeta, fieldMeta } from './config/env-fields.js';
export * from './config/load-balancer.js';
export * from './config/load-config.js';
export * from './contracts/autoscaler-api.js';
export * from './contracts/backend-api.js';
export * from './contracts/balancer-api.js';
export * from './contracts/common.js';
export * from './errors.js';
export * from './labels.js';
export * from './logger.js';
export * from './metric-names.js';
export * from './node-options.js';
export * from './privilege.js';
export * from './process-metrics.js';
