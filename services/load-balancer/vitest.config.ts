import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const alias = {
  '@headroom/shared': fileURLToPath(new URL('../../packages/shared/src/index.ts', import.meta.url)),
};

// unit: pure logic with plain data (src/**/*.test.ts). integration: real processes,
// the real Docker engine and Prometheus (test/**/*.test.ts), one file at a time.
export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      { resolve: { alias }, test: { name: 'load-balancer:unit', include: ['src/**/*.test.ts'] } },
      {
        resolve: { alias },
        test: {
          name: 'load-balancer:integration',
          include: ['test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
