package clients

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/mfa"
	"github.com/coffer-io/coffer/test/harness"
)

// TestSTSWithAWSCLI: virtual MFA devices for a user and for the root,
// MFA-backed GetSessionToken credentials satisfying a bucket policy that
// requires MFA, and AssumeRole sessions limited by the role's policy, a
// session policy and the trust policy's ExternalId, all through `aws`.
func TestSTSWithAWSCLI(t *testing.T) {
	t.Parallel()
	requireAWSCLIv2(t)
	srv := harness.Start(t)
	ctx := testContext(t)
	a := awsCLI{runner{ctx: ctx, env: srv.Env(), bin: awsV2Path, args: []string{"--endpoint-url", srv.Endpoint, "--output", "json"}}}
	dir := t.TempDir()
	as := func(id, secret, token string) awsCLI {
		c := a
		c.env = append(envWithout(srv.Env(), "AWS_SHARED_CREDENTIALS_FILE"), "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
			"AWS_ACCESS_KEY_ID="+id, "AWS_SECRET_ACCESS_KEY="+secret)
		if token != "" {
			c.env = append(c.env, "AWS_SESSION_TOKEN="+token)
		}
		return c
	}
	mustFail := func(t *testing.T, c awsCLI, code string, args ...string) {
		t.Helper()
		out, err := c.runErr(t, args...)
		if err == nil || !strings.Contains(out, code) {
			t.Fatalf("aws %s: want %s, got err=%v\n%s", strings.Join(args, " "), code, err, out)
		}
	}
	// newDevice creates a virtual MFA device and returns its serial and
	// seed, read back as the CLI wrote it.
	newDevice := func(name string) (string, []byte) {
		seedFile := filepath.Join(dir, name+".seed")
		var d struct{ VirtualMFADevice struct{ SerialNumber string } }
		a.json(t, &d, "iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", name,
			"--outfile", seedFile, "--bootstrap-method", "Base32StringSeed")
		b32, err := os.ReadFile(seedFile)
		if err != nil {
			t.Fatal(err)
		}
		seed, err := mfa.ParseBase32(strings.TrimSpace(string(b32)))
		if err != nil {
			t.Fatalf("seed %q: %v", b32, err)
		}
		return d.VirtualMFADevice.SerialNumber, seed
	}
	// get reads an object as c.
	get := func(c awsCLI, bucket, key string) string {
		t.Helper()
		out := filepath.Join(dir, "out")
		c.run(t, "s3api", "get-object", "--bucket", bucket, "--key", key, out)
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// Two consecutive codes need no waiting: the previous step's and the
	// current one's are both inside the server's window.
	step := func() int64 { return mfa.Step(time.Now()) }
	code := func(seed []byte, s int64) string { return mfa.HOTP(seed, uint64(s)) }

	var who struct{ Account string }
	a.json(t, &who, "sts", "get-caller-identity")
	acct := who.Account

	var user struct{ User struct{ Arn string } }
	a.json(t, &user, "iam", "create-user", "--user-name", "alice")
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	a.json(t, &key, "iam", "create-access-key", "--user-name", "alice")
	alice := as(key.AccessKey.AccessKeyId, key.AccessKey.SecretAccessKey, "")

	// MFA devices: the QR code is a PNG; the user's and the root's
	// devices are enabled with two consecutive codes.
	png := filepath.Join(dir, "qr.png")
	var qr struct{ VirtualMFADevice struct{ SerialNumber string } }
	a.json(t, &qr, "iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", "qr", "--outfile", png, "--bootstrap-method", "QRCodePNG")
	if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("QR code file: %v %.16q", err, b)
	}
	a.run(t, "iam", "delete-virtual-mfa-device", "--serial-number", qr.VirtualMFADevice.SerialNumber)

	serial, seed := newDevice("alice-phone")
	if serial != "arn:aws:iam::"+acct+":mfa/alice-phone" {
		t.Fatalf("serial %s", serial)
	}
	mustFail(t, a, "InvalidAuthenticationCode", "iam", "enable-mfa-device", "--user-name", "alice", "--serial-number", serial,
		"--authentication-code1", "000000", "--authentication-code2", "000000")
	s := step()
	a.run(t, "iam", "enable-mfa-device", "--user-name", "alice", "--serial-number", serial,
		"--authentication-code1", code(seed, s-1), "--authentication-code2", code(seed, s))
	mustFail(t, a, "DeleteConflict", "iam", "delete-virtual-mfa-device", "--serial-number", serial)
	var listed struct {
		MFADevices []struct{ UserName, SerialNumber string }
	}
	a.json(t, &listed, "iam", "list-mfa-devices", "--user-name", "alice")
	if len(listed.MFADevices) != 1 || listed.MFADevices[0].SerialNumber != serial {
		t.Fatalf("list-mfa-devices: %+v", listed)
	}

	rootSerial, rootSeed := newDevice("root-key")
	rs := step()
	a.run(t, "iam", "enable-mfa-device", "--user-name", "root", "--serial-number", rootSerial,
		"--authentication-code1", code(rootSeed, rs-1), "--authentication-code2", code(rootSeed, rs))
	a.json(t, &listed, "iam", "list-mfa-devices", "--user-name", "root")
	if len(listed.MFADevices) != 1 || listed.MFADevices[0].SerialNumber != rootSerial {
		t.Fatalf("root's MFA devices: %+v", listed)
	}
	var virtual struct {
		VirtualMFADevices []struct{ SerialNumber string }
	}
	a.json(t, &virtual, "iam", "list-virtual-mfa-devices", "--assignment-status", "Assigned")
	if len(virtual.VirtualMFADevices) != 2 {
		t.Fatalf("assigned devices: %+v", virtual)
	}

	// A bucket only MFA-authenticated alice may read.
	obj := filepath.Join(dir, "obj")
	if err := os.WriteFile(obj, []byte("secret data"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"mfa-only", "data", "other"} {
		a.run(t, "s3api", "create-bucket", "--bucket", b)
		a.run(t, "s3api", "put-object", "--bucket", b, "--key", "k", "--body", obj)
		a.run(t, "s3api", "put-object", "--bucket", b, "--key", "public/k", "--body", obj)
	}
	a.run(t, "s3api", "put-bucket-policy", "--bucket", "mfa-only", "--policy", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"`+user.User.Arn+`"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::mfa-only/*"},
		{"Effect":"Deny","Principal":{"AWS":"`+user.User.Arn+`"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::mfa-only/*",
		 "Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}`)
	mustFail(t, alice, "AccessDenied", "s3api", "get-object", "--bucket", "mfa-only", "--key", "k", filepath.Join(dir, "out"))

	var st struct {
		Credentials struct{ AccessKeyId, SecretAccessKey, SessionToken, Expiration string }
	}
	// The codes of steps s-1 and s were spent enabling the device.
	mustFail(t, alice, "invalid MFA one time pass code", "sts", "get-session-token", "--serial-number", serial, "--token-code", code(seed, s))
	tc := code(seed, s+1)
	alice.json(t, &st, "sts", "get-session-token", "--serial-number", serial, "--token-code", tc, "--duration-seconds", "900")
	if !strings.HasPrefix(st.Credentials.AccessKeyId, "ASIA") || st.Credentials.SessionToken == "" {
		t.Fatalf("get-session-token: %+v", st)
	}
	mustFail(t, alice, "invalid MFA one time pass code", "sts", "get-session-token", "--serial-number", serial, "--token-code", tc)
	mfaAlice := as(st.Credentials.AccessKeyId, st.Credentials.SecretAccessKey, st.Credentials.SessionToken)
	if out := get(mfaAlice, "mfa-only", "k"); out != "secret data" {
		t.Fatalf("MFA session read %q", out)
	}
	var sessWho struct{ Arn string }
	mfaAlice.json(t, &sessWho, "sts", "get-caller-identity")
	if sessWho.Arn != user.User.Arn {
		t.Fatalf("session identity %+v", sessWho)
	}
	// Without MFA the session is no better than the key.
	alice.json(t, &st, "sts", "get-session-token")
	plain := as(st.Credentials.AccessKeyId, st.Credentials.SecretAccessKey, st.Credentials.SessionToken)
	mustFail(t, plain, "AccessDenied", "s3api", "get-object", "--bucket", "mfa-only", "--key", "k", filepath.Join(dir, "out"))
	// A forged token is refused.
	forged := as(st.Credentials.AccessKeyId, st.Credentials.SecretAccessKey, st.Credentials.SessionToken+"x")
	mustFail(t, forged, "InvalidToken", "s3api", "list-buckets")

	// A role alice may assume with the right external id, reading one
	// bucket.
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + user.User.Arn + `"},
		"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ext-1"}}}]}`
	var role struct{ Role struct{ Arn, RoleId string } }
	a.json(t, &role, "iam", "create-role", "--role-name", "reader", "--assume-role-policy-document", trust)
	a.run(t, "iam", "put-role-policy", "--role-name", "reader", "--policy-name", "read-data", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}]}`)

	mustFail(t, alice, "AccessDenied", "sts", "assume-role", "--role-arn", role.Role.Arn, "--role-session-name", "s1", "--external-id", "wrong")
	mustFail(t, alice, "AccessDenied", "sts", "assume-role", "--role-arn", role.Role.Arn, "--role-session-name", "s1")
	var ar struct {
		Credentials     struct{ AccessKeyId, SecretAccessKey, SessionToken string }
		AssumedRoleUser struct{ AssumedRoleId, Arn string }
	}
	alice.json(t, &ar, "sts", "assume-role", "--role-arn", role.Role.Arn, "--role-session-name", "s1", "--external-id", "ext-1")
	if ar.AssumedRoleUser.Arn != "arn:aws:sts::"+acct+":assumed-role/reader/s1" || ar.AssumedRoleUser.AssumedRoleId != role.Role.RoleId+":s1" {
		t.Fatalf("assume-role: %+v", ar.AssumedRoleUser)
	}
	reader := as(ar.Credentials.AccessKeyId, ar.Credentials.SecretAccessKey, ar.Credentials.SessionToken)
	reader.json(t, &sessWho, "sts", "get-caller-identity")
	if sessWho.Arn != ar.AssumedRoleUser.Arn {
		t.Fatalf("role session identity %+v", sessWho)
	}
	if out := get(reader, "data", "k"); out != "secret data" {
		t.Fatalf("role session read %q", out)
	}
	mustFail(t, reader, "AccessDenied", "s3api", "get-object", "--bucket", "other", "--key", "k", filepath.Join(dir, "out"))
	mustFail(t, reader, "AccessDenied", "s3api", "delete-object", "--bucket", "data", "--key", "k")
	mustFail(t, reader, "AccessDenied", "iam", "list-users")

	// A session policy narrows the session to data/public/.
	alice.json(t, &ar, "sts", "assume-role", "--role-arn", role.Role.Arn, "--role-session-name", "s2", "--external-id", "ext-1",
		"--policy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/public/*"}]}`)
	narrow := as(ar.Credentials.AccessKeyId, ar.Credentials.SecretAccessKey, ar.Credentials.SessionToken)
	if out := get(narrow, "data", "public/k"); out != "secret data" {
		t.Fatalf("narrowed session read %q", out)
	}
	mustFail(t, narrow, "AccessDenied", "s3api", "get-object", "--bucket", "data", "--key", "k", filepath.Join(dir, "out"))
}
