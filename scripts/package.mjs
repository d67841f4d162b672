// Turns wasm-bindgen's output in pkg/ into the npm package users install.
// Run by scripts/build.sh right after `wasm-bindgen --target web --out-dir pkg`.
//
//   - copies the entry module js/index.js (+ js/index.d.ts) into pkg/: it
//     instantiates the wasm with a top-level await, so importers need no
//     init() call and no bundler plugin;
//   - checks that the entry re-exports everything the generated module and
//     declarations export (apart from wasm-bindgen's init functions), so a
//     new export in src/ cannot silently go missing from the package;
//   - copies the React entry js/react.js (+ js/react.d.ts), the subpath
//     export `@reactor-wasm/sdk/react`; React is an optional peer
//     dependency, so apps without React install nothing more;
//   - writes pkg/package.json: name, version/license/description/repository
//     from Cargo.toml, ESM `exports` with `types`, `files`, `sideEffects`.
//
// Usage: node scripts/package.mjs [pkgDir]   (default: pkg/)
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const PACKAGE_NAME = "@reactor-wasm/sdk";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const pkgDir = resolve(process.argv[2] ?? join(root, "pkg"));
const crate = "reactor_sdk"; // wasm-bindgen's file stem for the crate `reactor-sdk`

function die(msg) {
  console.error(`package.mjs: ${msg}`);
  process.exit(1);
}

/** The `[package]` table of Cargo.toml, for the simple `key = "string"` lines. */
function cargoPackage() {
  const text = readFileSync(join(root, "Cargo.toml"), "utf8");
  const section = text.split(/^\[package\]\s*$/m)[1]?.split(/^\[/m)[0];
  if (!section) die("no [package] section in Cargo.toml");
  const fields = {};
  for (const m of section.matchAll(/^([a-z_-]+)\s*=\s*"([^"]*)"\s*$/gm)) fields[m[1]] = m[2];
  for (const key of ["version", "license", "description", "repository"]) {
    if (!fields[key]) die(`Cargo.toml [package] has no ${key}`);
  }
  return fields;
}

const generated = [`${crate}.js`, `${crate}.d.ts`, `${crate}_bg.wasm`];
for (const f of generated) {
  if (!existsSync(join(pkgDir, f))) die(`${join(pkgDir, f)} missing: run scripts/build.sh first`);
}

const ENTRIES = ["index.js", "index.d.ts", "react.js", "react.d.ts"];
for (const f of ENTRIES) copyFileSync(join(root, "js", f), join(pkgDir, f));

// ---- the entry must re-export everything users may need ----------------------
const INIT_ONLY = new Set(["default", "initSync", "InitInput", "InitOutput", "SyncInitInput", "__wbg_init"]);
const exportedNames = (text) =>
  new Set(
    [...text.matchAll(/^export\s+(?:declare\s+)?(?:default\s+)?(?:class|interface|type|function|const|let|enum)\s+([A-Za-z_$][\w$]*)/gm)].map(
      (m) => m[1],
    ),
  );
const reexported = (text) => {
  const names = new Set();
  for (const m of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of m[1].split(",")) {
      const name = part.trim().split(/\s+as\s+/).pop().trim();
      if (name) names.add(name);
    }
  }
  return names;
};
const problems = [];
const genDts = exportedNames(readFileSync(join(pkgDir, `${crate}.d.ts`), "utf8"));
const entryDts = reexported(readFileSync(join(pkgDir, "index.d.ts"), "utf8"));
for (const n of genDts) if (!INIT_ONLY.has(n) && !entryDts.has(n)) problems.push(`js/index.d.ts does not re-export the type ${n}`);
const genJs = exportedNames(readFileSync(join(pkgDir, `${crate}.js`), "utf8"));
const genJsTail = readFileSync(join(pkgDir, `${crate}.js`), "utf8").matchAll(/^export\s*\{([^}]*)\}/gm);
for (const m of genJsTail) for (const p of m[1].split(",")) genJs.add(p.trim().split(/\s+as\s+/).pop().trim());
const entryJs = reexported(readFileSync(join(pkgDir, "index.js"), "utf8"));
for (const n of genJs) if (n && !INIT_ONLY.has(n) && !entryJs.has(n)) problems.push(`js/index.js does not re-export ${n}`);
for (const n of entryJs) if (!entryDts.has(n)) problems.push(`js/index.js exports ${n} but js/index.d.ts does not declare it`);
if (problems.length) die(`the entry is out of step with the generated module:\n  ${problems.join("\n  ")}`);

const cargo = cargoPackage();

// ---- README.md: the repository's, with its relative links made absolute --------
// (on a registry's page, `docs/demo.png` or `PROTOCOL.md` would lead nowhere)
const readme = readFileSync(join(root, "README.md"), "utf8").replace(
  /(!?)\[([^\]]*)\]\((?![a-z]+:|#)([^)\s]+)\)/g,
  (_, bang, text, path) => `${bang}[${text}](${cargo.repository}/${bang ? "raw" : "blob"}/HEAD/${path.replace(/^\.\//, "")})`,
);
writeFileSync(join(pkgDir, "README.md"), readme);

// ---- package.json -------------------------------------------------------------
const snippets = existsSync(join(pkgDir, "snippets")) && readdirSync(join(pkgDir, "snippets")).length > 0;
const manifest = {
  name: PACKAGE_NAME,
  version: cargo.version,
  description: cargo.description,
  license: cargo.license,
  repository: { type: "git", url: `git+${cargo.repository}.git` },
  keywords: ["webrtc", "wasm", "webassembly", "real-time", "video", "ai", "reactor"],
  type: "module",
  main: "./index.js",
  module: "./index.js",
  types: "./index.d.ts",
  exports: {
    ".": { types: "./index.d.ts", default: "./index.js" },
    "./react": { types: "./react.d.ts", default: "./react.js" },
    "./reactor_sdk_bg.wasm": "./reactor_sdk_bg.wasm",
    "./package.json": "./package.json",
  },
  files: [...ENTRIES, ...generated, ...(snippets ? ["snippets/"] : [])],
  // index.js instantiates the wasm (top-level await): a bundler must never
  // skip it when it follows re-exports, or Reactor would run uninitialised.
  sideEffects: ["./index.js"],
  peerDependencies: { react: "^18.0.0 || ^19.0.0" },
  peerDependenciesMeta: { react: { optional: true } },
};
writeFileSync(join(pkgDir, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(`package.mjs: ${PACKAGE_NAME}@${manifest.version} in ${pkgDir} (${manifest.files.join(", ")})`);
