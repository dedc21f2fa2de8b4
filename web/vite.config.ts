/// <reference types="vitest" />
// The web UI's bundle: `npm run build` writes it to ../build/web (or $FUOTA_WEB_OUT), which
// fuotad serves at / ([http] web_root).
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: process.env.FUOTA_WEB_OUT ?? fileURLToPath(new URL('../build/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: false,
    chunkSizeWarningLimit: 300,
  },
  // `npm run dev`: the UI with hot reload, the API proxied to a running fuotad (./fuota up).
  server: {
    proxy: { '/api': process.env.FUOTA_URL ?? 'http://127.0.0.1:8080' },
  },
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
  },
});
