import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

const alias = {
  '@headroom/shared/contracts': fileURLToPath(
    new URL('../../packages/shared/src/contracts/index.ts', import.meta.url),
  ),
};

// unit: components and formatters in jsdom. e2e: the real balancer and backends, driven
// through headless Chromium (Debian's, via playwright-core).
export default defineConfig({
  plugins: [react()],
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: { name: 'dashboard:unit', environment: 'jsdom', include: ['src/**/*.test.{ts,tsx}'] },
      },
      {
        resolve: { alias },
        test: {
          name: 'dashboard:e2e',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
