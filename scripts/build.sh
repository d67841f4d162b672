#!/usr/bin/env bash
# Build everything the demo and the tests need:
#   pkg/                         the SDK as an ES module + wasm (cargo build --release for wasm32 on
#                                stable Rust, then wasm-bindgen --target web), made into the npm package
#                                @reactor-wasm/sdk by scripts/package.mjs, squeezed by scripts/shrink.mjs
#   target/server/reactor-server the reference coordinator + simulated machines
#
# Offline: build once while online (`cargo fetch` gets the workspace's
# crates), then run with CARGO_NET_OFFLINE=true.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
SDK_TARGET_DIR=target/sdk

say() { printf '\n== build: %s\n' "$*"; }
die() { printf '\nbuild.sh: FAILED: %s\n' "$*" >&2; exit 1; }

command -v wasm-bindgen >/dev/null || die "wasm-bindgen not found (run .ci/run, or: cargo install wasm-bindgen-cli --version <Cargo.lock's>)"
[ -d node_modules/terser ] || die "node_modules/terser missing (npm ci)"
rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown ||
  die "the wasm32-unknown-unknown target is missing (run .ci/run, or: rustup target add wasm32-unknown-unknown)"

# Panic locations name their source files, so the wasm would hold the
# builder's crate cache path (/root/.cargo/registry/src/index.crates.io-<hash>/,
# the hash depending on cargo's version): its bytes, and the size bench/size.mjs
# pins, would change with the user and the cargo that built it. Each crate
# source directory is remapped to nothing (`gloo-net-0.6.0/src/error.rs`);
# the crates are fetched first, so the directories exist. The workspace's own
# files are named relative to it already. Encoded flags: CARGO_HOME may hold
# spaces.
cargo fetch -q || die "cargo fetch"
remap=()
for dir in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
  remap+=("--remap-path-prefix=$dir=")
done

say "SDK -> $SDK_TARGET_DIR (cargo build --release --target wasm32-unknown-unknown)"
CARGO_ENCODED_RUSTFLAGS=$(IFS=$'\x1f' && echo "${remap[*]}") \
  cargo build --release --lib --target wasm32-unknown-unknown --target-dir "$SDK_TARGET_DIR" || die "cargo build (SDK)"

say "wasm -> pkg/ ($(wasm-bindgen --version) --target web)"
rm -rf pkg
wasm-bindgen --target web --out-dir pkg "$SDK_TARGET_DIR/wasm32-unknown-unknown/release/reactor_sdk.wasm" || die "wasm-bindgen"

say "pkg/ -> npm package (scripts/package.mjs: entry index.js, package.json)"
node scripts/package.mjs pkg || die "scripts/package.mjs"

say "pkg/ -> small (scripts/shrink.mjs: wasm-opt -Oz, short import names, terser)"
node scripts/shrink.mjs pkg || die "scripts/shrink.mjs"

say "server -> target/server/reactor-server (cargo build --profile server)"
cargo build -p reactor-server --profile server || die "cargo build -p reactor-server --profile server"

say "done: pkg/ (@reactor-wasm/sdk: index.js, reactor_sdk.js, reactor_sdk_bg.wasm), target/server/reactor-server"
