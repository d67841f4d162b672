import { defineConfig } from "vite";

export default defineConfig({
  // The one line the SDK needs, for `vite dev` only: Vite's dependency
  // pre-bundling moves the package's JS into node_modules/.vite/deps/, so the
  // `new URL("./reactor_sdk_bg.wasm", import.meta.url)` in it would point to a
  // file that is not there. Excluding the package serves it as published.
  // `vite build` and `vite preview` work without this line.
  optimizeDeps: { exclude: ["@reactor-wasm/sdk"] },
});
