#!/usr/bin/env bash
# Installs the real S3 clients that the end-to-end tests in test/clients
# drive: Debian's aws CLI v2 (/usr/bin/aws), s3cmd, rclone, and python3-boto3
# (a fallback for machines whose python3 lacks boto3). Only what is missing
# is installed, so a second run does nothing and needs no network. Must run
# as root.
set -euo pipefail

missing=()

# Debian's awscli package is the one that provides /usr/bin/aws; an aws found
# elsewhere on PATH (for example a v1 in a Python environment) does not count.
[ -x /usr/bin/aws ] || missing+=(awscli)
command -v s3cmd >/dev/null 2>&1 || missing+=(s3cmd)
command -v rclone >/dev/null 2>&1 || missing+=(rclone)
# boto3 is wanted by whichever python3 the tests will run; if that one
# already has it, Debian's copy for /usr/bin/python3 is not needed.
if ! python3 -c 'import boto3' >/dev/null 2>&1; then
  # Debian's dpkg-query answers without the network, so an installed but
  # shadowed python3-boto3 is not fetched again.
  if ! dpkg-query -W -f='${Status}' python3-boto3 2>/dev/null | grep -q 'ok installed'; then
    missing+=(python3-boto3)
  fi
fi

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "install-test-tools.sh: must run as root to install: ${missing[*]}" >&2
  exit 1
fi

echo "install-test-tools.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
