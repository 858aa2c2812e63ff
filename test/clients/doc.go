// Package clients holds end-to-end tests that drive Coffer with real,
// unmodified S3 command-line clients and SDKs (aws CLI v1 and v2, boto3,
// s3cmd, rclone) through os/exec, against the real server binary started by
// package harness. A client that is not installed is skipped, unless
// COFFER_REQUIRE_CLIENTS=1 (set by CI), which turns a missing client into a
// failure so that a broken install cannot pass silently.
package clients
