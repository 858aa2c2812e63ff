package clients

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/mfa"
	"github.com/coffer-io/coffer/test/harness"
)

// v2CLI returns the aws CLI v2 pointed at srv, or skips.
func v2CLI(t *testing.T, ctx context.Context, srv *harness.Server) awsCLI {
	t.Helper()
	requireAWSCLIv2(t)
	return awsCLI{runner{ctx: ctx, env: srv.Env(), bin: awsV2Path, args: []string{"--endpoint-url", srv.Endpoint, "--output", "json"}}}
}

// withKey returns c acting with another access key.
func withKey(c awsCLI, srv *harness.Server, id, secret string) awsCLI {
	c.env = append(envWithout(srv.Env(), "AWS_SHARED_CREDENTIALS_FILE"), "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_ACCESS_KEY_ID="+id, "AWS_SECRET_ACCESS_KEY="+secret)
	return c
}

// failsWith runs c and requires it to fail with every one of wants in
// its output.
func failsWith(t *testing.T, c awsCLI, wants []string, args ...string) {
	t.Helper()
	out, err := c.runErr(t, args...)
	if err == nil {
		t.Fatalf("aws %s succeeded, want %v:\n%s", strings.Join(args, " "), wants, out)
	}
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Fatalf("aws %s: want %q in:\n%s", strings.Join(args, " "), w, out)
		}
	}
}

// rootDevice is the account root's virtual MFA device, created and
// enabled through `aws iam`. Codes are spent in increasing time steps;
// code waits (at most one 30-second step) until a fresh one is valid.
type rootDevice struct {
	serial string
	seed   []byte
	last   int64 // the latest step spent
}

