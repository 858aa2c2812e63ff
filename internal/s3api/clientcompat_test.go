package s3api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Regression tests for request shapes that real clients send and that the
// in-process tests above do not produce on their own.

// botocore signs Transfer-Encoding on aws-chunked uploads with trailing
// checksums; net/http removes that header from the map, so the canonical
// request must see it again.
func TestSigV4RequestRestoresTransferEncoding(t *testing.T) {
	r := httptest.NewRequest("PUT", "https://127.0.0.1:9000/b/k", strings.NewReader("x"))
	r.TransferEncoding = []string{"chunked"}
	r.Header.Del("Transfer-Encoding")
	sr := sigv4Request(r)
	if got := http.Header(sr.Header).Get("Transfer-Encoding"); got != "chunked" {
		t.Fatalf("signed Transfer-Encoding = %q, want chunked", got)
	}
	if r.Header.Get("Transfer-Encoding") != "" {
		t.Fatalf("sigv4Request changed the request's own headers")
	}
}
