package clients

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-io/coffer/test/harness"
)

// TestKMSWithAWSCLIv2 drives the KMS API with Debian's aws CLI v2.
func TestKMSWithAWSCLIv2(t *testing.T) {
	t.Parallel()
	requireAWSCLIv2(t)
	if v := awsVersion(awsV2Path); !strings.HasPrefix(v, "aws-cli/2.") {
		missingClient(t, "%s is not the aws CLI v2: %q", awsV2Path, v)
	}
	testKMS(t, awsV2Path)
}

// TestKMSWithAWSCLIv1 drives the KMS API with an aws CLI v1 on PATH.
func TestKMSWithAWSCLIv1(t *testing.T) {
	t.Parallel()
	bin := awsCLIv1(t)
	testKMS(t, bin)
}

type kmsKeyMetadata struct {
	KeyMetadata struct {
		AWSAccountId, KeyId, Arn, KeyState, KeyManager, KeySpec, KeyUsage, Origin string
		Enabled                                                                   bool
		CreationDate                                                              any // the CLI formats it
	}
}

// testKMS runs the key life cycle, cryptographic operations and key
// policies with the CLI at bin, as the account root and as IAM users.
func testKMS(t *testing.T, bin string) {
	srv := harness.Start(t, harness.WithHTTP())
	ctx := testContext(t)
	t.Logf("client: %s", awsVersion(bin))
	a := awsCLI{runner{ctx: ctx, env: srv.Env(), bin: bin, args: []string{"--endpoint-url", srv.Endpoint, "--output", "json"}}}
	dir := t.TempDir()
	mustFail := func(t *testing.T, c awsCLI, code string, args ...string) string {
		t.Helper()
		out, err := c.runErr(t, args...)
		if err == nil || !strings.Contains(out, code) {
			t.Fatalf("aws %s: want %s, got err=%v\n%s", strings.Join(args, " "), code, err, out)
		}
		return out
	}
	// Blobs go to files: the CLI base64-encodes fileb:// arguments itself.
	writeBlob := func(t *testing.T, name, b64 string) string {
		t.Helper()
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		return "fileb://" + p
	}
	plainFile := filepath.Join(dir, "plain.txt")
	if err := os.WriteFile(plainFile, []byte("attack at dawn"), 0o600); err != nil {
		t.Fatal(err)
	}
	plainB64 := base64.StdEncoding.EncodeToString([]byte("attack at dawn"))

	var who struct{ Account string }
	a.json(t, &who, "sts", "get-caller-identity")
	acct := who.Account

	var key kmsKeyMetadata
	a.json(t, &key, "kms", "create-key", "--description", "e2e key")
	km := key.KeyMetadata
	if km.AWSAccountId != acct || km.KeyState != "Enabled" || !km.Enabled || km.KeyManager != "CUSTOMER" ||
		km.KeySpec != "SYMMETRIC_DEFAULT" || km.KeyUsage != "ENCRYPT_DECRYPT" || km.Origin != "AWS_KMS" ||
		km.Arn != "arn:aws:kms:us-east-1:"+acct+":key/"+km.KeyId || km.CreationDate == nil {
		t.Fatalf("create-key: %+v", km)
	}
	keyID, keyARN := km.KeyId, km.Arn
	mustFail(t, a, "UnsupportedOperationException", "kms", "create-key", "--key-spec", "RSA_2048", "--key-usage", "ENCRYPT_DECRYPT")

	t.Run("aliases and listing", func(t *testing.T) {
		a.run(t, "kms", "create-alias", "--alias-name", "alias/e2e", "--target-key-id", keyID)
		mustFail(t, a, "AlreadyExistsException", "kms", "create-alias", "--alias-name", "alias/e2e", "--target-key-id", keyID)
		var aliases struct {
			Aliases []struct{ AliasName, AliasArn, TargetKeyId string }
		}
		a.json(t, &aliases, "kms", "list-aliases", "--key-id", keyID)
		if len(aliases.Aliases) != 1 || aliases.Aliases[0].AliasName != "alias/e2e" || aliases.Aliases[0].TargetKeyId != keyID ||
			aliases.Aliases[0].AliasArn != "arn:aws:kms:us-east-1:"+acct+":alias/e2e" {
			t.Fatalf("list-aliases: %+v", aliases)
		}
		for _, id := range []string{"alias/e2e", keyARN, "arn:aws:kms:us-east-1:" + acct + ":alias/e2e"} {
			var d kmsKeyMetadata
			a.json(t, &d, "kms", "describe-key", "--key-id", id)
			if d.KeyMetadata.KeyId != keyID {
				t.Fatalf("describe-key %s: %+v", id, d)
			}
		}
		mustFail(t, a, "NotFoundException", "kms", "describe-key", "--key-id", "alias/none")
		var keys struct {
			Keys []struct{ KeyId, KeyArn string }
		}
		a.json(t, &keys, "kms", "list-keys")
		found := false
		for _, k := range keys.Keys {
			found = found || k.KeyId == keyID && k.KeyArn == keyARN
		}
		if !found {
			t.Fatalf("list-keys misses %s: %+v", keyID, keys)
		}
	})

	var blob string // ciphertext under material version 1, with a context
	t.Run("encrypt and decrypt", func(t *testing.T) {
		var enc struct{ CiphertextBlob, KeyId string }
		a.json(t, &enc, "kms", "encrypt", "--key-id", "alias/e2e", "--plaintext", "fileb://"+plainFile)
		if enc.KeyId != keyARN {
			t.Fatalf("encrypt: %+v", enc)
		}
		var dec struct{ Plaintext, KeyId string }
		a.json(t, &dec, "kms", "decrypt", "--ciphertext-blob", writeBlob(t, "c1", enc.CiphertextBlob))
		if dec.Plaintext != plainB64 || dec.KeyId != keyARN {
			t.Fatalf("decrypt: %+v", dec)
		}
		a.json(t, &enc, "kms", "encrypt", "--key-id", keyID, "--plaintext", "fileb://"+plainFile, "--encryption-context", "purpose=e2e,dept=eng")
		blob = enc.CiphertextBlob
		ctxBlob := writeBlob(t, "c2", blob)
		a.json(t, &dec, "kms", "decrypt", "--ciphertext-blob", ctxBlob, "--encryption-context", "dept=eng,purpose=e2e")
		if dec.Plaintext != plainB64 {
			t.Fatalf("decrypt with context: %+v", dec)
		}
		mustFail(t, a, "InvalidCiphertextException", "kms", "decrypt", "--ciphertext-blob", ctxBlob, "--encryption-context", "purpose=other,dept=eng")
		mustFail(t, a, "InvalidCiphertextException", "kms", "decrypt", "--ciphertext-blob", ctxBlob)

		var dk struct{ CiphertextBlob, Plaintext, KeyId string }
		a.json(t, &dk, "kms", "generate-data-key", "--key-id", "alias/e2e", "--key-spec", "AES_256")
		raw, _ := base64.StdEncoding.DecodeString(dk.Plaintext)
		if len(raw) != 32 || dk.KeyId != keyARN || dk.CiphertextBlob == "" {
			t.Fatalf("generate-data-key: %+v", dk)
		}
		a.json(t, &dec, "kms", "decrypt", "--ciphertext-blob", writeBlob(t, "dk", dk.CiphertextBlob))
		if dec.Plaintext != dk.Plaintext {
			t.Fatal("the data key does not decrypt to its plaintext")
		}
		var rnd struct{ Plaintext string }
		a.json(t, &rnd, "kms", "generate-random", "--number-of-bytes", "64")
		if raw, _ := base64.StdEncoding.DecodeString(rnd.Plaintext); len(raw) != 64 {
			t.Fatalf("generate-random: %+v", rnd)
		}
	})

	t.Run("rotation", func(t *testing.T) {
		a.run(t, "kms", "enable-key-rotation", "--key-id", keyID)
		// Older CLIs do not know RotationPeriodInDays and drop it.
		var st struct {
			KeyRotationEnabled   bool
			RotationPeriodInDays *int
		}
		a.json(t, &st, "kms", "get-key-rotation-status", "--key-id", keyID)
		if !st.KeyRotationEnabled || st.RotationPeriodInDays != nil && *st.RotationPeriodInDays != 365 {
			t.Fatalf("get-key-rotation-status: %+v", st)
		}
		if out, err := a.runErr(t, "kms", "rotate-key-on-demand", "--key-id", keyID); err != nil {
			// CLIs from before 2024 do not know the command; the other CLI
			// test covers it then.
			if !strings.Contains(out, "Invalid choice") {
				t.Fatalf("rotate-key-on-demand: %v\n%s", err, out)
			}
			t.Logf("this CLI has no rotate-key-on-demand")
		}
		var dec struct{ Plaintext string }
		a.json(t, &dec, "kms", "decrypt", "--ciphertext-blob", writeBlob(t, "old", blob), "--encryption-context", "purpose=e2e,dept=eng")
		if dec.Plaintext != plainB64 {
			t.Fatalf("a ciphertext from before rotation: %+v", dec)
		}
		var re struct{ CiphertextBlob, SourceKeyId, KeyId string }
		a.json(t, &re, "kms", "re-encrypt", "--ciphertext-blob", writeBlob(t, "old2", blob),
			"--source-encryption-context", "purpose=e2e,dept=eng", "--destination-key-id", keyID)
		a.json(t, &dec, "kms", "decrypt", "--ciphertext-blob", writeBlob(t, "re", re.CiphertextBlob))
		if dec.Plaintext != plainB64 || re.SourceKeyId != keyARN {
			t.Fatalf("re-encrypt: %+v / %+v", re, dec)
		}
		a.run(t, "kms", "disable-key-rotation", "--key-id", keyID)
	})

	t.Run("disable and delete", func(t *testing.T) {
		var k kmsKeyMetadata
		a.json(t, &k, "kms", "create-key")
		id := k.KeyMetadata.KeyId
		a.run(t, "kms", "disable-key", "--key-id", id)
		mustFail(t, a, "DisabledException", "kms", "encrypt", "--key-id", id, "--plaintext", "fileb://"+plainFile)
		a.run(t, "kms", "enable-key", "--key-id", id)
		a.run(t, "kms", "encrypt", "--key-id", id, "--plaintext", "fileb://"+plainFile)
		var del struct {
			KeyId, KeyState     string
			PendingWindowInDays int
		}
		a.json(t, &del, "kms", "schedule-key-deletion", "--key-id", id, "--pending-window-in-days", "7")
		if del.KeyState != "PendingDeletion" || del.PendingWindowInDays != 7 {
			t.Fatalf("schedule-key-deletion: %+v", del)
		}
		mustFail(t, a, "KMSInvalidStateException", "kms", "encrypt", "--key-id", id, "--plaintext", "fileb://"+plainFile)
		a.run(t, "kms", "cancel-key-deletion", "--key-id", id)
		a.json(t, &k, "kms", "describe-key", "--key-id", id)
		if k.KeyMetadata.KeyState != "Disabled" {
			t.Fatalf("after cancel-key-deletion: %+v", k)
		}
	})

	// Two IAM users with the same identity policy allowing all of KMS.
	user := func(t *testing.T, name string) awsCLI {
		t.Helper()
		a.run(t, "iam", "create-user", "--user-name", name)
		var k struct {
			AccessKey struct{ AccessKeyId, SecretAccessKey string }
		}
		a.json(t, &k, "iam", "create-access-key", "--user-name", name)
		u := a
		u.env = append(envWithout(srv.Env(), "AWS_SHARED_CREDENTIALS_FILE"), "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
			"AWS_ACCESS_KEY_ID="+k.AccessKey.AccessKeyId, "AWS_SECRET_ACCESS_KEY="+k.AccessKey.SecretAccessKey)
		return u
	}
	kmsAll := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`

	t.Run("key policies", func(t *testing.T) {
		alice, bob, carol := user(t, "alice"), user(t, "bob"), user(t, "carol")
		for _, n := range []string{"alice", "bob"} {
			a.run(t, "iam", "put-user-policy", "--user-name", n, "--policy-name", "kms", "--policy-document", kmsAll)
		}
		var enc struct{ CiphertextBlob string }
		a.json(t, &enc, "kms", "encrypt", "--key-id", keyID, "--plaintext", "fileb://"+plainFile)
		c := writeBlob(t, "pol", enc.CiphertextBlob)

		// The default key policy delegates to IAM: alice and bob may, carol
		// (no identity policy) may not.
		for _, u := range []awsCLI{alice, bob} {
			u.run(t, "kms", "decrypt", "--ciphertext-blob", c)
		}
		out := mustFail(t, carol, "AccessDeniedException", "kms", "decrypt", "--ciphertext-blob", c)
		mustContain(t, "carol's denial", out, "user/carol", "kms:Decrypt", keyARN)
		mustFail(t, carol, "AccessDeniedException", "kms", "list-keys")

		// A key policy denying bob kms:Decrypt: bob is refused, alice not.
		pol := `{"Version":"2012-10-17","Statement":[
 {"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:*","Resource":"*"},
 {"Sid":"No decrypt for bob","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/bob"},"Action":"kms:Decrypt","Resource":"*"}]}`
		a.run(t, "kms", "put-key-policy", "--key-id", keyID, "--policy-name", "default", "--policy", pol)
		var got struct{ Policy string }
		a.json(t, &got, "kms", "get-key-policy", "--key-id", keyID, "--policy-name", "default")
		if !strings.Contains(got.Policy, "No decrypt for bob") {
			t.Fatalf("get-key-policy: %s", got.Policy)
		}
		out = mustFail(t, bob, "AccessDeniedException", "kms", "decrypt", "--ciphertext-blob", c)
		mustContain(t, "bob's denial", out, "explicit deny")
		alice.run(t, "kms", "decrypt", "--ciphertext-blob", c)
		bob.run(t, "kms", "encrypt", "--key-id", keyID, "--plaintext", "fileb://"+plainFile)

		// A key policy naming only alice: IAM policies no longer count, not
		// even the root's; the lockout check refuses it unless bypassed.
		only := `{"Version":"2012-10-17","Statement":[{"Sid":"Alice only","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/alice"},"Action":"kms:*","Resource":"*"}]}`
		mustFail(t, a, "MalformedPolicyDocumentException", "kms", "put-key-policy", "--key-id", keyID, "--policy-name", "default", "--policy", only)
		a.run(t, "kms", "put-key-policy", "--key-id", keyID, "--policy-name", "default", "--policy", only, "--bypass-policy-lockout-safety-check")
		alice.run(t, "kms", "decrypt", "--ciphertext-blob", c)
		// A write by an IAM user: the key policy is decided inside the
		// key's store transaction, loading her identity policies.
		alice.run(t, "kms", "enable-key-rotation", "--key-id", keyID)
		mustFail(t, bob, "AccessDeniedException", "kms", "decrypt", "--ciphertext-blob", c)
		mustFail(t, a, "AccessDeniedException", "kms", "decrypt", "--ciphertext-blob", c)
		mustFail(t, a, "MalformedPolicyDocumentException", "kms", "create-key", "--policy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`)

		// Grants: carol, without any policy, decrypts through a grant
		// limited to a context, until the account retires it.
		var gk kmsKeyMetadata
		a.json(t, &gk, "kms", "create-key")
		gid := gk.KeyMetadata.KeyId
		var genc struct{ CiphertextBlob string }
		a.json(t, &genc, "kms", "encrypt", "--key-id", gid, "--plaintext", "fileb://"+plainFile, "--encryption-context", "app=e2e")
		gc := writeBlob(t, "grant", genc.CiphertextBlob)
		mustFail(t, carol, "AccessDeniedException", "kms", "decrypt", "--ciphertext-blob", gc, "--encryption-context", "app=e2e")
		var grant struct{ GrantId, GrantToken string }
		a.json(t, &grant, "kms", "create-grant", "--key-id", gid, "--grantee-principal", "arn:aws:iam::"+acct+":user/carol",
			"--operations", "Decrypt", "--constraints", "EncryptionContextSubset={app=e2e}", "--name", "carol")
		carol.run(t, "kms", "decrypt", "--ciphertext-blob", gc, "--encryption-context", "app=e2e", "--grant-tokens", grant.GrantToken)
		var grants struct {
			Grants []struct{ GrantId, Name, GranteePrincipal string }
		}
		a.json(t, &grants, "kms", "list-grants", "--key-id", gid)
		if len(grants.Grants) != 1 || grants.Grants[0].GrantId != grant.GrantId || grants.Grants[0].Name != "carol" {
			t.Fatalf("list-grants: %+v", grants)
		}
		mustFail(t, carol, "AccessDeniedException", "kms", "retire-grant", "--grant-token", grant.GrantToken)
		a.run(t, "kms", "retire-grant", "--grant-token", grant.GrantToken)
		mustFail(t, carol, "AccessDeniedException", "kms", "decrypt", "--ciphertext-blob", gc, "--encryption-context", "app=e2e")

		// The AWS-managed aws/s3 key: metadata for the account, use only
		// through S3. Writing an object creates it.
		a.run(t, "s3api", "create-bucket", "--bucket", "kms-e2e")
		a.run(t, "s3api", "put-object", "--bucket", "kms-e2e", "--key", "k", "--body", plainFile)
		var s3key kmsKeyMetadata
		a.json(t, &s3key, "kms", "describe-key", "--key-id", "alias/aws/s3")
		if s3key.KeyMetadata.KeyManager != "AWS" {
			t.Fatalf("aws/s3: %+v", s3key)
		}
		mustFail(t, a, "AccessDeniedException", "kms", "encrypt", "--key-id", "alias/aws/s3", "--plaintext", "fileb://"+plainFile)
		// AWS's managed policy does not let the account change it.
		mustFail(t, a, "AccessDeniedException", "kms", "put-key-policy", "--key-id", s3key.KeyMetadata.KeyId, "--policy-name", "default", "--policy", pol)
	})

	t.Run("protocol", func(t *testing.T) {
		mustFail(t, a, "NotFoundException", "kms", "get-key-policy", "--key-id", "alias/e2e", "--policy-name", "default")
		mustFail(t, a, "UnsupportedOperationException", "kms", "list-retirable-grants", "--retiring-principal", "arn:aws:iam::"+acct+":root")
		// Authentication failures in the JSON protocol's words.
		bad := a
		bad.env = append(envWithout(srv.Env(), "AWS_SHARED_CREDENTIALS_FILE"), "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
			"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
		mustFail(t, bad, "UnrecognizedClientException", "kms", "list-keys")
		mustFail(t, a, "MissingAuthenticationTokenException", "kms", "list-keys", "--no-sign-request")
		// KMS over the plain-HTTP listener is refused.
		plain := a
		plain.args = []string{"--endpoint-url", "http://" + srv.HTTPAddr, "--output", "json"}
		out := mustFail(t, plain, "AccessDeniedException", "kms", "list-keys")
		mustContain(t, "plain HTTP", out, "HTTPS")
	})

	// Audit: KMS calls are recorded with service kms and their operation
	// name, denials as denied.
	time.Sleep(1500 * time.Millisecond)
	f, err := os.Open(filepath.Join(srv.Dir, "audit", "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev map[string]any
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		if ev["service"] == "kms" || ev["Service"] == "kms" {
			op, _ := ev["operation"].(string)
			if op == "" {
				op, _ = ev["Operation"].(string)
			}
			outcome, _ := ev["outcome"].(string)
			if outcome == "" {
				outcome, _ = ev["Outcome"].(string)
			}
			seen[op+" "+outcome] = true
		}
	}
	for _, want := range []string{"CreateKey success", "Decrypt success", "Decrypt denied", "ListKeys denied", "Encrypt failed"} {
		if !seen[want] {
			t.Errorf("audit log has no KMS event %q; has %v", want, seen)
		}
	}
}
