import { defineConfig } from 'vitest/config';

// One entry point for every package: `pnpm test` runs them all. Each package's own
// vitest.config.ts names its projects (unit: plain data, fast; integration: real
// processes, Docker, Prometheus, Chromium).
export default defineConfig({
  test: {
    projects: [
      'packages/*/vitest.config.ts',
      'services/*/vitest.config.ts',
      'apps/*/vitest.config.ts',
      'scripts/vitest.config.ts',
      'bench/vitest.config.ts',
    ],
  },
});
