package clients

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/coffer-io/coffer/test/harness"
)

// TestIAMWithAWSCLI manages IAM entities through `aws iam` and `aws sts`
// (Debian's aws CLI v2), as an administrator would: users, keys, groups,
// managed and inline policies, roles, and AWS's errors for conflicts and
// missing entities.
func TestIAMWithAWSCLI(t *testing.T) {
	t.Parallel()
	requireAWSCLIv2(t)
	srv := harness.Start(t)
	ctx := testContext(t)
	a := awsCLI{runner{ctx: ctx, env: srv.Env(), bin: awsV2Path, args: []string{"--endpoint-url", srv.Endpoint, "--output", "json"}}}
	mustFail := func(t *testing.T, code string, args ...string) {
		t.Helper()
		out, err := a.runErr(t, args...)
		if err == nil || !strings.Contains(out, code) {
			t.Fatalf("aws %s: want %s, got err=%v\n%s", strings.Join(args, " "), code, err, out)
		}
	}

	var who struct{ Account, Arn, UserId string }
	a.json(t, &who, "sts", "get-caller-identity")
	if who.Arn != "arn:aws:iam::"+who.Account+":root" || len(who.Account) != 12 {
		t.Fatalf("root identity: %+v", who)
	}

	var user struct {
		User struct{ UserName, UserId, Arn, Path string }
	}
	a.json(t, &user, "iam", "create-user", "--user-name", "alice", "--path", "/team/")
	if user.User.Arn != "arn:aws:iam::"+who.Account+":user/team/alice" || !strings.HasPrefix(user.User.UserId, "AIDA") {
		t.Fatalf("create-user: %+v", user)
	}
	mustFail(t, "EntityAlreadyExists", "iam", "create-user", "--user-name", "alice")
	mustFail(t, "NoSuchEntity", "iam", "get-user", "--user-name", "nobody")

	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey, Status string }
	}
	a.json(t, &key, "iam", "create-access-key", "--user-name", "alice")
	if !strings.HasPrefix(key.AccessKey.AccessKeyId, "AKIA") || len(key.AccessKey.SecretAccessKey) != 40 || key.AccessKey.Status != "Active" {
		t.Fatalf("create-access-key: %+v", key)
	}

	a.run(t, "iam", "create-group", "--group-name", "devs")
	a.run(t, "iam", "add-user-to-group", "--group-name", "devs", "--user-name", "alice")
	var groups struct{ Groups []struct{ GroupName string } }
	a.json(t, &groups, "iam", "list-groups-for-user", "--user-name", "alice")
	if len(groups.Groups) != 1 || groups.Groups[0].GroupName != "devs" {
		t.Fatalf("list-groups-for-user: %+v", groups)
	}

	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`
	var pol struct {
		Policy struct{ Arn, DefaultVersionId string }
	}
	a.json(t, &pol, "iam", "create-policy", "--policy-name", "list-buckets", "--policy-document", doc)
	if pol.Policy.Arn != "arn:aws:iam::"+who.Account+":policy/list-buckets" || pol.Policy.DefaultVersionId != "v1" {
		t.Fatalf("create-policy: %+v", pol)
	}
	a.run(t, "iam", "attach-user-policy", "--user-name", "alice", "--policy-arn", pol.Policy.Arn)
	var attached struct{ AttachedPolicies []struct{ PolicyArn string } }
	a.json(t, &attached, "iam", "list-attached-user-policies", "--user-name", "alice")
	if len(attached.AttachedPolicies) != 1 || attached.AttachedPolicies[0].PolicyArn != pol.Policy.Arn {
		t.Fatalf("list-attached-user-policies: %+v", attached)
	}
	a.run(t, "iam", "create-policy-version", "--policy-arn", pol.Policy.Arn, "--policy-document", doc, "--set-as-default")
	var versions struct {
		Versions []struct {
			VersionId        string
			IsDefaultVersion bool
		}
	}
	a.json(t, &versions, "iam", "list-policy-versions", "--policy-arn", pol.Policy.Arn)
	if len(versions.Versions) != 2 {
		t.Fatalf("list-policy-versions: %+v", versions)
	}

	inline := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}]}`
	a.run(t, "iam", "put-user-policy", "--user-name", "alice", "--policy-name", "read-data", "--policy-document", inline)
	var got struct {
		PolicyDocument struct {
			Statement []struct{ Action, Resource string }
		}
	}
	a.json(t, &got, "iam", "get-user-policy", "--user-name", "alice", "--policy-name", "read-data")
	if len(got.PolicyDocument.Statement) != 1 || got.PolicyDocument.Statement[0].Resource != "arn:aws:s3:::data/*" {
		t.Fatalf("get-user-policy round trip: %+v", got)
	}
	mustFail(t, "MalformedPolicyDocument", "iam", "put-user-policy", "--user-name", "alice", "--policy-name", "bad", "--policy-document", "{not json")

	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + who.Account + `:root"},"Action":"sts:AssumeRole"}]}`
	var role struct{ Role struct{ Arn, RoleId string } }
	a.json(t, &role, "iam", "create-role", "--role-name", "reader", "--assume-role-policy-document", trust)
	if role.Role.Arn != "arn:aws:iam::"+who.Account+":role/reader" || !strings.HasPrefix(role.Role.RoleId, "AROA") {
		t.Fatalf("create-role: %+v", role)
	}

	// Alice signs with her own key: STS knows her, IAM does not let her
	// administer (she holds no IAM permission).
	alice := a
	alice.env = append(envWithout(srv.Env(), "AWS_SHARED_CREDENTIALS_FILE"),
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_ACCESS_KEY_ID="+key.AccessKey.AccessKeyId, "AWS_SECRET_ACCESS_KEY="+key.AccessKey.SecretAccessKey)
	var aliceWho struct{ Arn, UserId string }
	out := alice.run(t, "sts", "get-caller-identity")
	if err := json.Unmarshal([]byte(out), &aliceWho); err != nil || aliceWho.Arn != user.User.Arn || aliceWho.UserId != user.User.UserId {
		t.Fatalf("alice's identity: %+v %v\n%s", aliceWho, err, out)
	}
	if out, err := alice.runErr(t, "iam", "list-users"); err == nil || !strings.Contains(out, "AccessDenied") {
		t.Fatalf("alice listed users: %v\n%s", err, out)
	}

	// A user with keys, policies and groups cannot be deleted.
	mustFail(t, "DeleteConflict", "iam", "delete-user", "--user-name", "alice")
	a.run(t, "iam", "remove-user-from-group", "--group-name", "devs", "--user-name", "alice")
	a.run(t, "iam", "detach-user-policy", "--user-name", "alice", "--policy-arn", pol.Policy.Arn)
	a.run(t, "iam", "delete-user-policy", "--user-name", "alice", "--policy-name", "read-data")
	a.run(t, "iam", "delete-access-key", "--user-name", "alice", "--access-key-id", key.AccessKey.AccessKeyId)
	a.run(t, "iam", "delete-user", "--user-name", "alice")
	mustFail(t, "NoSuchEntity", "iam", "get-user", "--user-name", "alice")
	// The deleted key no longer authenticates.
	if out, err := alice.runErr(t, "sts", "get-caller-identity"); err == nil || !strings.Contains(out, "InvalidClientTokenId") {
		t.Fatalf("deleted key still works: %v\n%s", err, out)
	}
}
