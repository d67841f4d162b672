// Size of what a web app downloads from the package: every runtime file of
// pkg/ (the wasm, wasm-bindgen's JS glue with its snippets inlined by
// scripts/shrink.mjs, the entry index.js), each compressed with gzip -9,
// summed. Type declarations, package.json and the README are not downloaded
// by a page and not counted. The React entry (react.js, imported only through
// `@reactor-wasm/sdk/react`) is reported on its own line and kept out of the
// total: an app that imports the core does not download it.
// Usage: node bench/size.mjs [--update-readme]   (after `npm run build`; exits 1 when pkg/ is missing)
// Exits 1 when the total is over the 93 KB budget (issue 10 aims at 80 KB: see README "Package size"), so
// `npm test` catches growth: the build is deterministic (Cargo.lock, the
// exact wasm-bindgen, package-lock's binaryen and terser, no path of the
// builder's in the wasm: scripts/build.sh), so the figure is the same on
// every machine with the same rustc (.ci/run prints it).
// It also says whether README.md's table (between <!-- size:start --> and
// <!-- size:end -->) shows these figures; --update-readme rewrites that table.
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { gzipSync, constants } from "node:zlib";
import { fileURLToPath } from "node:url";
import { join, dirname, relative } from "node:path";

const TARGET_KB = 93;
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = join(root, "pkg");

if (!existsSync(join(pkg, "package.json")) || !existsSync(join(pkg, "index.js"))) {
  console.error("size: pkg/ is not built and packaged; build first (npm run build)");
  process.exit(1);
}

// The package's own file list (scripts/package.mjs writes it), directories expanded.
const walk = (p) => (statSync(p).isDirectory() ? readdirSync(p).flatMap((f) => walk(join(p, f))) : [p]);
const listed = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")).files ?? [];
const files = listed
  .flatMap((f) => walk(join(pkg, f)))
  .filter((f) => /\.(js|mjs|wasm)$/.test(f) && !f.endsWith(".d.ts"))
  .map((f) => relative(root, f));
for (const need of ["pkg/index.js", "pkg/reactor_sdk.js", "pkg/reactor_sdk_bg.wasm"]) {
  if (!files.includes(need)) {
    console.error(`size: ${need} is not in pkg/package.json's files: pkg/ is not packaged (npm run build, or node scripts/package.mjs after wasm-pack)`);
    process.exit(1);
  }
}

const kb = (n) => (n / 1024).toFixed(1);
const REACT_ENTRY = "pkg/react.js";
if (!files.includes(REACT_ENTRY)) {
  console.error(`size: ${REACT_ENTRY} is not in pkg/package.json's files: pkg/ is not packaged (npm run build)`);
  process.exit(1);
}
const measure = (f) => {
  const raw = readFileSync(join(root, f));
  const gz = gzipSync(raw, { level: constants.Z_BEST_COMPRESSION });
  return { file: f, raw: raw.length, gz: gz.length };
};
const rows = files.filter((f) => f !== REACT_ENTRY).map(measure);
const react = measure(REACT_ENTRY);
const total = rows.reduce((s, r) => ({ raw: s.raw + r.raw, gz: s.gz + r.gz }), { raw: 0, gz: 0 });

const w = Math.max(...files.map((f) => f.length), 5) + " (React entry, not in the total)".length;
const line = (a, b, c) => console.log(`${a.padEnd(w)}  ${b.padStart(10)}  ${c.padStart(10)}`);
line("file", "raw KB", "gzip-9 KB");
for (const r of rows) line(r.file, kb(r.raw), kb(r.gz));
line("total", kb(total.raw), kb(total.gz));
line(`${REACT_ENTRY} (React entry, not in the total)`, kb(react.raw), kb(react.gz));
const within = total.gz <= TARGET_KB * 1024;
console.log(
  `size: ${kb(total.gz)} KB gzipped in total (${total.gz} bytes; wasm + JS glue + entry, each gzip -9); target <= ${TARGET_KB} KB: ` +
    (within ? "within" : `OVER by ${kb(total.gz - TARGET_KB * 1024)} KB`),
);

// ---- README.md's table -------------------------------------------------------------
const group = (pred) => rows.filter((r) => pred(r.file)).reduce((s, r) => ({ raw: s.raw + r.raw, gz: s.gz + r.gz }), { raw: 0, gz: 0 });
const wasm = group((f) => f.endsWith(".wasm"));
const glue = group((f) => f.endsWith(".js") && !f.endsWith("/index.js"));
const entry = group((f) => f.endsWith("/index.js"));
const table = [
  "| file | raw | gzip -9 |",
  "|---|---|---|",
  `| \`reactor_sdk_bg.wasm\` | ${kb(wasm.raw)} KB | ${kb(wasm.gz)} KB |`,
  `| \`reactor_sdk.js\` (glue, its inline_js snippet inside) | ${kb(glue.raw)} KB | ${kb(glue.gz)} KB |`,
  `| \`index.js\` (entry) | ${kb(entry.raw)} KB | ${kb(entry.gz)} KB |`,
  `| **total** | **${kb(total.raw)} KB** | **${kb(total.gz)} KB** (${total.gz.toLocaleString("en")} bytes) |`,
  `| \`react.js\` (\`@reactor-wasm/sdk/react\` only; not in the total) | ${kb(react.raw)} KB | ${kb(react.gz)} KB |`,
].join("\n");
const readmePath = join(root, "README.md");
const START = "<!-- size:start -->\n";
const END = "<!-- size:end -->";
const readme = existsSync(readmePath) ? readFileSync(readmePath, "utf8") : "";
const a = readme.indexOf(START);
const b = readme.indexOf(END);
if (a < 0 || b < a) {
  console.log("size: README.md has no <!-- size:start --> / <!-- size:end --> table");
} else if (readme.slice(a + START.length, b) === `${table}\n`) {
  console.log("size: README.md's table shows these figures");
} else if (process.argv.includes("--update-readme")) {
  writeFileSync(readmePath, readme.slice(0, a + START.length) + `${table}\n` + readme.slice(b));
  console.log("size: README.md's table updated");
} else {
  console.log("size: README.md's table is stale (node bench/size.mjs --update-readme rewrites it)");
}

if (!within) {
  console.error(`size: FAILED: the package is over its ${TARGET_KB} KB budget; make it smaller (README: Package size)`);
  process.exitCode = 1;
}
