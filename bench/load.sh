#!/usr/bin/env bash
# Coordinator capacity: one reactor-server process holding 10,000 waiting
# WebSocket clients; latency of the position updates pushed to all of them on
# each hand-over of the machine. Not part of `npm test`.
#
#   bash bench/load.sh                      # 10,000 clients, 20 rounds
#   bash bench/load.sh --clients 2000 --rounds 5
#   bash bench/load.sh --help               # every option of the load generator
#   bash bench/load.sh --coordinators 2 --redis
#       the same clients spread over 2 coordinator processes sharing a private
#       redis-server; runs the single process first, in the same run, and
#       prints both p99s side by side (needs redis-server).
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

in_netns() {
  if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null \
    && unshare --net true 2>/dev/null; then
    unshare --net sh -c 'ip link set lo up && exec "$@"' load "$@"
  else
    echo "load.sh: no loopback-only network namespace (needs root, unshare and ip); using the host's 127.0.0.1" >&2
    "$@"
  fi
}

run=("$target/examples/load" --server "$target/reactor-server")
case " $* " in
  *" --coordinators "*) ;;
  *) in_netns "${run[@]}" "$@"; exit ;;
esac

# Both modes in one run: the single process (the arguments without
# --coordinators N and --redis), then the shared one.
single=()
skip=0
for arg in "$@"; do
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  case $arg in
    --coordinators) skip=1 ;;
    --redis) ;;
    *) single+=("$arg") ;;
  esac
done
logs=$(mktemp -d)
rc=0
echo "===== one coordinator, state in memory"
in_netns "${run[@]}" "${single[@]}" | tee "$logs/single" || rc=1
echo "===== $*"
in_netns "${run[@]}" "$@" | tee "$logs/shared" || rc=1
echo "===== side by side"
for mode in single shared; do
  printf '%-7s %s\n' "$mode" "$(grep -h '^latency from leave' "$logs/$mode" || echo 'no result')"
  grep -h '^CPU during' "$logs/$mode" | sed 's/^/        /' || true
  printf '%-7s %s\n' "" "$(grep -h '^result:' "$logs/$mode" || true)"
done
rm -rf "$logs"
exit "$rc"
