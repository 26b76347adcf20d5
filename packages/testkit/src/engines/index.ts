export { cleanupStaleEngines } from './cleanup.js';
export { startEngines } from './start.js';
export * from './swarm-harness.js';
export * from './types.js';
