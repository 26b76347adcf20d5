export { cleanupStaleEngines } from './cleanup.js';
export { startEngines } from './start.js';
export * from './swarm-harness.js';
export { runningTaskNodes } from './swarm-tasks.js';
export * from './types.js';
