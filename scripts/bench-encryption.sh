#!/usr/bin/env bash
# Measures the cost of encryption at rest: runs PUT and GET of 1 MiB and
# 16 MiB objects against a server with encryption at rest (the default)
# and one started with --insecure-disable-encryption-at-rest, each on a
# fresh data directory on loopback. Usage:
# [MODES="clear encrypted"] scripts/bench-encryption.sh [seconds-per-run]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; rm -rf "$work"' EXIT
go build -o "$work/coffer" ./cmd/coffer
for mode in ${MODES:-encrypted clear}; do
  args=()
  [ "$mode" = clear ] && args=(--insecure-disable-encryption-at-rest)
  data="$work/data-$mode"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$work/coffer" server --data "$data" --address "127.0.0.1:$port" "${args[@]}" >"$work/server-$mode.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [ -f "$data/credentials" ] && grep -q serving "$work/server-$mode.log" && break; sleep 0.1; done
  bench() {
    echo "== $mode: coffer bench $*"
    AWS_SHARED_CREDENTIALS_FILE="$data/credentials" "$work/coffer" bench \
      --endpoint "https://127.0.0.1:$port" --ca-file "$data/tls/ca.pem" --duration "${secs}s" "$@" 2>/dev/null | tail -n +2
  }
  bench --op put --size 1MiB --concurrency 8 --objects 64
  bench --op get --size 1MiB --concurrency 8 --objects 64
  bench --op put --size 16MiB --concurrency 4 --objects 16
  bench --op get --size 16MiB --concurrency 4 --objects 16
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
done
