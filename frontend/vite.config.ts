// Build, dev-server and unit-test configuration of the dashboard (Vite + Vitest).
import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

/** Where `npm run dev` forwards API and event-stream calls (a local `cadre serve`). */
const DEV_API_TARGET = process.env.CADRE_DEV_API ?? 'http://127.0.0.1:18181';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
  },
  server: {
    proxy: {
      '/api': { target: DEV_API_TARGET, changeOrigin: false },
      '/ws': { target: DEV_API_TARGET, ws: true },
      '/readyz': { target: DEV_API_TARGET },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
    restoreMocks: true,
    // A loaded CI machine runs timers and renders late: tests wait for throttled re-reads with
    // generous `waitFor` limits, and a test may take that long.
    testTimeout: 30_000,
  },
});
