#!/usr/bin/env bash
# memcheck.sh: checks that the Coffer server streams object data instead of
# holding it in memory. It builds the binary, starts a server on a fresh
# temporary data directory and a free loopback port, uploads a 1 GiB object
# of generated data (never stored on the client side), downloads it back
# comparing SHA-256, and meanwhile samples the server's resident memory
# (VmRSS from /proc/PID/status every 100 ms, VmHWM at the end of each
# phase). It prints the peak RSS of every phase and fails if any exceeds
# the limit.
#
# Usage:
#   scripts/memcheck.sh
#
# Environment:
#   MEMCHECK_SIZE=1GiB           object size (bytes, or a number with KiB, MiB, GiB)
#   MEMCHECK_LIMIT_MIB=100       peak RSS allowed, in MiB
#   MEMCHECK_MODES="put multipart"
#                                upload modes, each followed by a download:
#                                  put        one streamed PUT (aws-sdk-go-v2)
#                                  multipart  a multipart upload (aws-sdk-go-v2)
#                                  awscli     `aws s3 cp -` from stdin (needs
#                                             the aws CLI; it uploads in 8 MiB
#                                             parts, 10 at a time)
#   MEMCHECK_PART_SIZE=64MiB     part size of the multipart mode
#   MEMCHECK_CONCURRENCY=4       parts in flight in the multipart mode
#   MEMCHECK_KEEP=1              keep the temporary directory (server logs)
#
# Exit status: 0 if every phase stayed within the limit, 1 if one did not
# or a transfer or checksum failed, 2 on a setup error. Linux only (/proc).
set -euo pipefail

size=${MEMCHECK_SIZE:-1GiB}
limit_mib=${MEMCHECK_LIMIT_MIB:-100}
modes=${MEMCHECK_MODES:-put multipart}
part_size=${MEMCHECK_PART_SIZE:-64MiB}
concurrency=${MEMCHECK_CONCURRENCY:-4}

cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/coffer-memcheck.XXXXXX")
server_pid=""
sampler_pid=""

cleanup() {
  if [ -n "$sampler_pid" ]; then kill "$sampler_pid" 2>/dev/null || true; fi
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "${MEMCHECK_KEEP:-}" = 1 ]; then
    echo "memcheck: kept $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

die() { echo "memcheck: $*" >&2; exit 2; }

# field NAME prints a /proc/PID/status field of the server in KiB.
field() {
  local k v _
  while read -r k v _; do
    if [ "$k" = "$1:" ]; then echo "$v"; return 0; fi
  done <"/proc/$server_pid/status"
  return 1
}

