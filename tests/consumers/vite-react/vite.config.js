import { defineConfig } from "vite";

export default defineConfig({
  // JSX without a plugin: esbuild's automatic runtime (react/jsx-runtime).
  esbuild: { jsx: "automatic" },
  // As for any Vite app using the SDK's dev server (see ../vite): the
  // package's JS must stay next to its wasm.
  optimizeDeps: { exclude: ["@reactor-wasm/sdk"] },
});
