package clients

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coffer-io/coffer/test/harness"
)

// lifecycleRecord is the part of an audit event lifecycle tests check.
type lifecycleRecord struct {
	Op, Bucket, Key, Version, Upload, Rule, Outcome string
}

func (r lifecycleRecord) String() string {
	return fmt.Sprintf("%s %s/%s@%s upload=%s rule=%s %s", r.Op, r.Bucket, r.Key, r.Version, r.Upload, r.Rule, r.Outcome)
}

// lifecycleRecords reads the lifecycle worker's events from the data
// directory's audit log.
func lifecycleRecords(t *testing.T, dir string) []lifecycleRecord {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "audit", "audit.log"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []lifecycleRecord
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		if m["invokedBy"] != "lifecycle.s3.amazonaws.com" {
			continue
		}
		str := func(k string) string { s, _ := m[k].(string); return s }
		if str("principalType") != "AWSService" || str("accountId") == "" || str("requestId") == "" {
			t.Errorf("lifecycle audit event without its principal: %s", sc.Text())
		}
		out = append(out, lifecycleRecord{str("operation"), str("bucket"), str("key"), str("versionId"), str("uploadId"), str("ruleId"), str("outcome")})
	}
	return out
}

// TestLifecycleRulesWithAWSCLI: rules put with the aws CLI v2 act once the
// (test-moved) data-protection clock passes their days, on a server whose
// lifecycle days are one second long and whose worker runs every second.
// Prefix, tag and size filters expire current versions (delete markers in
// a versioned bucket, removal in an unversioned one); noncurrent versions
// go except the newest NewerNoncurrentVersions; a lone delete marker is
// removed; a stale multipart upload is aborted; a COMPLIANCE-retained and
// a legally held version are kept; and the audit log has a record per
// action, naming the rule.
func TestLifecycleRulesWithAWSCLI(t *testing.T) {
	t.Parallel()
	srv := harness.Start(t, harness.WithTestClock(),
		harness.WithArgs("--lifecycle-interval", "1s", "--lifecycle-day", "1s", "--lifecycle-rate", "50"))
	ctx := testContext(t)
	a := v2CLI(t, ctx, srv)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"small": "tiny\n", "big": strings.Repeat("lifecycle ", 30)})
	small, big := filepath.Join(dir, "small"), filepath.Join(dir, "big")
	const b, plain = "lc-rules", "lc-plain"
	a.run(t, "s3api", "create-bucket", "--bucket", b, "--object-lock-enabled-for-bucket")
	a.run(t, "s3api", "create-bucket", "--bucket", plain)

	// AWS's validation, through the CLI.
	for _, tc := range []struct{ doc, code string }{
		{`{"Rules":[{"Status":"Enabled","Filter":{"Tag":{"Key":"k","Value":"v"}},"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":1}}]}`, "InvalidRequest"},
		{`{"Rules":[{"Status":"Enabled","Filter":{"ObjectSizeGreaterThan":10},"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":1}}]}`, "InvalidRequest"},
		{`{"Rules":[{"Status":"Enabled","Filter":{},"Expiration":{"Days":1,"ExpiredObjectDeleteMarker":true}}]}`, "MalformedXML"},
		{`{"Rules":[{"Status":"Enabled","Filter":{},"NoncurrentVersionExpiration":{"NoncurrentDays":1,"NewerNoncurrentVersions":0}}]}`, "InvalidArgument"},
		{`{"Rules":[{"Status":"Enabled","Filter":{"And":{"ObjectSizeGreaterThan":100,"ObjectSizeLessThan":50}},"Expiration":{"Days":1}}]}`, "InvalidRequest"},
		{`{"Rules":[{"ID":"x","Status":"Enabled","Filter":{},"Expiration":{"Days":1}},{"ID":"x","Status":"Enabled","Filter":{},"Expiration":{"Days":2}}]}`, "InvalidArgument"},
		{`{"Rules":[{"Status":"Enabled","Filter":{},"Expiration":{"Days":0}}]}`, "InvalidArgument"},
		{`{"Rules":[{"Status":"Enabled","Filter":{},"NoncurrentVersionTransitions":[{"NoncurrentDays":30,"StorageClass":"GLACIER"}]}]}`, "NotImplemented"},
	} {
		failsWith(t, a, []string{tc.code}, "s3api", "put-bucket-lifecycle-configuration", "--bucket", b, "--lifecycle-configuration", tc.doc)
	}

	// Days are seconds here: 600 "days" are ten minutes of the data clock,
	// far more than the test needs before it moves the clock.
	a.run(t, "s3api", "put-bucket-lifecycle-configuration", "--bucket", b, "--lifecycle-configuration", `{"Rules":[
		{"ID":"prefix","Status":"Enabled","Filter":{"Prefix":"tmp/"},"Expiration":{"Days":600},"NoncurrentVersionExpiration":{"NoncurrentDays":600}},
		{"ID":"tag","Status":"Enabled","Filter":{"Tag":{"Key":"class","Value":"scratch"}},"Expiration":{"Days":600}},
		{"ID":"size","Status":"Enabled","Filter":{"And":{"Prefix":"size/","ObjectSizeGreaterThan":100}},"Expiration":{"Days":600}},
		{"ID":"noncurrent","Status":"Enabled","Filter":{"Prefix":"nc/"},"NoncurrentVersionExpiration":{"NoncurrentDays":600,"NewerNoncurrentVersions":2}},
		{"ID":"markers","Status":"Enabled","Filter":{"Prefix":"dm/"},"Expiration":{"ExpiredObjectDeleteMarker":true}},
		{"ID":"uploads","Status":"Enabled","Filter":{"Prefix":"mpu/"},"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":600}},
		{"ID":"locked","Status":"Enabled","Filter":{"Prefix":"lock/"},"NoncurrentVersionExpiration":{"NoncurrentDays":600}},
		{"ID":"off","Status":"Disabled","Filter":{"Prefix":"keep/"},"Expiration":{"Days":1}}]}`)
	a.run(t, "s3api", "put-bucket-lifecycle-configuration", "--bucket", plain, "--lifecycle-configuration",
		`{"Rules":[{"ID":"all","Status":"Enabled","Filter":{"Prefix":"old/"},"Expiration":{"Days":600}}]}`)
	var cfg struct{ Rules []struct{ ID, Status string } }
	a.json(t, &cfg, "s3api", "get-bucket-lifecycle-configuration", "--bucket", b)
	if len(cfg.Rules) != 8 || cfg.Rules[0].ID != "prefix" || cfg.Rules[7].Status != "Disabled" {
		t.Fatalf("get-bucket-lifecycle-configuration: %+v", cfg)
	}

	put := func(bucket, key, body string, extra ...string) string {
		t.Helper()
		var out struct{ VersionId string }
		a.json(t, &out, append([]string{"s3api", "put-object", "--bucket", bucket, "--key", key, "--body", body, "--checksum-algorithm", "CRC32"}, extra...)...)
		return out.VersionId
	}
	tmpOld := put(b, "tmp/a", small)
	tmpCur := put(b, "tmp/a", small)
	put(b, "tag/x", small, "--tagging", "class=scratch")
	put(b, "tag/y", small, "--tagging", "class=keep")
	put(b, "size/big", big)
	put(b, "size/small", small)
	nc := []string{put(b, "nc/k", small), put(b, "nc/k", small), put(b, "nc/k", small), put(b, "nc/k", small)}
	gone := put(b, "dm/gone", small)
	a.run(t, "s3api", "delete-object", "--bucket", b, "--key", "dm/gone")
	a.run(t, "s3api", "delete-object", "--bucket", b, "--key", "dm/gone", "--version-id", gone)
	put(b, "dm/kept", small)
	a.run(t, "s3api", "delete-object", "--bucket", b, "--key", "dm/kept")
	compliance := put(b, "lock/compliance", small, "--object-lock-mode", "COMPLIANCE",
		"--object-lock-retain-until-date", time.Now().UTC().Add(30*24*time.Hour).Format(time.RFC3339))
	put(b, "lock/compliance", small)
	held := put(b, "lock/hold", small, "--object-lock-legal-hold-status", "ON")
	put(b, "lock/hold", small)
	put(b, "keep/off", small)
	var up struct{ UploadId string }
	a.json(t, &up, "s3api", "create-multipart-upload", "--bucket", b, "--key", "mpu/stale")
	a.run(t, "s3api", "create-multipart-upload", "--bucket", b, "--key", "keep/upload")
	put(plain, "old/x", small)
	put(plain, "new/y", small)

	// Nothing with days is due yet: a few passes go by without acting
	// but on the lone delete marker, which goes as soon as it is alone.
	time.Sleep(2500 * time.Millisecond)
	for _, r := range lifecycleRecords(t, srv.Dir) {
		if r.Key != "dm/gone" {
			t.Fatalf("lifecycle acted before anything was due: %v", r)
		}
	}

	srv.AdvanceClock(time.Hour)
	want := []lifecycleRecord{
		{"S3.CREATE.DELETEMARKER", b, "tmp/a", "*", "", "prefix", "success"},
		{"S3.EXPIRE.OBJECT", b, "tmp/a", tmpOld, "", "prefix", "success"},
		{"S3.CREATE.DELETEMARKER", b, "tag/x", "*", "", "tag", "success"},
		{"S3.CREATE.DELETEMARKER", b, "size/big", "*", "", "size", "success"},
		{"S3.EXPIRE.OBJECT", b, "nc/k", nc[0], "", "noncurrent", "success"},
		{"S3.EXPIRE.OBJECT", b, "dm/gone", "*", "", "markers", "success"},
		{"S3.DELETE.UPLOAD", b, "mpu/stale", "", up.UploadId, "uploads", "success"},
		{"S3.EXPIRE.OBJECT", b, "lock/compliance", compliance, "", "locked", "denied"},
		{"S3.EXPIRE.OBJECT", b, "lock/hold", held, "", "locked", "denied"},
		{"S3.EXPIRE.OBJECT", plain, "old/x", "*", "", "all", "success"},
	}
	normalize := func(recs []lifecycleRecord) []string {
		var out []string
		for _, r := range recs {
			for _, w := range want {
				if w.Version == "*" && w.Op == r.Op && w.Key == r.Key {
					r.Version = "*" // a marker's or the null version's id
				}
			}
			out = append(out, r.String())
		}
		sort.Strings(out)
		return out
	}
	wantS := normalize(want)
	var got []string
	deadline := time.Now().Add(60 * time.Second)
	for {
		got = normalize(lifecycleRecords(t, srv.Dir))
		if slices.Equal(got, wantS) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("audit records of lifecycle:\n got %s\nwant %s\nlogs:\n%s", strings.Join(got, "\n     "), strings.Join(wantS, "\n     "), srv.Logs())
		}
		time.Sleep(500 * time.Millisecond)
	}

	// The buckets are in the state the records describe.
	var vs awsVersions
	a.json(t, &vs, "s3api", "list-object-versions", "--bucket", b)
	versions := map[string][]string{}
	latestMarker := map[string]bool{}
	for _, v := range vs.Versions {
		versions[v.Key] = append(versions[v.Key], v.VersionId)
	}
	for _, m := range vs.DeleteMarkers {
		if m.IsLatest {
			latestMarker[m.Key] = true
		}
	}
	for key, n := range map[string]int{"tmp/a": 1, "tag/x": 1, "tag/y": 1, "size/big": 1, "size/small": 1, "nc/k": 3, "dm/gone": 0, "dm/kept": 1, "lock/compliance": 2, "lock/hold": 2, "keep/off": 1} {
		if len(versions[key]) != n {
			t.Errorf("%s has versions %v, want %d", key, versions[key], n)
		}
	}
	for key, marked := range map[string]bool{"tmp/a": true, "tag/x": true, "size/big": true, "dm/kept": true, "tag/y": false, "size/small": false, "nc/k": false, "keep/off": false, "dm/gone": false} {
		if latestMarker[key] != marked {
			t.Errorf("%s: latest is a delete marker = %v, want %v", key, latestMarker[key], marked)
		}
	}
	if !slices.Contains(versions["tmp/a"], tmpCur) || !slices.Contains(versions["lock/compliance"], compliance) || !slices.Contains(versions["lock/hold"], held) || slices.Contains(versions["nc/k"], nc[0]) {
		t.Errorf("versions after lifecycle: %v", versions)
	}
	var uploads struct {
		Uploads []struct{ Key, UploadId string }
	}
	a.json(t, &uploads, "s3api", "list-multipart-uploads", "--bucket", b)
	if len(uploads.Uploads) != 1 || uploads.Uploads[0].Key != "keep/upload" {
		t.Errorf("uploads after lifecycle: %+v", uploads)
	}
	var objs struct{ Contents []struct{ Key string } }
	a.json(t, &objs, "s3api", "list-objects-v2", "--bucket", plain)
	if len(objs.Contents) != 1 || objs.Contents[0].Key != "new/y" {
		t.Errorf("%s after lifecycle: %+v", plain, objs)
	}
	// The kept versions still read, and later passes leave no new records
	// (a refusal is recorded once).
	a.run(t, "s3api", "get-object", "--bucket", b, "--key", "lock/hold", "--version-id", held, filepath.Join(dir, "out"))
	time.Sleep(2500 * time.Millisecond)
	if again := normalize(lifecycleRecords(t, srv.Dir)); !slices.Equal(again, wantS) {
		t.Errorf("later passes added records:\n%s", strings.Join(again, "\n"))
	}
}

