#!/usr/bin/env bash
# Build everything the demo and the tests need:
#   pkg/                         the SDK as an ES module + wasm (wasm-pack, release, --target web),
#                                made into the npm package @reactor-wasm/sdk by scripts/package.mjs
#   target/server/reactor-server the reference coordinator + simulated machines
#
# Offline: fetch the crates once while online (`cargo fetch`), then run with
# CARGO_NET_OFFLINE=true (cargo and wasm-pack's cargo both honour it).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
# npm's binaryen (devDependency) is newer than Debian's and shrinks the wasm a
# little more; Debian's `binaryen` is the fallback.
[ -x node_modules/.bin/wasm-opt ] && export PATH="$PWD/node_modules/.bin:$PATH"

say() { printf '\n== build: %s\n' "$*"; }
die() { printf '\nbuild.sh: FAILED: %s\n' "$*" >&2; exit 1; }

command -v wasm-pack >/dev/null || die "wasm-pack not found (run .ci/run, or: cargo install wasm-pack)"
command -v wasm-opt  >/dev/null || die "wasm-opt not found (apt-get install binaryen); wasm-pack would try to download one"

say "SDK -> pkg/ (wasm-pack build --release --target web; $(wasm-opt --version))"
wasm-pack build --release --target web --out-dir pkg || die "wasm-pack build"

say "pkg/ -> npm package (scripts/package.mjs: entry index.js, package.json)"
node scripts/package.mjs pkg || die "scripts/package.mjs"

say "server -> target/server/reactor-server (cargo build --profile server)"
cargo build -p reactor-server --profile server || die "cargo build -p reactor-server --profile server"

say "done: pkg/ (@reactor-wasm/sdk: index.js, reactor_sdk.js, reactor_sdk_bg.wasm), target/server/reactor-server"
