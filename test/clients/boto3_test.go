package clients

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-io/coffer/test/harness"
)

// TestBoto3 runs testdata/boto3_e2e.py with the first python3 on PATH that
// can import boto3. A recent boto3 is the most demanding client here: it
// uploads aws-chunked bodies with trailing CRC32 checksums by default.
func TestBoto3(t *testing.T) {
	t.Parallel()
	python, script := boto3Script(t, "boto3_e2e.py")
	srv := harness.Start(t)
	dir := t.TempDir()
	big := filepath.Join(dir, "big.bin")
	writeBigFile(t, big, bigSize)
	work := t.TempDir()

	r := runner{ctx: testContext(t), env: srv.Env(), bin: python}
	out, err := r.runErr(t, script, "--endpoint", srv.Endpoint, "--ca", srv.CAFile, "--big", big, "--workdir", work)
	t.Logf("boto3_e2e.py output:\n%s", out)
	if err != nil {
		t.Fatalf("boto3_e2e.py: %v", err)
	}
	// Exit status 0 alone could also mean the script stopped early without
	// raising; it prints ALL OK only after its last check.
	if !strings.Contains(out, "\nALL OK\n") {
		t.Fatalf("boto3_e2e.py exited 0 without reaching its end")
	}
}
