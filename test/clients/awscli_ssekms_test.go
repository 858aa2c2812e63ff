package clients

import (
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-io/coffer/test/harness"
)

// TestAWSCLIv2SSEKMSPolicies and TestAWSCLIv1SSEKMSPolicies drive SSE-KMS
// with KMS key policies through the aws CLI: `aws kms put-key-policy`,
// `disable-key`, `schedule-key-deletion` and the bucket-policy condition
// on the KMS key decide what `aws s3api put-object` and `get-object` may do.
func TestAWSCLIv2SSEKMSPolicies(t *testing.T) {
	t.Parallel()
	requireAWSCLIv2(t)
	testAWSCLISSEKMSPolicies(t, awsV2Path)
}

func TestAWSCLIv1SSEKMSPolicies(t *testing.T) {
	t.Parallel()
	bin := awsCLIv1(t)
	testAWSCLISSEKMSPolicies(t, bin)
}

func testAWSCLISSEKMSPolicies(t *testing.T, bin string) {
	srv := harness.Start(t)
	ctx := testContext(t)
	t.Logf("client: %s", awsVersion(bin))
	a := awsCLI{runner{ctx: ctx, env: srv.Env(), bin: bin, args: []string{"--endpoint-url", srv.Endpoint, "--output", "json"}}}
	dir := t.TempDir()
	body := filepath.Join(dir, "body.txt")
	writeFiles(t, dir, map[string]string{"body.txt": "under a KMS key\n"})
	mustFail := func(t *testing.T, c awsCLI, code string, args ...string) string {
		t.Helper()
		out, err := c.runErr(t, args...)
		if err == nil || !strings.Contains(out, "("+code+")") {
			t.Fatalf("aws %s: want %s, got err=%v\n%s", strings.Join(args, " "), code, err, out)
		}
		return out
	}
	put := func(key string, extra ...string) []string {
		return append([]string{"s3api", "put-object", "--bucket", "cli-kms", "--key", key, "--body", body}, extra...)
	}
	get := func(key string) []string {
		return []string{"s3api", "get-object", "--bucket", "cli-kms", "--key", key, filepath.Join(dir, "out")}
	}
	head := func(key string) []string {
		return []string{"s3api", "head-object", "--bucket", "cli-kms", "--key", key}
	}

	var who struct{ Account string }
	a.json(t, &who, "sts", "get-caller-identity")
	acct := who.Account
	var key kmsKeyMetadata
	a.json(t, &key, "kms", "create-key", "--description", "sse-kms policies")
	keyID, keyARN := key.KeyMetadata.KeyId, key.KeyMetadata.Arn
	a.run(t, "kms", "create-alias", "--alias-name", "alias/cli-kms", "--target-key-id", keyID)
	a.run(t, "s3api", "create-bucket", "--bucket", "cli-kms")

	user := func(t *testing.T, name string) awsCLI {
		t.Helper()
		a.run(t, "iam", "create-user", "--user-name", name)
		a.run(t, "iam", "put-user-policy", "--user-name", name, "--policy-name", "all", "--policy-document",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","kms:*"],"Resource":"*"}]}`)
		var k struct {
			AccessKey struct{ AccessKeyId, SecretAccessKey string }
		}
		a.json(t, &k, "iam", "create-access-key", "--user-name", name)
		u := a
		u.env = append(envWithout(srv.Env(), "AWS_SHARED_CREDENTIALS_FILE"), "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
			"AWS_ACCESS_KEY_ID="+k.AccessKey.AccessKeyId, "AWS_SECRET_ACCESS_KEY="+k.AccessKey.SecretAccessKey)
		return u
	}
	alice, bob := user(t, "alice"), user(t, "bob")
	rootStmt := `{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:*","Resource":"*"}`
	denyBob := func(action string) string {
		return `{"Version":"2012-10-17","Statement":[` + rootStmt + `,
 {"Sid":"Deny bob","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/bob"},"Action":"` + action + `","Resource":"*"}]}`
	}

	t.Run("key policy", func(t *testing.T) {
		var res struct{ ServerSideEncryption, SSEKMSKeyId string }
		a.json(t, &res, put("k", "--server-side-encryption", "aws:kms", "--ssekms-key-id", "alias/cli-kms")...)
		if res.ServerSideEncryption != "aws:kms" || res.SSEKMSKeyId != keyARN {
			t.Fatalf("put-object: %+v", res)
		}
		bob.run(t, get("k")...)

		a.run(t, "kms", "put-key-policy", "--key-id", keyID, "--policy-name", "default", "--policy", denyBob("kms:Decrypt"))
		out := mustFail(t, bob, "AccessDenied", get("k")...)
		mustNotContain(t, "S3's denial", out, "AccessDeniedException", "user/bob is not authorized")
		alice.run(t, get("k")...)
		// HEAD reads metadata only: no KMS call, as in AWS.
		bob.run(t, head("k")...)
		bob.run(t, put("by-bob", "--server-side-encryption", "aws:kms", "--ssekms-key-id", keyID)...)

		a.run(t, "kms", "put-key-policy", "--key-id", keyID, "--policy-name", "default", "--policy", denyBob("kms:GenerateDataKey"))
		mustFail(t, bob, "AccessDenied", put("by-bob", "--server-side-encryption", "aws:kms", "--ssekms-key-id", keyID)...)
		mustFail(t, bob, "AccessDenied", put("by-bob", "--server-side-encryption", "aws:kms", "--ssekms-key-id", keyARN, "--bucket-key-enabled")...)
		alice.run(t, put("by-alice", "--server-side-encryption", "aws:kms", "--ssekms-key-id", keyID)...)
		bob.run(t, get("by-alice")...)
		a.run(t, "kms", "put-key-policy", "--key-id", keyID, "--policy-name", "default", "--policy",
			`{"Version":"2012-10-17","Statement":[`+rootStmt+`]}`)
	})

	t.Run("key states", func(t *testing.T) {
		a.run(t, put("st", "--server-side-encryption", "aws:kms", "--ssekms-key-id", keyID)...)
		a.run(t, "kms", "disable-key", "--key-id", keyID)
		out := mustFail(t, a, "KMS.DisabledException", put("st2", "--server-side-encryption", "aws:kms", "--ssekms-key-id", keyID)...)
		mustContain(t, "disabled key", out, keyARN+" is disabled.")
		mustFail(t, a, "KMS.DisabledException", get("st")...)
		a.run(t, "kms", "enable-key", "--key-id", keyID)
		a.run(t, get("st")...)
		a.run(t, "kms", "schedule-key-deletion", "--key-id", keyID, "--pending-window-in-days", "7")
		mustFail(t, a, "KMS.KMSInvalidStateException", put("st2", "--server-side-encryption", "aws:kms", "--ssekms-key-id", keyID)...)
		mustFail(t, a, "KMS.KMSInvalidStateException", get("st")...)
		a.run(t, "kms", "cancel-key-deletion", "--key-id", keyID)
		a.run(t, "kms", "enable-key", "--key-id", keyID)
		a.run(t, put("st2", "--server-side-encryption", "aws:kms", "--ssekms-key-id", keyID)...)
		a.run(t, get("st")...)
	})

	t.Run("bucket policy on the key", func(t *testing.T) {
		var other kmsKeyMetadata
		a.json(t, &other, "kms", "create-key")
		a.run(t, "s3api", "put-bucket-policy", "--bucket", "cli-kms", "--policy", `{"Version":"2012-10-17","Statement":[
 {"Sid":"Only this key","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::cli-kms/*",
  "Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption-aws-kms-key-id":"`+keyARN+`"}}}]}`)
		mustFail(t, a, "AccessDenied", put("p")...)
		mustFail(t, a, "AccessDenied", put("p", "--server-side-encryption", "aws:kms")...)
		mustFail(t, a, "AccessDenied", put("p", "--server-side-encryption", "aws:kms", "--ssekms-key-id", other.KeyMetadata.KeyId)...)
		mustFail(t, a, "AccessDenied", put("p", "--server-side-encryption", "AES256")...)
		// The key is compared by ARN, however the request names it.
		for _, id := range []string{keyID, keyARN, "alias/cli-kms", "arn:aws:kms:us-east-1:" + acct + ":alias/cli-kms"} {
			a.run(t, put("p", "--server-side-encryption", "aws:kms", "--ssekms-key-id", id)...)
		}
		a.run(t, "s3api", "delete-bucket-policy", "--bucket", "cli-kms")
	})

	t.Run("encryption context", func(t *testing.T) {
		a.run(t, "s3api", "create-bucket", "--bucket", "cli-kms-other")
		a.run(t, "kms", "put-key-policy", "--key-id", keyID, "--policy-name", "default", "--policy", `{"Version":"2012-10-17","Statement":[
 {"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct+`:root"},"Action":"kms:*","Resource":"*","Condition":{"Null":{"kms:ViaService":"true"}}},
 {"Sid":"One bucket","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct+`:root"},"Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"*",
  "Condition":{"StringLike":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::cli-kms/*"}}}]}`)
		ec := base64.StdEncoding.EncodeToString([]byte(`{"department":"finance"}`))
		var res struct{ SSEKMSEncryptionContext string }
		a.json(t, &res, put("ctx", "--server-side-encryption", "aws:kms", "--ssekms-key-id", keyID, "--ssekms-encryption-context", ec)...)
		raw, _ := base64.StdEncoding.DecodeString(res.SSEKMSEncryptionContext)
		mustContain(t, "put-object context", string(raw), `"department":"finance"`, `"aws:s3:arn":"arn:aws:s3:::cli-kms/ctx"`)
		a.run(t, get("ctx")...)
		mustFail(t, a, "AccessDenied", "s3api", "put-object", "--bucket", "cli-kms-other", "--key", "ctx", "--body", body,
			"--server-side-encryption", "aws:kms", "--ssekms-key-id", keyID, "--ssekms-encryption-context", ec)
		// Direct KMS use is still allowed by the first statement.
		a.run(t, "kms", "describe-key", "--key-id", keyID)
	})
}