// TestLifecycleWithBoto3 runs testdata/boto3_lifecycle.py: validation
// answers, the minimum-object-size setting and generated rule IDs, then,
// once the clock has moved, a tag filter's expiry in an unversioned
// bucket, an aborted upload and NewerNoncurrentVersions, each with its
// audit record.
func TestLifecycleWithBoto3(t *testing.T) {
	t.Parallel()
	python, script := boto3Script(t, "boto3_lifecycle.py")
	srv := harness.Start(t, harness.WithTestClock(), harness.WithArgs("--lifecycle-interval", "1s", "--lifecycle-day", "1s"))
	r := runner{ctx: testContext(t), env: srv.Env(), bin: python}
	state := filepath.Join(t.TempDir(), "state.json")
	phase := func(name string) {
		t.Helper()
		out, err := r.runErr(t, script, "--endpoint", srv.Endpoint, "--ca", srv.CAFile, "--phase", name, "--state", state)
		t.Logf("boto3_lifecycle.py %s:\n%s", name, out)
		if err != nil || !strings.Contains(out, "ALL OK\n") {
			t.Fatalf("boto3_lifecycle.py %s: %v", name, err)
		}
	}
	phase("setup")
	raw, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Rule, Upload string
		Versions     []string
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	srv.AdvanceClock(time.Hour)
	want := []string{
		lifecycleRecord{"S3.DELETE.UPLOAD", "boto-lc-plain", "parts", "", st.Upload, "uploads", "success"}.String(),
		lifecycleRecord{"S3.EXPIRE.OBJECT", "boto-lc-plain", "short", "", "", st.Rule, "success"}.String(),
		lifecycleRecord{"S3.EXPIRE.OBJECT", "boto-lc-vers", "doc", st.Versions[0], "", "keep-one", "success"}.String(),
	}
	sort.Strings(want)
	deadline := time.Now().Add(60 * time.Second)
	for {
		var got []string
		for _, rec := range lifecycleRecords(t, srv.Dir) {
			if rec.Key == "short" {
				rec.Version = "" // "null" or none
			}
			got = append(got, rec.String())
		}
		sort.Strings(got)
		if slices.Equal(got, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("audit records of lifecycle:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
		}
		time.Sleep(500 * time.Millisecond)
	}
	phase("check")
}
