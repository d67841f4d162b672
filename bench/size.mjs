// Size of what a web app downloads: gzip -9 of the wasm and its JS glue.
// Usage: node bench/size.mjs   (after `npm run build`; exits 1 when pkg/ is missing)
import { readFileSync, existsSync } from "node:fs";
import { gzipSync, constants } from "node:zlib";
import { fileURLToPath } from "node:url";
import { join, dirname } from "node:path";

const TARGET_KB = 35;
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const files = ["pkg/reactor_sdk_bg.wasm", "pkg/reactor_sdk.js"];

const missing = files.filter((f) => !existsSync(join(root, f)));
if (missing.length) {
  console.error(`size: missing ${missing.join(", ")}; build first (npm run build)`);
  process.exit(1);
}

const kb = (n) => (n / 1024).toFixed(1);
const rows = files.map((f) => {
  const raw = readFileSync(join(root, f));
  const gz = gzipSync(raw, { level: constants.Z_BEST_COMPRESSION });
  return { file: f, raw: raw.length, gz: gz.length };
});
const total = rows.reduce((s, r) => ({ raw: s.raw + r.raw, gz: s.gz + r.gz }), { raw: 0, gz: 0 });

const w = Math.max(...files.map((f) => f.length), 5);
const line = (a, b, c) => console.log(`${a.padEnd(w)}  ${b.padStart(10)}  ${c.padStart(10)}`);
line("file", "raw KB", "gzip-9 KB");
for (const r of rows) line(r.file, kb(r.raw), kb(r.gz));
line("total", kb(total.raw), kb(total.gz));
const within = total.gz <= TARGET_KB * 1024;
console.log(
  `size: ${kb(total.gz)} KB gzipped in total (${total.gz} bytes); target <= ${TARGET_KB} KB: ` +
    (within ? "within" : `OVER by ${kb(total.gz - TARGET_KB * 1024)} KB`),
);
