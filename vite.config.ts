// The UI's build: Vite bundles renderer/ into dist/renderer, which the core serves at /
// (main/core/http/ui-static.ts) under a strict CSP: no inline scripts, so Vite's
// module-preload polyfill (an inline script in some setups) is off, and nothing is
// inlined as a data: script. `npm run dev:ui` serves the UI with hot reload, proxying the
// APIs to a running `flint serve` on FLINT_PORT (default 8787).
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const core = `http://127.0.0.1:${process.env.FLINT_PORT ?? '8787'}`;

export default defineConfig({
  root: 'renderer',
  base: '/',
  plugins: [react()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    target: 'chrome120',
    sourcemap: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 500,
  },
  server: {
    host: '127.0.0.1',
    proxy: { '/fhir': core, '/auth': core, '/flint': core },
  },
});
