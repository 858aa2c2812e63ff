package clients

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coffer-io/coffer/test/harness"
)

// TestUnusedAccessFindings sets IAM users, keys and roles up with the aws
// CLI, uses part of the access, and checks what `coffer analyze` reports
// as unused.
func TestUnusedAccessFindings(t *testing.T) {
	requireAWSCLIv2(t)
	srv := harness.Start(t)
	ctx := testContext(t)
	a := awsCLI{runner{ctx: ctx, env: srv.Env(), bin: awsV2Path, args: []string{"--endpoint-url", srv.Endpoint, "--output", "json"}}}
	var who struct{ Account string }
	a.json(t, &who, "sts", "get-caller-identity")

	a.run(t, "s3api", "create-bucket", "--bucket", "unused-demo")
	a.run(t, "iam", "create-user", "--user-name", "bob")
	a.run(t, "iam", "put-user-policy", "--user-name", "bob", "--policy-name", "work", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:GetObject"],"Resource":"arn:aws:s3:::unused-demo/*"},
{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}`)
	var used, spare struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	a.json(t, &used, "iam", "create-access-key", "--user-name", "bob")
	a.json(t, &spare, "iam", "create-access-key", "--user-name", "bob")
	a.run(t, "iam", "create-role", "--role-name", "idle", "--assume-role-policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+who.Account+`:root"},"Action":"sts:AssumeRole"}]}`)

	// Everything above is older than the window; bob's PutObject below
	// is inside it.
	const window = 8 * time.Second
	time.Sleep(window + time.Second)
	bob := awsCLI{runner{ctx: ctx, bin: awsV2Path, args: a.args,
		env: append(envWithout(srv.Env(), "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE"), "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
			"AWS_ACCESS_KEY_ID="+used.AccessKey.AccessKeyId, "AWS_SECRET_ACCESS_KEY="+used.AccessKey.SecretAccessKey)}}
	src := t.TempDir() + "/f.txt"
	os.WriteFile(src, []byte("x"), 0o600)
	bob.run(t, "s3api", "put-object", "--bucket", "unused-demo", "--key", "f.txt", "--body", src)
	bobARN := "arn:aws:iam::" + who.Account + ":user/bob"

	// IAM's service last accessed data tells the same story.
	time.Sleep(1500 * time.Millisecond) // the audit log reaches the disk every second
	var job struct{ JobId string }
	a.json(t, &job, "iam", "generate-service-last-accessed-details", "--arn", bobARN, "--granularity", "ACTION_LEVEL")
	var details struct {
		JobStatus            string
		ServicesLastAccessed []struct {
			ServiceNamespace, LastAuthenticated, LastAuthenticatedEntity string
			TrackedActionsLastAccessed                                   []struct{ ActionName, LastAccessedTime string }
		}
	}
	a.json(t, &details, "iam", "get-service-last-accessed-details", "--job-id", job.JobId)
	if details.JobStatus != "COMPLETED" || len(details.ServicesLastAccessed) != 2 {
		t.Fatalf("service last accessed: %+v", details)
	}
	for _, svc := range details.ServicesLastAccessed {
		switch svc.ServiceNamespace {
		case "kms":
			if svc.LastAuthenticated != "" {
				t.Errorf("kms accessed: %+v", svc)
			}
		case "s3":
			acts := map[string]bool{}
			for _, a := range svc.TrackedActionsLastAccessed {
				acts[a.ActionName] = a.LastAccessedTime != ""
			}
			if svc.LastAuthenticated == "" || svc.LastAuthenticatedEntity != bobARN || !acts["PutObject"] || acts["GetObject"] {
				t.Errorf("s3: %+v", svc)
			}
		default:
			t.Errorf("service %s", svc.ServiceNamespace)
		}
	}
	srv.Stop()

	out, _, err := runCoffer(t, "analyze", "--data", srv.Dir, "--json", "--unused-window", window.String())
	if err != nil {
		t.Fatalf("coffer analyze: %v\n%s", err, out)
	}
	var rep struct {
		Unused []struct {
			FindingType, Principal, AccessKeyID, ServiceNamespace string
			Actions                                               []string
		}
		UnusedWindow string
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := map[string]bool{}
	for _, f := range rep.Unused {
		got[f.FindingType+" "+f.Principal+" "+f.AccessKeyID+f.ServiceNamespace+" "+strings.Join(f.Actions, ",")] = true
	}
	for _, want := range []string{
		"UnusedIAMRole arn:aws:iam::" + who.Account + ":role/idle  ",
		"UnusedIAMUserAccessKey " + bobARN + " " + spare.AccessKey.AccessKeyId + " ",
		"UnusedPermission " + bobARN + " s3 s3:GetObject",
		"UnusedPermission " + bobARN + " kms kms:Decrypt",
	} {
		if !got[want] {
			t.Errorf("missing finding %q; got %v", want, got)
		}
	}
	if len(rep.Unused) != 4 {
		t.Errorf("findings: %+v", rep.Unused)
	}

	// The text report names them too.
	text, _, err := runCoffer(t, "analyze", "--data", srv.Dir, "--unused-window", window.String())
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "analyze", text, "4 unused access findings", "unused role", "unused access key "+spare.AccessKey.AccessKeyId, "unused kms permissions")
}

func runCoffer(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ctx := testContext(t)
	r := runner{ctx: ctx, bin: harness.Binary(t), env: os.Environ()}
	out, err := r.runErr(t, args...)
	return out, "", err
}
