export * from './docker.js';
export * from './engines.js';
export * from './free-port.js';
export * from './prometheus.js';
export * from './service-process.js';
export * from './wait-for.js';
