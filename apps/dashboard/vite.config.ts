import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The browser bundle takes only the shared contracts (node-only logger/config stay out).
const contracts = fileURLToPath(new URL('../../packages/shared/src/contracts/index.ts', import.meta.url));
const adminTarget = process.env.VITE_ADMIN_TARGET ?? 'http://127.0.0.1:8081';

// Libraries in chunks of their own: each stays under the size warning and is cached
// across dashboard releases that change only our code.
const vendorChunks = [
  { name: 'react', test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/ },
  {
    name: 'charts',
    test: /node_modules[\\/](recharts|d3-[a-z-]+|victory-vendor|@reduxjs|redux|immer|reselect)[\\/]/,
  },
  { name: 'zod', test: /node_modules[\\/]zod[\\/]/ },
];

export default defineConfig({
  base: './',
  plugins: [react()],
  resolve: { alias: { '@headroom/shared/contracts': contracts } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rolldownOptions: { output: { codeSplitting: { groups: vendorChunks } } },
  },
  server: { proxy: { '/api': adminTarget, '/metrics': adminTarget } },
});
