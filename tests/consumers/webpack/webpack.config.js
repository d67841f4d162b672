// webpack 5 defaults are enough: `new URL("./x.wasm", import.meta.url)` in the
// SDK becomes an asset module (the wasm is copied to dist/ and its URL
// rewritten), and top-level await is on by default since webpack 5.83.
const path = require("node:path");

module.exports = {
  mode: "production",
  entry: "./src/index.js",
  output: { path: path.resolve(__dirname, "dist"), filename: "main.js", clean: true },
};
