#!/usr/bin/env bash
# Prepares the consumer apps; run by scripts/test.sh after the build, outside
# the network namespace (npm may need the registry for the bundlers):
#   1. npm pack pkg/ -> tests/consumers/reactor-wasm-sdk.tgz (git-ignored)
#   2. each app: npm ci when its node_modules are missing or older than its
#      lockfile, then `npm install --no-save` of the tarball (see README.md)
#   3. vite build (plain and React), webpack build
# Then tests/consumers/consumers.test.mjs runs the apps in Chromium, and
# `tsc -p tests/consumers/typescript` checks the API types against the
# packaged index.d.ts installed here.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tarball="$here/reactor-wasm-sdk.tgz"

say() { printf '\n== consumers: %s\n' "$*"; }
die() { printf '\nconsumers/prepare.sh: FAILED: %s\n' "$*" >&2; exit 1; }

[ -f "$root/pkg/package.json" ] && [ -f "$root/pkg/index.js" ] || die "pkg/ is not packaged: run npm run build"

say "npm pack pkg/"
packed=$(cd "$root/pkg" && npm pack --silent --pack-destination "$here")
mv "$here/$packed" "$tarball"
tar tzf "$tarball" | sed 's/^/   /'

for app in vite webpack vite-react typescript; do
  dir="$here/$app"
  if [ -f "$dir/package-lock.json" ] &&
    { [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; }; then
    say "$app: npm ci"
    (cd "$dir" && npm ci --prefer-offline --no-audit --no-fund) || die "$app: npm ci"
  fi
  say "$app: npm install --no-save the SDK tarball"
  # --no-save: the tarball changes with every build, and a lockfile entry
  # would pin its integrity (npm would then install its cached old copy).
  (cd "$dir" && npm install --no-save --offline --no-audit --no-fund "$tarball") || die "$app: install the tarball"
  installed="$dir/node_modules/@reactor-wasm/sdk"
  cmp -s "$root/pkg/reactor_sdk_bg.wasm" "$installed/reactor_sdk_bg.wasm" || die "$app: the installed wasm is not the one just built"
done

say "vite build"
(cd "$here/vite" && node_modules/.bin/vite build) || die "vite build"

say "vite build (React)"
(cd "$here/vite-react" && node_modules/.bin/vite build) || die "vite build (React)"

say "webpack build"
(cd "$here/webpack" && node_modules/.bin/webpack) || die "webpack build"

say "ready: vite/dist, vite-react/dist, webpack/dist, typescript/node_modules, the tarball for the plain page"
