#!/usr/bin/env bash
# Runs Coffer's whole test suite: vet, unit and in-process tests, storage
# conformance suites, and end-to-end tests of the real binary driven by
# real clients (aws CLI v1 and v2, boto3, s3cmd, rclone, aws-sdk-go-v2,
# minio-go). Installs the client tools first when run as root.
#
# Environment:
#   COFFER_REQUIRE_CLIENTS=1  fail (instead of skip) when a client is missing
#   GOTESTFLAGS               extra flags for go test (e.g. -run, -v)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then
  ./scripts/install-test-tools.sh
else
  echo "test.sh: not root; skipping client installation (missing clients are skipped unless COFFER_REQUIRE_CLIENTS=1)" >&2
fi

go mod download
echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted" >&2; exit 1; fi
echo "== go vet"
go vet ./...
echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
echo "== go test"
# shellcheck disable=SC2086
go test -count=1 -timeout 25m ${GOTESTFLAGS:-} ./...
