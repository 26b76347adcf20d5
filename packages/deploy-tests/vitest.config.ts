import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const alias = {
  '@headroom/shared': fileURLToPath(new URL('../shared/src/index.ts', import.meta.url)),
};

// unit: the checked-in configs read as plain data (Grafana JSON, PromQL names). integration:
// real tools on them (promtool, docker-compose config) and the images built and started on the
// real engine. e2e: the compose stack, a single-node Swarm, several engines and a multi-node
// Swarm in network namespaces, scale to zero with the real balancer and autoscaler; one file at a time.
export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      { resolve: { alias }, test: { name: 'deploy-tests:unit', include: ['src/**/*.test.ts'] } },
      {
        resolve: { alias },
        test: {
          name: 'deploy-tests:integration',
          include: ['test/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'deploy-tests:e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
