import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

/** The dashboard builds into dist/web, which `ascend server` serves at `/` (hashed files under /assets/). */
export default defineConfig({
  root: here,
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // No inline scripts or modulepreload polyfill: the server's CSP allows only this origin's script files.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
