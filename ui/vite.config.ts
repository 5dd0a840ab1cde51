import { defineConfig } from "vite";

export default defineConfig({
  clearScreen: false,
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    // Inline data: assets would need a looser CSP.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
