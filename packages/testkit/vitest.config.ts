import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const alias = {
  '@headroom/shared': fileURLToPath(new URL('../shared/src/index.ts', import.meta.url)),
};

// integration: the helpers themselves against the real thing (engines in network namespaces).
export default defineConfig({
  resolve: { alias },
  test: {
    name: 'testkit:integration',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
});
