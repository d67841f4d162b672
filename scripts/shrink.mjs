// Makes the packaged SDK small: what a page downloads is the wasm plus
// wasm-bindgen's JS glue, so both are squeezed after wasm-bindgen wrote them.
// Run by scripts/build.sh after scripts/package.mjs (which checks the glue's
// exports while it is still readable).
//
//   1. wasm-opt -Oz (and a few passes that find a little more) on the wasm,
//      without the custom sections no browser reads.
//   2. wasm-opt --minify-imports-and-exports-and-modules: wasm-bindgen names
//      each import `__wbg_<name>_<hash>` in a module "./reactor_sdk_bg.js";
//      those strings sit in both files and cost ~2.5 KB gzipped. The pass
//      renames them to one- or two-letter names in a single module and prints
//      the mapping, which step 3 applies to the glue.
//   3. The glue's import object keys, its module table and its `wasm.<export>`
//      uses are rewritten with that mapping. Every rename must apply exactly
//      where expected, or this script fails: a glue that does not match its
//      wasm would only fail later, at instantiation, in a user's page.
//   4. initSync, which nothing can reach, goes; the inline_js snippets move
//      into the glue (one file fewer to fetch).
//   5. terser minifies the glue and the entry.
//
// Usage: node scripts/shrink.mjs [pkgDir]   (default: pkg/)
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { minify } from "terser";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const pkgDir = resolve(process.argv[2] ?? join(root, "pkg"));
const wasmPath = join(pkgDir, "reactor_sdk_bg.wasm");
const gluePath = join(pkgDir, "reactor_sdk.js");
const GLUE_MODULE = "./reactor_sdk_bg.js"; // wasm-bindgen's module name for its own imports

function die(msg) {
  console.error(`shrink.mjs: ${msg}`);
  process.exit(1);
}
for (const f of [wasmPath, gluePath]) if (!existsSync(f)) die(`${f} missing: run wasm-bindgen first`);

// npm's binaryen (a devDependency) first: newer than Debian's, and the same everywhere.
const localOpt = join(root, "node_modules", ".bin", "wasm-opt");
const wasmOpt = existsSync(localOpt) ? localOpt : "wasm-opt";
// Exactly the features rustc's wasm32 target enables; nothing newer may appear.
const FEATURES = [
  "--enable-bulk-memory",
  "--enable-mutable-globals",
  "--enable-multivalue",
  "--enable-nontrapping-float-to-int",
  "--enable-reference-types",
  "--enable-sign-ext",
];
const opt = (...args) => execFileSync(wasmOpt, [...FEATURES, ...args, wasmPath, "-o", wasmPath], { encoding: "utf8" });
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const before = { wasm: statSync(wasmPath).size, glue: statSync(gluePath).size };

// ---- 1 + 2: the wasm ----------------------------------------------------------
// Rust's wasm32 layout puts the stack (1 MiB) first, so the low 1 KiB is never
// used and memory starts zeroed (the wasm defines it; nothing imports it).
// Flattening and re-looping between -Oz rounds finds ~0.5 KB more; GUFA
// (whole-program value flow: constants and unreachable call targets) before
// and after them ~0.1 KB.
opt(
  "--low-memory-unused",
  "--zero-filled-memory",
  "-Oz",
  "--gufa-optimizing",
  "--flatten",
  "--rereloop",
  "-Oz",
  "-Oz",
  "--converge",
  "--gufa-optimizing",
  "-Oz",
  "--strip-target-features",
  "--strip-producers",
);
const printed = opt("--minify-imports-and-exports-and-modules");
let map;
try {
  // The pass prints its mapping as one JSON object: imports [module, name, new], exports [name, new].
  map = JSON.parse(printed.slice(printed.indexOf("{"), printed.lastIndexOf("}") + 1));
} catch (e) {
  die(`cannot read wasm-opt's mapping (${e.message}):\n${printed.slice(0, 400)}`);
}
const module = new WebAssembly.Module(readFileSync(wasmPath));
const modules = [...new Set(WebAssembly.Module.imports(module).map((i) => i.module))];
if (modules.length !== 1) die(`expected one import module after minifying, got ${JSON.stringify(modules)}`);
const [newModule] = modules;
const importNames = new Set(WebAssembly.Module.imports(module).map((i) => i.name));
const exportNames = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
for (const [, , to] of map.imports) if (!importNames.has(to)) die(`the mapping names import ${to}, the wasm has none`);
for (const [, to] of map.exports) if (!exportNames.has(to)) die(`the mapping names export ${to}, the wasm has none`);

// ---- 3: the glue --------------------------------------------------------------
let glue = readFileSync(gluePath, "utf8");
const replaceOnce = (pattern, replacement, what) => {
  const hits = glue.match(new RegExp(pattern.source, pattern.flags.replace("g", "") + "g"))?.length ?? 0;
  if (hits !== 1) die(`${what}: expected exactly one match of ${pattern}, found ${hits}`);
  glue = glue.replace(pattern, replacement);
};