# sample OUT writes the highest VmRSS seen (KiB) to OUT until killed. It
# reads /proc with bash builtins only, so sampling costs no process spawns.
sample() {
  local max=0 rss
  while rss=$(field VmRSS); do
    if [ "$rss" -gt "$max" ]; then max=$rss; echo "$max" >"$1"; fi
    sleep 0.1
  done
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

echo "memcheck: building" >&2
go build -o "$work/coffer" ./cmd/coffer
go build -o "$work/memcheck" ./scripts/memcheck

# Port 0: the kernel picks a free port and the server prints it, so there
# is no window in which another process could take it.
COFFER_CONFIG="" "$work/coffer" server --data "$work/data" --address 127.0.0.1:0 --log-level warn \
  >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
endpoint=""
for _ in $(seq 300); do
  endpoint=$(sed -n 's|^Coffer is serving S3 at \(https://[^ ]*\).*|\1|p' "$work/server.out")
  [ -n "$endpoint" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; die "server exited"; }
  sleep 0.1
done
[ -n "$endpoint" ] || die "server did not start"
ca="$work/data/tls/ca.pem"
creds="$work/data/credentials"
# Flags of every memcheck client command but the key, which differs per
# mode so that a failed upload can never be masked by an earlier one.
cflags=(-endpoint "$endpoint" -ca "$ca" -credentials "$creds" -bucket memcheck)

echo "memcheck: server pid $server_pid at $endpoint, idle RSS $(mib "$(field VmRSS)") MiB" >&2

# The peak of each phase is measured on its own: writing 5 to clear_refs
# resets VmHWM to the current RSS (Linux >= 4.0). Where that is refused,
# VmHWM is the peak since start and the sampled maximum still applies.
hwm_resets=1
peak_all=0
failed=0
results=()

# phase NAME CMD... runs CMD (whose stdout is kept in $phase_out) while
# sampling the server, and records the phase's peak RSS. It returns CMD's
# status.
phase() {
  local name=$1 status=0
  shift
  if [ "$hwm_resets" = 1 ] && ! echo 5 2>/dev/null >"/proc/$server_pid/clear_refs"; then
    hwm_resets=0
    echo "memcheck: cannot reset VmHWM; per-phase VmHWM is the peak since start" >&2
  fi
  echo 0 >"$work/rss"
  sample "$work/rss" &
  sampler_pid=$!
  phase_out=$("$@") || status=$?
  kill "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=""
  local sampled hwm peak
  sampled=$(cat "$work/rss")
  hwm=$(field VmHWM)
  peak=$((hwm > sampled ? hwm : sampled))
  [ "$peak" -gt "$peak_all" ] && peak_all=$peak
  results+=("$(printf '%-20s peak RSS %7s MiB   (sampled VmRSS max %s MiB, VmHWM %s MiB)' \
    "$name" "$(mib "$peak")" "$(mib "$sampled")" "$(mib "$hwm")")")
  echo "memcheck: ${results[-1]}" >&2
  if [ "$status" != 0 ]; then
    echo "memcheck: $name failed (exit $status)" >&2
    failed=1
  fi
  return "$status"
}

# upload_awscli KEY streams the object into `aws s3 cp -` and prints its
# SHA-256. Statuses are checked explicitly: errexit does not apply inside
# a function that runs as part of a condition (as phase runs it).
upload_awscli() {
  local bytes
  bytes=$("$work/memcheck" size -size "$size") || return 1
  "$work/memcheck" gen -size "$size" |
    env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
      AWS_SHARED_CREDENTIALS_FILE="$creds" AWS_CONFIG_FILE=/dev/null AWS_CA_BUNDLE="$ca" \
      AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
      aws --endpoint-url "$endpoint" s3 cp - "s3://memcheck/$1" --expected-size "$bytes" --only-show-errors >&2 ||
    return 1
  # The CLI does not hash what it sent; the generator is deterministic.
  "$work/memcheck" gen -size "$size" | sha256sum | cut -d' ' -f1
}

for mode in $modes; do
  key=big-$mode
  case $mode in
    put | multipart)
      up=("$work/memcheck" upload "${cflags[@]}" -key "$key" -size "$size" -mode "$mode"
        -part-size "$part_size" -concurrency "$concurrency")
      ;;
    awscli)
      command -v aws >/dev/null || die "awscli mode needs the aws CLI"
      "$work/memcheck" mkbucket "${cflags[@]}"
      up=(upload_awscli "$key")
      ;;
    *) die "unknown mode $mode" ;;
  esac
  phase "upload $mode" "${up[@]}" || continue
  want=$phase_out
  if phase "download ($mode)" "$work/memcheck" download "${cflags[@]}" -key "$key" -sha256 "$want"; then
    echo "memcheck: $mode: SHA-256 $want matches" >&2
  fi
done

echo
echo "Coffer server memory, $size object, limit $limit_mib MiB:"
printf '  %s\n' "${results[@]}"
echo "peak RSS: $(mib "$peak_all") MiB"
if [ "$failed" != 0 ]; then
  echo "FAIL: a transfer or checksum failed; server log:"
  tail -n 20 "$work/server.log"
  exit 1
fi
if [ "$peak_all" -gt $((limit_mib * 1024)) ]; then
  echo "FAIL: peak RSS above $limit_mib MiB"
  exit 1
fi
echo "OK"
