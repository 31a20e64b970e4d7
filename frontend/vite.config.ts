import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// Fonts stay files: the page's Content-Security-Policy takes fonts from this server only
// (font-src 'self'), so KaTeX's smallest ones must not be inlined as data: URLs.
const notFonts = (file: string) => (/\.(woff2?|ttf)$/.test(file) ? false : undefined);

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "../backend/dagrad/static",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
    assetsInlineLimit: notFonts,
  },
  server: { proxy: { "/api": "http://127.0.0.1:8000" } },
  test: { environment: "jsdom", include: ["src/**/*.test.ts", "src/**/*.test.tsx"], setupFiles: ["src/test-setup.ts"] },
});
