#!/usr/bin/env bash
# Runs the standard benchmark set recorded in docs/benchmarks.md: builds
# coffer, starts a server on a fresh data directory on loopback, and drives
# it with `coffer bench`. Usage: scripts/bench.sh [seconds-per-run]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/coffer" ./cmd/coffer
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$work/coffer" server --data "$work/data" --address "127.0.0.1:$port" >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do [ -f "$work/data/credentials" ] && grep -q serving "$work/server.log" && break; sleep 0.1; done
bench() {
  echo "== coffer bench $*"
  AWS_SHARED_CREDENTIALS_FILE="$work/data/credentials" "$work/coffer" bench \
    --endpoint "https://127.0.0.1:$port" --ca-file "$work/data/tls/ca.pem" --duration "${secs}s" "$@" 2>/dev/null | tail -n +2
}
bench --op put --size 4KiB --concurrency 32
bench --op get --size 4KiB --concurrency 32
bench --op put --size 1MiB --concurrency 8
bench --op get --size 1MiB --concurrency 8
bench --op put --size 64MiB --concurrency 4 --objects 8
bench --op get --size 64MiB --concurrency 4 --objects 8
bench --op list --size 1KiB --objects 2000 --concurrency 8
bench --op mixed --size 16KiB --concurrency 32
