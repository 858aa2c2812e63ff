package trail

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/coffer-io/coffer/test/harness"
)

// TestCloudTrailAuthorization checks that CloudTrail calls are authorized
// like any other (cloudtrail:<Operation>), and that an account sees only
// its own events and trails.
func TestCloudTrailAuthorization(t *testing.T) {
	aws1 := awsV1(t)
	srv := harness.Start(t)
	ctx := t.Context()
	run := func(env []string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, aws1, append([]string{"--endpoint-url", srv.Endpoint, "--output", "json"}, args...)...)
		cmd.Env = append(srv.Env(), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	srv.Run(ctx, aws1, "--endpoint-url", srv.Endpoint, "iam", "create-user", "--user-name", "auditor")
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	if err := json.Unmarshal([]byte(srv.Run(ctx, aws1, "--endpoint-url", srv.Endpoint, "--output", "json", "iam", "create-access-key", "--user-name", "auditor")), &key); err != nil {
		t.Fatal(err)
	}
	user := []string{"AWS_ACCESS_KEY_ID=" + key.AccessKey.AccessKeyId, "AWS_SECRET_ACCESS_KEY=" + key.AccessKey.SecretAccessKey, "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
	for _, args := range [][]string{{"cloudtrail", "lookup-events"}, {"cloudtrail", "describe-trails"}, {"cloudtrail", "create-trail", "--name", "t1", "--s3-bucket-name", "b"}} {
		out, err := run(user, args...)
		if err == nil || !strings.Contains(out, "AccessDeniedException") || !strings.Contains(out, "cloudtrail:") {
			t.Errorf("%v without permission: %v %s", args, err, out)
		}
	}
	srv.Run(ctx, aws1, "--endpoint-url", srv.Endpoint, "iam", "put-user-policy", "--user-name", "auditor", "--policy-name", "lookup",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudtrail:LookupEvents","Resource":"*"}]}`)
	out, err := run(user, "cloudtrail", "lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=CreateUser")
	if err != nil {
		t.Fatalf("lookup-events with permission: %v %s", err, out)
	}
	var res struct {
		Events []struct{ EventName, Username string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Events) != 1 || res.Events[0].Username != "root" {
		t.Fatalf("lookup-events: %v %s", err, out)
	}
	// The denied calls are in the history too, under the user's name.
	out, err = run(user, "cloudtrail", "lookup-events", "--lookup-attributes", "AttributeKey=Username,AttributeValue=auditor")
	if err != nil || !strings.Contains(out, `"EventName": "DescribeTrails"`) || !strings.Contains(out, `\"errorCode\":\"AccessDeniedException\"`) {
		t.Fatalf("lookup-events by the denied user: %v %s", err, out)
	}
	// An error the IAM service answers itself is recorded with its code
	// and message.
	if out, err := srv.RunErr(ctx, aws1, "--endpoint-url", srv.Endpoint, "iam", "get-user", "--user-name", "nobody"); err == nil {
		t.Fatalf("get-user nobody: %s", out)
	}
	out = srv.Run(ctx, aws1, "--endpoint-url", srv.Endpoint, "--output", "json", "cloudtrail", "lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=GetUser")
	if !strings.Contains(out, `\"errorCode\":\"NoSuchEntity\"`) || !strings.Contains(out, `\"errorMessage\":\"`) || !strings.Contains(out, `nobody`) {
		t.Errorf("GetUser NoSuchEntity record: %s", out)
	}
	// Too many attributes, a bad token: AWS's exceptions.
	if out, err := run(user, "cloudtrail", "lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=A", "AttributeKey=Username,AttributeValue=B"); err == nil || !strings.Contains(out, "InvalidLookupAttributesException") {
		t.Errorf("two lookup attributes: %v %s", err, out)
	}
}
