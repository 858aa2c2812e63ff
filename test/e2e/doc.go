// Package e2e is Coffer's end-to-end behaviour suite: every test starts the
// real coffer binary (test/harness) and talks to it over HTTPS with the
// official Go SDKs (aws-sdk-go-v2 with its default checksum behaviour, and
// minio-go), asserting the S3 error codes and HTTP statuses AWS documents.
//
// Each top-level test starts one server and runs its cases as subtests, so
// the package stays fast on small machines. Run it with
//
//	go test ./test/e2e/
package e2e