// The module table at the end of __wbg_get_imports: { "./reactor_sdk_bg.js": import0, "<snippet>": import1, ... }
const tableMatch = glue.match(/return \{\s*__proto__: null,((?:\s*"[^"]+": import\d+,)+)\s*\};/);
if (!tableMatch) die("cannot find the import module table in the glue");
const namespaceOf = new Map([...tableMatch[1].matchAll(/"([^"]+)": (import\d+)/g)].map((m) => [m[1], m[2]]));
const own = namespaceOf.get(GLUE_MODULE);
if (!own) die(`the glue's module table has no ${GLUE_MODULE}`);

const fromSnippets = [];
for (const [fromModule, name, to] of map.imports) {
  if (fromModule === GLUE_MODULE) {
    // `        __wbg_foo_0123abcd: function(` in the import0 object literal.
    replaceOnce(new RegExp(`^(\\s+)${escape(name)}(?=: )`, "m"), `$1${JSON.stringify(to)}`, `import ${name}`);
  } else if (namespaceOf.has(fromModule)) {
    fromSnippets.push(`${JSON.stringify(to)}: ${namespaceOf.get(fromModule)}[${JSON.stringify(name)}]`);
  } else {
    die(`import ${fromModule} ${name}: its module is not in the glue's module table`);
  }
}
const merged = fromSnippets.length ? `Object.assign(${own}, { ${fromSnippets.join(", ")} })` : own;
replaceOnce(/return \{\s*__proto__: null,(?:\s*"[^"]+": import\d+,)+\s*\};/, `return { __proto__: null, ${JSON.stringify(newModule)}: ${merged} };`, "module table");

for (const [name, to] of map.exports) {
  glue = glue.replace(new RegExp(`\\bwasm\\.${escape(name)}\\b`, "g"), `wasm[${JSON.stringify(to)}]`);
}
const stale = [...glue.matchAll(/\bwasm\.([A-Za-z_$][\w$]*)/g)].map((m) => m[1]).filter((n) => !exportNames.has(n));
if (stale.length) die(`the glue still uses exports the wasm no longer has: ${[...new Set(stale)].join(", ")}`);
const leftover = glue.match(/__wbg_[\w$]+_[0-9a-f]{16}(?=: function)/);
if (leftover) die(`import ${leftover[0]} was not renamed`);

// ---- initSync goes ---------------------------------------------------------------
// The entry instantiates the wasm with the async init; the package's `exports`
// do not expose the glue, so its synchronous twin is dead code to a page.
replaceOnce(/^export \{ initSync, __wbg_init as default \};$/m, "export { __wbg_init as default };", "the glue's exports");
const dtsPath = join(pkgDir, "reactor_sdk.d.ts");
const dts = readFileSync(dtsPath, "utf8");
const withoutSync = dts.replace(/\/\*\*(?:(?!\*\/)[\s\S])*\*\/\s*export function initSync\([^\n]*\n/, "");
if (withoutSync === dts) die("reactor_sdk.d.ts declares no initSync to remove");
// InitOutput names the wasm's exports as they were before step 2 renamed them.
const exportsTyped = withoutSync.replace(/^export interface InitOutput \{\n(?:    [^\n]*\n)*\}\n/m, "export type InitOutput = WebAssembly.Exports;\n");
if (exportsTyped === withoutSync) die("reactor_sdk.d.ts declares no InitOutput interface to replace");
writeFileSync(dtsPath, exportsTyped);

// ---- the inline_js snippets move into the glue ---------------------------------
// One file instead of two: a separate request and gzip stream cost more than
// the few lines they hold. Each snippet becomes a scope inside the glue.
const snippetDir = join(pkgDir, "snippets");
for (const m of [...glue.matchAll(/^import \* as (import\d+) from "(\.\/snippets\/[^"]+)";?$/gm)]) {
  const [line, namespace, path] = m;
  let source = readFileSync(join(pkgDir, path), "utf8");
  const names = [...source.matchAll(/^export (?:async )?function\s+([A-Za-z_$][\w$]*)/gm)].map((e) => e[1]);
  source = source.replace(/^export (?=(?:async )?function\s)/gm, "");
  if (/^\s*export\b/m.test(source)) die(`${path}: only \`export function\` can be inlined`);
  // wasm-bindgen also imports the names it calls from JS directly: those
  // come from the namespace once it exists.
  let direct = "";
  glue = glue.replace(new RegExp(`^import \\{([^}]*)\\} from '${escape(path)}';?\n`, "m"), (_, list) => {
    direct = `const {${list}} = ${namespace};\n`;
    return "";
  });
  const scope = `const ${namespace} = (() => {\n${source}\nreturn { ${names.join(", ")} };\n})();\n${direct}`;
  replaceOnce(new RegExp(`^${escape(line)}$`, "m"), () => scope, `snippet ${path}`);
}
if (/from ['"]\.\/snippets\//.test(glue)) die("the glue still imports a snippet file");
if (existsSync(snippetDir)) {
  rmSync(snippetDir, { recursive: true });
  const manifestPath = join(pkgDir, "package.json");
  if (existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
    manifest.files = manifest.files.filter((f) => f !== "snippets/");
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + "\n");
  }
}

// ---- 4: terser ----------------------------------------------------------------
const squeeze = async (path, text) => {
  const out = await minify(text, { module: true, compress: { passes: 2 }, mangle: true, format: { comments: false } });
  if (!out.code) die(`terser produced nothing for ${path}`);
  writeFileSync(path, out.code);
};
await squeeze(gluePath, glue);
// The entry (js/index.js, copied by package.mjs) ships without its comments.
await squeeze(join(pkgDir, "index.js"), readFileSync(join(pkgDir, "index.js"), "utf8"));

const after = { wasm: statSync(wasmPath).size, glue: statSync(gluePath).size };
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(
  `shrink.mjs: ${relative(root, wasmPath)} ${kb(before.wasm)} -> ${kb(after.wasm)}, ` +
    `${relative(root, gluePath)} ${kb(before.glue)} -> ${kb(after.glue)} ` +
    `(${map.imports.length} imports, ${map.exports.length} exports renamed)`,
);
