#!/usr/bin/env bash
# Bring up the demo stack: build, then run the reference server (coordinator,
# one simulated `echo` and one `generator` machine, the demo page from www/ and the SDK from pkg/)
# in the foreground. Ctrl-C stops it.
#   DEMO_ADDR=127.0.0.1:9000 npm run demo   # another address
set -euo pipefail
cd "$(dirname "$0")/.."
addr="${DEMO_ADDR:-127.0.0.1:8080}"

bash scripts/build.sh

echo
echo "Demo: http://$addr/   (API key: dev-key; models: echo, generator; Ctrl-C to stop)"
echo
exec target/server/reactor-server --listen "$addr" --machines echo=1,generator=1
