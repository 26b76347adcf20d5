import { defineConfig } from 'vitest/config';

// The embedded stack (`pnpm start`) end to end: real processes, no Docker.
export default defineConfig({
  test: {
    name: 'stack:e2e',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