func newRootDevice(t *testing.T, a awsCLI) *rootDevice {
	t.Helper()
	seedFile := filepath.Join(t.TempDir(), "root.seed")
	var d struct{ VirtualMFADevice struct{ SerialNumber string } }
	a.json(t, &d, "iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", "root-device",
		"--outfile", seedFile, "--bootstrap-method", "Base32StringSeed")
	b32, err := os.ReadFile(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := mfa.ParseBase32(strings.TrimSpace(string(b32)))
	if err != nil {
		t.Fatal(err)
	}
	dev := &rootDevice{serial: d.VirtualMFADevice.SerialNumber, seed: seed}
	s := mfa.Step(time.Now())
	a.run(t, "iam", "enable-mfa-device", "--user-name", "root", "--serial-number", dev.serial,
		"--authentication-code1", dev.at(s-1), "--authentication-code2", dev.at(s))
	dev.last = s
	return dev
}

func (d *rootDevice) at(step int64) string { return mfa.HOTP(d.seed, uint64(step)) }

// header returns a fresh "SERIAL CODE" for x-amz-mfa. The server accepts
// the next step's code too, so a wait is only needed when that one is
// spent as well.
func (d *rootDevice) header(t *testing.T) string {
	t.Helper()
	for mfa.Step(time.Now())+1 <= d.last {
		time.Sleep(time.Second)
	}
	d.last++
	if now := mfa.Step(time.Now()); d.last < now {
		d.last = now
	}
	return d.serial + " " + d.at(d.last)
}

// spent returns the most recently spent code, to try reusing it.
func (d *rootDevice) spent() string { return d.serial + " " + d.at(d.last) }

// TestMFADeleteWithAWSCLI: MFA Delete enabled by the root with its
// virtual MFA device through `aws s3api put-bucket-versioning --mfa`;
// deleting a version then needs a fresh code of that device, while a
// simple delete (a marker) does not.
func TestMFADeleteWithAWSCLI(t *testing.T) {
	t.Parallel()
	srv := harness.Start(t)
	ctx := testContext(t)
	a := v2CLI(t, ctx, srv)
	dir := t.TempDir()
	body := filepath.Join(dir, "body")
	writeFiles(t, dir, map[string]string{"body": "keep me\n"})
	const b = "mfa-bucket"

	dev := newRootDevice(t, a)
	a.run(t, "s3api", "create-bucket", "--bucket", b)
	a.run(t, "s3api", "put-bucket-versioning", "--bucket", b, "--versioning-configuration", "Status=Enabled")
	var v1, v2 struct{ VersionId string }
	a.json(t, &v1, "s3api", "put-object", "--bucket", b, "--key", "k", "--body", body)
	a.json(t, &v2, "s3api", "put-object", "--bucket", b, "--key", "k", "--body", body)

	// An IAM user allowed everything in S3 still cannot touch MFA Delete.
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	a.run(t, "iam", "create-user", "--user-name", "ops")
	a.run(t, "iam", "put-user-policy", "--user-name", "ops", "--policy-name", "s3", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	a.json(t, &key, "iam", "create-access-key", "--user-name", "ops")
	ops := withKey(a, srv, key.AccessKey.AccessKeyId, key.AccessKey.SecretAccessKey)

	enable := []string{"s3api", "put-bucket-versioning", "--bucket", b, "--versioning-configuration", "Status=Enabled,MFADelete=Enabled"}
	failsWith(t, a, []string{"AccessDenied", "Mfa Authentication must be used for this request"}, enable...)
	failsWith(t, a, []string{"InvalidArgument", "Mfa header is invalid"}, append(enable, "--mfa", "no-space-here")...)
	failsWith(t, a, []string{"AccessDenied"}, append(enable, "--mfa", dev.serial+" 000000")...)
	failsWith(t, ops, []string{"InvalidRequest", "DevPay and Mfa are mutually exclusive"}, append(enable, "--mfa", dev.serial+" 123456")...)
	a.run(t, append(enable, "--mfa", dev.header(t))...)
	var vc struct{ Status, MFADelete string }
	a.json(t, &vc, "s3api", "get-bucket-versioning", "--bucket", b)
	if vc.Status != "Enabled" || vc.MFADelete != "Enabled" {
		t.Fatalf("get-bucket-versioning: %+v", vc)
	}

	// Deleting a version: no code, a wrong code, a reused code all fail.
	del := []string{"s3api", "delete-object", "--bucket", b, "--key", "k", "--version-id", v1.VersionId}
	failsWith(t, a, []string{"AccessDenied", "Mfa Authentication must be used for this request"}, del...)
	failsWith(t, a, []string{"AccessDenied"}, append(del, "--mfa", dev.serial+" 000000")...)
	failsWith(t, a, []string{"AccessDenied"}, append(del, "--mfa", dev.spent())...)
	failsWith(t, ops, []string{"AccessDenied", "Mfa Authentication must be used for this request"}, del...)
	failsWith(t, a, []string{"AccessDenied", "Mfa Authentication must be used for this request"},
		"s3api", "delete-objects", "--bucket", b, "--delete", `{"Objects":[{"Key":"other"},{"Key":"k","VersionId":"`+v1.VersionId+`"}]}`)
	// Changing the versioning state needs the code too.
	failsWith(t, a, []string{"AccessDenied", "Mfa Authentication must be used for this request"},
		"s3api", "put-bucket-versioning", "--bucket", b, "--versioning-configuration", "Status=Suspended")
	// A simple delete only adds a marker: no MFA needed.
	a.run(t, "s3api", "delete-object", "--bucket", b, "--key", "k")

	var vs awsVersions
	a.json(t, &vs, "s3api", "list-object-versions", "--bucket", b)
	if len(vs.Versions) != 2 {
		t.Fatalf("versions after refused deletes: %+v", vs)
	}
	// A fresh code deletes the version.
	a.run(t, append(del, "--mfa", dev.header(t))...)
	a.json(t, &vs, "s3api", "list-object-versions", "--bucket", b)
	if len(vs.Versions) != 1 || vs.Versions[0].VersionId != v2.VersionId {
		t.Fatalf("versions after the MFA delete: %+v", vs)
	}
}

// TestObjectLockWithAWSCLI: a COMPLIANCE-retained version survives every
// removal path tried as the account root (API deletes, the governance
// bypass, retention shortening, bucket deletion, versioning suspension,
// offline fsck --repair and garbage collection); GOVERNANCE yields only to
// the bypass header together with s3:BypassGovernanceRetention; a legal
// hold blocks until lifted; and once the (test-moved) clock passes the
// retention, the version can be deleted.
func TestObjectLockWithAWSCLI(t *testing.T) {
	t.Parallel()
	srv := harness.Start(t, harness.WithTestClock(), harness.WithArgs("--gc-interval", "1s"))
	ctx := testContext(t)
	a := v2CLI(t, ctx, srv)
	dir := t.TempDir()
	body := filepath.Join(dir, "body")
	const data = "retained data\n"
	writeFiles(t, dir, map[string]string{"body": data})
	const b = "locked"
	day := time.Now().UTC().Add(24 * time.Hour).Format(time.RFC3339)

	a.run(t, "s3api", "create-bucket", "--bucket", b, "--object-lock-enabled-for-bucket")
	var vc struct{ Status string }
	a.json(t, &vc, "s3api", "get-bucket-versioning", "--bucket", b)
	if vc.Status != "Enabled" {
		t.Fatalf("versioning of a lock-enabled bucket: %+v", vc)
	}
	var lc struct {
		ObjectLockConfiguration struct{ ObjectLockEnabled string }
	}
	a.json(t, &lc, "s3api", "get-object-lock-configuration", "--bucket", b)
	if lc.ObjectLockConfiguration.ObjectLockEnabled != "Enabled" {
		t.Fatalf("get-object-lock-configuration: %+v", lc)
	}
	a.run(t, "s3api", "create-bucket", "--bucket", "plain-"+b)
	failsWith(t, a, []string{"ObjectLockConfigurationNotFoundError"}, "s3api", "get-object-lock-configuration", "--bucket", "plain-"+b)
	failsWith(t, a, []string{"InvalidRequest", "Bucket is missing Object Lock Configuration"}, "s3api", "put-object", "--bucket", "plain-"+b,
		"--key", "k", "--body", body, "--checksum-algorithm", "CRC32", "--object-lock-legal-hold-status", "ON")

	put := func(key string, extra ...string) string {
		t.Helper()
		var out struct{ VersionId string }
		a.json(t, &out, append([]string{"s3api", "put-object", "--bucket", b, "--key", key, "--body", body, "--checksum-algorithm", "CRC32"}, extra...)...)
		return out.VersionId
	}
	comp := put("c", "--object-lock-mode", "COMPLIANCE", "--object-lock-retain-until-date", day)
	gov := put("g", "--object-lock-mode", "GOVERNANCE", "--object-lock-retain-until-date", day)
	hold := put("h", "--object-lock-legal-hold-status", "ON")

	var head struct {
		ObjectLockMode, ObjectLockRetainUntilDate, ObjectLockLegalHoldStatus string
	}
	a.json(t, &head, "s3api", "head-object", "--bucket", b, "--key", "c")
	if head.ObjectLockMode != "COMPLIANCE" || head.ObjectLockRetainUntilDate == "" {
		t.Fatalf("head-object of the compliance version: %+v", head)
	}
	a.json(t, &head, "s3api", "head-object", "--bucket", b, "--key", "h")
	if head.ObjectLockLegalHoldStatus != "ON" {
		t.Fatalf("head-object of the held version: %+v", head)
	}
	var rt struct {
		Retention struct{ Mode, RetainUntilDate string }
	}
	a.json(t, &rt, "s3api", "get-object-retention", "--bucket", b, "--key", "c", "--version-id", comp)
	if rt.Retention.Mode != "COMPLIANCE" {
		t.Fatalf("get-object-retention: %+v", rt)
	}

	readBack := func(key string) {
		t.Helper()
		out := filepath.Join(dir, "out")
		a.run(t, "s3api", "get-object", "--bucket", b, "--key", key, out)
		if got, _ := os.ReadFile(out); string(got) != data {
			t.Fatalf("%s reads back %q", key, got)
		}
	}

	t.Run("compliance resists the root", func(t *testing.T) {
		denied := []string{"AccessDenied"}
		failsWith(t, a, denied, "s3api", "delete-object", "--bucket", b, "--key", "c", "--version-id", comp)
		failsWith(t, a, denied, "s3api", "delete-object", "--bucket", b, "--key", "c", "--version-id", comp, "--bypass-governance-retention")
		var dr struct{ Errors []struct{ Key, Code string } }
		a.json(t, &dr, "s3api", "delete-objects", "--bucket", b, "--bypass-governance-retention",
			"--delete", `{"Objects":[{"Key":"c","VersionId":"`+comp+`"}]}`)
		if len(dr.Errors) != 1 || dr.Errors[0].Code != "AccessDenied" {
			t.Fatalf("delete-objects: %+v", dr)
		}
		sooner := time.Now().UTC().Add(time.Hour).Format(time.RFC3339)
		failsWith(t, a, denied, "s3api", "put-object-retention", "--bucket", b, "--key", "c", "--version-id", comp,
			"--retention", "Mode=COMPLIANCE,RetainUntilDate="+sooner, "--bypass-governance-retention")
		failsWith(t, a, denied, "s3api", "put-object-retention", "--bucket", b, "--key", "c", "--version-id", comp,
			"--retention", "Mode=GOVERNANCE,RetainUntilDate="+day, "--bypass-governance-retention")
		failsWith(t, a, []string{"BucketNotEmpty"}, "s3api", "delete-bucket", "--bucket", b)
		failsWith(t, a, []string{"InvalidBucketState"}, "s3api", "put-bucket-versioning", "--bucket", b, "--versioning-configuration", "Status=Suspended")
		// Extending is allowed, to anyone with s3:PutObjectRetention.
		twoDays := time.Now().UTC().Add(48 * time.Hour).Format(time.RFC3339)
		a.run(t, "s3api", "put-object-retention", "--bucket", b, "--key", "c", "--version-id", comp,
			"--retention", "Mode=COMPLIANCE,RetainUntilDate="+twoDays)
		readBack("c")
	})

	t.Run("offline fsck and garbage collection", func(t *testing.T) {
		// The collector runs every second; give it a few rounds.
		time.Sleep(3 * time.Second)
		srv.Stop()
		out, err := srv.RunErr(ctx, harness.TestBinary(t), "fsck", "--data", srv.Dir, "--repair")
		if err != nil {
			t.Fatalf("fsck --repair: %v\n%s", err, out)
		}
		mustContain(t, "fsck", out, "versions with missing data: 0")
		srv.Restart()
		a = v2CLI(t, ctx, srv) // the restarted server listens on a new port
		readBack("c")
	})

	t.Run("governance yields only to an authorized bypass", func(t *testing.T) {
		var key struct {
			AccessKey struct{ AccessKeyId, SecretAccessKey string }
		}
		a.run(t, "iam", "create-user", "--user-name", "editor")
		a.run(t, "iam", "put-user-policy", "--user-name", "editor", "--policy-name", "s3", "--policy-document",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
			 {"Effect":"Deny","Action":"s3:BypassGovernanceRetention","Resource":"*"}]}`)
		a.json(t, &key, "iam", "create-access-key", "--user-name", "editor")
		editor := withKey(a, srv, key.AccessKey.AccessKeyId, key.AccessKey.SecretAccessKey)
		failsWith(t, a, []string{"AccessDenied"}, "s3api", "delete-object", "--bucket", b, "--key", "g", "--version-id", gov)
		failsWith(t, editor, []string{"AccessDenied"}, "s3api", "delete-object", "--bucket", b, "--key", "g", "--version-id", gov,
			"--bypass-governance-retention")
		var dr struct{ Errors []struct{ Code string } }
		editor.json(t, &dr, "s3api", "delete-objects", "--bucket", b, "--bypass-governance-retention",
			"--delete", `{"Objects":[{"Key":"g","VersionId":"`+gov+`"}]}`)
		if len(dr.Errors) != 1 || dr.Errors[0].Code != "AccessDenied" {
			t.Fatalf("delete-objects without the bypass permission: %+v", dr)
		}
		readBack("g")
		a.run(t, "s3api", "delete-object", "--bucket", b, "--key", "g", "--version-id", gov, "--bypass-governance-retention")
	})

	t.Run("legal hold blocks until lifted", func(t *testing.T) {
		failsWith(t, a, []string{"AccessDenied"}, "s3api", "delete-object", "--bucket", b, "--key", "h", "--version-id", hold,
			"--bypass-governance-retention")
		var lh struct{ LegalHold struct{ Status string } }
		a.json(t, &lh, "s3api", "get-object-legal-hold", "--bucket", b, "--key", "h")
		if lh.LegalHold.Status != "ON" {
			t.Fatalf("get-object-legal-hold: %+v", lh)
		}
		a.run(t, "s3api", "put-object-legal-hold", "--bucket", b, "--key", "h", "--version-id", hold, "--legal-hold", "Status=OFF")
		a.run(t, "s3api", "delete-object", "--bucket", b, "--key", "h", "--version-id", hold)
	})

	t.Run("default retention", func(t *testing.T) {
		a.run(t, "s3api", "put-object-lock-configuration", "--bucket", b, "--object-lock-configuration",
			`{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"GOVERNANCE","Days":1}}}`)
		d := put("d")
		a.json(t, &head, "s3api", "head-object", "--bucket", b, "--key", "d")
		if head.ObjectLockMode != "GOVERNANCE" {
			t.Fatalf("default retention not applied: %+v", head)
		}
		failsWith(t, a, []string{"AccessDenied"}, "s3api", "delete-object", "--bucket", b, "--key", "d", "--version-id", d)
		// A simple delete only adds an unprotected marker.
		a.run(t, "s3api", "delete-object", "--bucket", b, "--key", "d")
	})

	t.Run("retention runs out", func(t *testing.T) {
		srv.AdvanceClock(72 * time.Hour)
		a.run(t, "s3api", "delete-object", "--bucket", b, "--key", "c", "--version-id", comp)
		failsWith(t, a, []string{"NoSuchVersion"}, "s3api", "get-object-retention", "--bucket", b, "--key", "c", "--version-id", comp)
	})
}

// TestNormalBuildCannotMoveTheClock: the clock control exists only in
// coffertest builds.
func TestNormalBuildCannotMoveTheClock(t *testing.T) {
	t.Parallel()
	srv := harness.Start(t)
	resp, err := srv.HTTPClient().Post(srv.Endpoint+"/_coffer/test/clock?advance=1000h", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("POST /_coffer/test/clock on a normal build: %s", resp.Status)
	}
}

// TestLifecycleWithAWSCLI: a lifecycle configuration put with the aws CLI
// expires current and noncurrent versions once the (test-moved) clock
// passes their days, and leaves a version Object Lock retains.
func TestLifecycleWithAWSCLI(t *testing.T) {
	t.Parallel()
	srv := harness.Start(t, harness.WithTestClock(), harness.WithArgs("--lifecycle-interval", "1s"))
	ctx := testContext(t)
	a := v2CLI(t, ctx, srv)
	dir := t.TempDir()
	body := filepath.Join(dir, "body")
	writeFiles(t, dir, map[string]string{"body": "short-lived\n"})
	const b = "lifecycle"
	a.run(t, "s3api", "create-bucket", "--bucket", b, "--object-lock-enabled-for-bucket")
	failsWith(t, a, []string{"NoSuchLifecycleConfiguration"}, "s3api", "get-bucket-lifecycle-configuration", "--bucket", b)
	failsWith(t, a, []string{"NotImplemented"}, "s3api", "put-bucket-lifecycle-configuration", "--bucket", b, "--lifecycle-configuration",
		`{"Rules":[{"Status":"Enabled","Filter":{},"Transitions":[{"Days":30,"StorageClass":"GLACIER"}]}]}`)
	a.run(t, "s3api", "put-bucket-lifecycle-configuration", "--bucket", b, "--lifecycle-configuration",
		`{"Rules":[{"ID":"tmp","Status":"Enabled","Filter":{"Prefix":"tmp/"},"Expiration":{"Days":1},"NoncurrentVersionExpiration":{"NoncurrentDays":1}}]}`)
	var got struct {
		Rules []struct {
			ID, Status string
			Expiration struct{ Days int }
		}
	}
	a.json(t, &got, "s3api", "get-bucket-lifecycle-configuration", "--bucket", b)
	if len(got.Rules) != 1 || got.Rules[0].ID != "tmp" || got.Rules[0].Expiration.Days != 1 {
		t.Fatalf("get-bucket-lifecycle-configuration: %+v", got)
	}
	put := func(key string, extra ...string) string {
		t.Helper()
		var out struct{ VersionId string }
		a.json(t, &out, append([]string{"s3api", "put-object", "--bucket", b, "--key", key, "--body", body, "--checksum-algorithm", "CRC32"}, extra...)...)
		return out.VersionId
	}
	old := put("tmp/a")
	current := put("tmp/a")
	locked := put("tmp/kept", "--object-lock-mode", "COMPLIANCE", "--object-lock-retain-until-date",
		time.Now().UTC().Add(30*24*time.Hour).Format(time.RFC3339))
	put("keep/b")

	srv.AdvanceClock(72 * time.Hour)
	var vs awsVersions
	deadline := time.Now().Add(30 * time.Second)
	for {
		a.json(t, &vs, "s3api", "list-object-versions", "--bucket", b)
		ids := map[string]bool{}
		for _, v := range vs.Versions {
			ids[v.VersionId] = true
		}
		// A pass expires tmp/a (a delete marker makes current
		// noncurrent) and removes old, noncurrent for three days.
		if len(vs.DeleteMarkers) > 0 && !ids[old] && ids[locked] {
			if !ids[current] {
				t.Fatalf("the version noncurrent only since the clock moved was removed: %+v", vs)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lifecycle did not act: %+v", vs)
		}
		time.Sleep(time.Second)
	}
	var marker bool
	for _, m := range vs.DeleteMarkers {
		marker = marker || m.Key == "tmp/a"
	}
	if !marker {
		t.Fatalf("tmp/a got no delete marker: %+v", vs)
	}
	for _, v := range vs.Versions {
		if v.Key == "keep/b" || v.VersionId == locked {
			continue
		}
		if v.VersionId == old {
			t.Fatalf("the old noncurrent version survived: %+v", vs)
		}
	}
	// The retained version is still there and readable; deleting the
	// configuration leaves nothing behind.
	a.run(t, "s3api", "get-object", "--bucket", b, "--key", "tmp/kept", "--version-id", locked, filepath.Join(dir, "out"))
	a.run(t, "s3api", "delete-bucket-lifecycle", "--bucket", b)
	failsWith(t, a, []string{"NoSuchLifecycleConfiguration"}, "s3api", "get-bucket-lifecycle-configuration", "--bucket", b)
}
