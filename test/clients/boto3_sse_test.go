package clients

import (
	"strings"
	"testing"

	"github.com/coffer-io/coffer/test/harness"
)

// TestBoto3SSE runs testdata/boto3_sse.py: every server-side encryption
// mode through boto3's object calls, copies and managed transfers, and
// default bucket encryption.
func TestBoto3SSE(t *testing.T) {
	t.Parallel()
	python, script := boto3Script(t, "boto3_sse.py")
	srv := harness.Start(t)
	r := runner{ctx: testContext(t), env: srv.Env(), bin: python}
	out, err := r.runErr(t, script, "--endpoint", srv.Endpoint, "--ca", srv.CAFile, "--workdir", t.TempDir())
	t.Logf("boto3_sse.py output:\n%s", out)
	if err != nil {
		t.Fatalf("boto3_sse.py: %v", err)
	}
	if !strings.Contains(out, "\nALL OK\n") {
		t.Fatalf("boto3_sse.py exited 0 without reaching its end")
	}
}
