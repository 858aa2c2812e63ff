package clients

import (
	"strings"
	"testing"

	"github.com/coffer-io/coffer/test/harness"
)

// TestBoto3SSEKMSPolicies runs testdata/boto3_ssekms.py: KMS key
// policies and key state deciding boto3's SSE-KMS reads and writes.
func TestBoto3SSEKMSPolicies(t *testing.T) {
	t.Parallel()
	python, script := boto3Script(t, "boto3_ssekms.py")
	srv := harness.Start(t)
	r := runner{ctx: testContext(t), env: srv.Env(), bin: python}
	out, err := r.runErr(t, script, "--endpoint", srv.Endpoint, "--ca", srv.CAFile, "--workdir", t.TempDir())
	t.Logf("boto3_ssekms.py output:\n%s", out)
	if err != nil {
		t.Fatalf("boto3_ssekms.py: %v", err)
	}
	if !strings.Contains(out, "\nALL OK\n") {
		t.Fatalf("boto3_ssekms.py exited 0 without reaching its end")
	}
}
