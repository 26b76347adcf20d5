import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The browser bundle takes only the shared contracts (node-only logger/config stay out).
const contracts = fileURLToPath(new URL('../../packages/shared/src/contracts/index.ts', import.meta.url));
const adminTarget = process.env.VITE_ADMIN_TARGET ?? 'http://127.0.0.1:8081';

export default defineConfig({
  base: './',
  plugins: [react()],
  resolve: { alias: { '@headroom/shared/contracts': contracts } },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1000 },
  server: { proxy: { '/api': adminTarget, '/metrics': adminTarget } },
});
