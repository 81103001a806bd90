// The pages' build: two HTML entries (history and settings), TypeScript bundled into ui/dist,
// which the windows process embeds (tauri.conf.json `frontendDist`). No inline script or style is
// emitted, so the CSP stays `script-src 'self'; style-src 'self'`.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// (Not import.meta.dirname: Debian 12's Node.js 18 lacks it.)
const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  clearScreen: false,
  logLevel: 'warn',
  build: {
    outDir: resolve(root, 'dist'),
    emptyOutDir: true,
    // WebKitGTK 2.40+ (Debian 12), WebView2 (Chromium), WKWebView (Safari 15+).
    target: ['es2022', 'safari15', 'chrome105'],
    // A data: URL for a small asset would need `img-src data:` for more than event images.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    rollupOptions: {
      input: {
        history: resolve(root, 'index.html'),
        settings: resolve(root, 'settings.html'),
      },
      output: {
        // What both pages use (ui/src/lib, @tauri-apps/api, the base style) in one named chunk.
        manualChunks: (id) => (id.includes('/src/lib/') || id.includes('/node_modules/') ? 'shared' : undefined),
      },
    },
  },
});
