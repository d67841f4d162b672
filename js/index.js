// The package entry: loads the wasm once, then exports the Reactor class.
//
// `import { Reactor } from "@reactor-wasm/sdk"` is all an app writes: no
// init() call and no bundler plugin. The wasm is located with
// `new URL(..., import.meta.url)`, the pattern Vite, webpack 5, Rollup,
// esbuild-based tools and plain browsers all understand (bundlers copy the
// file and rewrite the URL). The top-level await makes every importer wait
// until the module is instantiated, so `new Reactor()` is usable right away.
import init from "./reactor_sdk.js";

await init({ module_or_path: new URL("./reactor_sdk_bg.wasm", import.meta.url) });

export { Reactor } from "./reactor_sdk.js";
