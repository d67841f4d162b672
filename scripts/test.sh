#!/usr/bin/env bash
# Every test, in order; stops at the first failing step.
#   0. lint:    cargo fmt --check; cargo clippy -D warnings (workspace, and the SDK for wasm32)
#   a. native:  cargo test --workspace            (core state machine, protocol, server;
#               in a loopback-only network namespace too: the server's tests may do WebRTC)
#   b. build:   scripts/build.sh                  (pkg/ and target/server/reactor-server)
#   c. browser: wasm-pack test --headless --chrome (in a loopback-only network namespace)
#   d. e2e:     node --test tests/e2e/             (in a loopback-only network namespace)
#      runtime: node --test tests/runtime/         (the SDK and the protocol against the real
#               reactor-runtime 2.10.1 serving tests/runtime-models/; in the namespace, one file at a time)
#      faults:  node --test tests/faults/          (faults caused for real: packets dropped with nftables,
#               bandwidth limited with tc, processes frozen and killed, WebSockets cut through a proxy;
#               in the namespace, one file at a time, since a network fault holds for the whole namespace)
#   e. pack:    tests/consumers/prepare.sh         (npm pack pkg/, install the tarball in a Vite and a
#               webpack 5 app and build them; outside the namespace: npm may need the registry)
#      consumers: node --test tests/consumers/     (those apps and a plain page in Chromium; in the namespace)
#      types:   tsc --strict -p tests/consumers/typescript (every API item against the packaged index.d.ts)
#   f. size:    node bench/size.mjs                (fails when the package is over its 93 KB gzip budget)
# Needs what .ci/run installs. Logs of each step: target/test-logs/.
# The last line is "N passed, N failed" over every test that reported a count.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=never
LOGDIR=target/test-logs
mkdir -p "$LOGDIR"

PASSED=0
FAILED=0
SUMMARY=()

say() { printf '\n===== %s\n' "$*"; }
finish() {
  say "summary"
  printf '%s\n' "${SUMMARY[@]}"
  echo "$PASSED passed, $FAILED failed"
}
die() {
  printf '\ntest.sh: FAILED: %s\n' "$*" >&2
  [ "$FAILED" -gt 0 ] || FAILED=1
  finish
  exit 1
}

# Adds the pass/fail counts a step printed (cargo/libtest and
# wasm-bindgen-test-runner: "test result: ... N passed; M failed";
# node's spec reporter: "ℹ pass N" / "ℹ fail N").
count() {
  local log=$1
  read -r STEP_P STEP_F < <(sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '
    /test result: / { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
    /^ℹ pass [0-9]+$/ { p += $3 }
    /^ℹ fail [0-9]+$/ { f += $3 }
    END { print p + 0, f + 0 }')
  PASSED=$((PASSED + STEP_P))
  FAILED=$((FAILED + STEP_F))
}

# step NAME COMMAND...: runs it, tees its output to a log, counts its tests.
step() {
  local name=$1 log="$LOGDIR/$1.log" rc
  shift
  say "step $name: $*"
  set +e
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  count "$log"
  SUMMARY+=("$(printf '%-9s %-6s (%s passed, %s failed)' "$name" "$([ "$rc" -eq 0 ] && echo ok || echo FAILED)" "$STEP_P" "$STEP_F")")
  [ "$rc" -eq 0 ] || die "step '$name' exited with $rc (full log: $LOGDIR/$name.log)"
}

# in_netns COMMAND...: runs it in a new network namespace whose only
# interface is loopback, so nothing a test starts can reach beyond 127.0.0.1.
in_netns() {
  unshare --net sh -c 'ip link set lo up && exec "$@"' in_netns "$@"
}

# ---- preflight: say what is missing instead of failing obscurely later
need() { command -v "$1" >/dev/null || die "$1 not found: $2 (.ci/run installs everything)"; }
need cargo "the Rust toolchain"
need wasm-pack "cargo install wasm-pack"
need wasm-bindgen "cargo install wasm-bindgen-cli --version <Cargo.lock's wasm-bindgen>"
need wasm-opt "apt-get install binaryen"
need chromium "apt-get install chromium"
need chromedriver "apt-get install chromium-driver"
need node "apt-get install nodejs"
need unshare "apt-get install util-linux"
need ip "apt-get install iproute2"
need redis-server "apt-get install redis-server (the tests of the coordinator's Redis mode start their own)"
need nft "apt-get install nftables (the fault suite drops packets with it)"
wb_lock=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
wb_have=$(wasm-bindgen --version | awk '{ print $2 }')
[ "$wb_lock" = "$wb_have" ] ||
  die "wasm-bindgen on PATH is $wb_have but Cargo.lock has $wb_lock (cargo install wasm-bindgen-cli --version $wb_lock)"
[ -d node_modules/playwright-core ] || die "node_modules missing: run npm ci"
runtime_python=$(bash scripts/install-runtime.sh --print)
[ -x "$runtime_python" ] || die "reactor-runtime missing at $runtime_python (bash scripts/install-runtime.sh)"
in_netns true || die "cannot create a network namespace (unshare --net needs root)"

# Everything the namespaced steps compile must be on disk before entering it.
if [ "${CARGO_NET_OFFLINE:-}" != "true" ]; then
  cargo fetch --quiet || echo "test.sh: warning: cargo fetch failed; going on with the crates already on disk"
fi

lint() {
  cargo fmt --all --check &&
    cargo clippy --workspace --all-targets -- -D warnings &&
    cargo clippy -p reactor-sdk --target wasm32-unknown-unknown --all-targets -- -D warnings
}
step lint lint
step native in_netns env CARGO_NET_OFFLINE=true cargo test --workspace
step build bash scripts/build.sh
# Chromium, as chromedriver ends it, leaves its profile dirs in TMPDIR:
# give it one of its own, gone when this script ends.
browser_tmp=$(mktemp -d)
trap 'rm -rf "$browser_tmp"' EXIT
step browser in_netns env TMPDIR="$browser_tmp" CARGO_NET_OFFLINE=true wasm-pack test --headless --chrome
step e2e in_netns node --test --test-reporter=spec --test-timeout=300000 tests/e2e/
step runtime in_netns node --test --test-reporter=spec --test-timeout=300000 --test-concurrency=1 tests/runtime/
step faults in_netns node --test --test-reporter=spec --test-timeout=300000 --test-concurrency=1 tests/faults/
step pack bash tests/consumers/prepare.sh
step consumers in_netns node --test --test-reporter=spec --test-timeout=300000 tests/consumers/
step types node_modules/.bin/tsc -p tests/consumers/typescript/tsconfig.json --strict
step size node bench/size.mjs

finish
