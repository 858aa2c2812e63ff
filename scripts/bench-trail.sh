#!/usr/bin/env bash
# Measures the cost of the CloudTrail trail on small objects: runs PUT and
# GET of 4 KiB objects against a server whose trail journals every record
# durably before answering (the default), one with --trail-best-effort,
# one with --trail-best-effort-reads, and one with the trail off
# (--insecure-disable-trail, for measuring only), each on a fresh data
# directory on loopback. Usage:
# [MODES="off durable reads besteffort"] scripts/bench-trail.sh [seconds-per-run]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; rm -rf "$work"' EXIT
go build -o "$work/coffer" ./cmd/coffer
for mode in ${MODES:-off durable reads besteffort}; do
  args=()
  [ "$mode" = off ] && args=(--insecure-disable-trail)
  [ "$mode" = besteffort ] && args=(--trail-best-effort)
  [ "$mode" = reads ] && args=(--trail-best-effort-reads)
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
  bench --op put --size 4KiB --concurrency 16 --objects 256 --bucket bench-trail --keep
  bench --op get --size 4KiB --concurrency 16 --objects 256 --bucket bench-trail --keep
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
done
