// The operator console's build: `make console` runs `vite build` with this file and writes
// console/dist/, which the gateway serves at /console (gateway/console.py).
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

const root = fileURLToPath(new URL('.', import.meta.url))

export default defineConfig({
  root,
  base: '/console/',
  // No public/ folder: every asset is imported, so every file name carries a content hash.
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The gateway's Content-Security-Policy allows no inline script or style, and no data: scripts.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: true,
    target: 'es2022',
  },
})
