#!/usr/bin/env bash
# Build everything the demo and the tests need:
#   pkg/                         the SDK as an ES module + wasm (cargo with a pinned nightly, then
#                                wasm-bindgen --target web), made into the npm package
#                                @reactor-wasm/sdk by scripts/package.mjs, squeezed by scripts/shrink.mjs
#   target/server/reactor-server the reference coordinator + simulated machines
#
# Why nightly for the SDK's wasm (only there): `-Zbuild-std` rebuilds std for
# size (optimize_for_size) with panics as plain traps and no panic locations,
# about 3.5 KB gzipped less than stable's prebuilt std. The date is pinned so
# every machine builds the same bytes; .ci/run installs it. The server, the
# native tests and `wasm-pack test` stay on stable.
#
# Offline: build once while online (`cargo fetch` gets the workspace's crates;
# the first SDK build also fetches the crates std is rebuilt from), then run
# with CARGO_NET_OFFLINE=true.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
SDK_TOOLCHAIN=$(cat scripts/sdk-toolchain)
SDK_TARGET_DIR=target/sdk

say() { printf '\n== build: %s\n' "$*"; }
die() { printf '\nbuild.sh: FAILED: %s\n' "$*" >&2; exit 1; }

command -v wasm-bindgen >/dev/null || die "wasm-bindgen not found (run .ci/run, or: cargo install wasm-bindgen-cli --version <Cargo.lock's>)"
[ -d node_modules/terser ] || die "node_modules/terser missing (npm ci)"
rustup run "$SDK_TOOLCHAIN" rustc --version >/dev/null 2>&1 ||
  die "toolchain $SDK_TOOLCHAIN missing (run .ci/run, or: rustup toolchain install $SDK_TOOLCHAIN --profile minimal --component rust-src)"

say "SDK -> $SDK_TARGET_DIR (cargo +$SDK_TOOLCHAIN build --release, std rebuilt for size)"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none" \
  cargo "+$SDK_TOOLCHAIN" build --release --lib --target wasm32-unknown-unknown --target-dir "$SDK_TARGET_DIR" \
  -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size || die "cargo build (SDK)"

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
