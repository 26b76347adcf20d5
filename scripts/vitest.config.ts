import { defineConfig } from 'vitest/config';

// unit: the repo scripts' own logic (the toolchain's architecture choice), no processes of the
// project. e2e: the embedded stack (`pnpm start`) end to end: real processes, no Docker.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'scripts:unit', include: ['test/toolchain.test.ts'] } },
      {
        test: {
          name: 'stack:e2e',
          include: ['test/**/*.test.ts'],
          exclude: ['test/toolchain.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
