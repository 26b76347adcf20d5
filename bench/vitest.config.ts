import { defineConfig } from 'vitest/config';

// unit: the bench's own arithmetic. integration: a short soak against the real balancer and
// stress backends, so the runner behind `pnpm soak` (and the fault handling it exercises:
// backends added, drained, killed under load) is checked on every CI run.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'bench:unit', include: ['src/**/*.test.ts'] } },
      {
        test: {
          name: 'bench:integration',
          include: ['test/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
