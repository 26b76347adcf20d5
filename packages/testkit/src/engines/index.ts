export { cleanupStaleEngines } from './cleanup.js';
export { startEngines } from './start.js';
export * from './types.js';
