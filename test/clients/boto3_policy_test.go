package clients

import (
	"strings"
	"testing"

	"github.com/coffer-io/coffer/internal/awscreds"
	"github.com/coffer-io/coffer/test/harness"
)

// TestBoto3Policies runs testdata/boto3_policy.py: bucket policies that
// deny outside an IP range, outside a time window, without TLS, without
// MFA and outside a network endpoint; Block Public Access refusing public
// policies and ACLs; cross-account access through a bucket policy.
func TestBoto3Policies(t *testing.T) {
	t.Parallel()
	python, script := boto3Script(t, "boto3_policy.py")
	srv := harness.Start(t, harness.WithHTTP(), harness.WithArgs("--network-endpoint", "vpce-office=127.0.0.0/8"))
	ctx := testContext(t)
	out := srv.Run(ctx, harness.Binary(t), "admin", "account", "create", "other", "--endpoint", srv.Endpoint)
	ak, sk, _, err := awscreds.Parse([]byte(out), "other")
	if err != nil {
		t.Fatalf("second account: %v\n%s", err, out)
	}
	env := append(srv.Env(), "OTHER_ACCESS_KEY_ID="+ak, "OTHER_SECRET_ACCESS_KEY="+sk)
	r := runner{ctx: ctx, env: env, bin: python}
	res, err := r.runErr(t, script, "--endpoint", srv.Endpoint, "--plain", "http://"+srv.HTTPAddr, "--ca", srv.CAFile)
	t.Logf("boto3_policy.py output:\n%s", res)
	if err != nil {
		t.Fatalf("boto3_policy.py: %v", err)
	}
	if !strings.Contains(res, "\nALL OK\n") {
		t.Fatal("boto3_policy.py exited 0 without reaching its end")
	}
}
