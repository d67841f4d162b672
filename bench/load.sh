#!/usr/bin/env bash
# Coordinator capacity: one reactor-server process holding 10,000 waiting
# WebSocket clients; latency of the position updates pushed to all of them on
# each hand-over of the machine. Not part of `npm test`.
#
#   bash bench/load.sh                      # 10,000 clients, 20 rounds
#   bash bench/load.sh --clients 2000 --rounds 5
#   bash bench/load.sh --help               # every option of the load generator
#
# Builds the coordinator and the load generator (server/examples/load.rs) with
# the `server` profile, then runs the generator, which spawns the coordinator
# as its own process on 127.0.0.1. As root, it runs inside a fresh network
# namespace whose only interface is loopback. Exit status 0 = every update
# arrived, in order, and the overall p99 was under 100 ms.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet -p reactor-server --profile server --bin reactor-server --example load
target="${CARGO_TARGET_DIR:-target}/server"

# 10,000 sockets on each side: lift the soft open-file limit to the hard one
# (the generator does it too; the coordinator inherits it).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

run=("$target/examples/load" --server "$target/reactor-server" "$@")
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null \
  && unshare --net true 2>/dev/null; then
  exec unshare --net sh -c 'ip link set lo up && exec "$@"' load "${run[@]}"
fi
echo "load.sh: no loopback-only network namespace (needs root, unshare and ip); using the host's 127.0.0.1" >&2
exec "${run[@]}"
