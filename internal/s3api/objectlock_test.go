package s3api

import (
	"context"
	"encoding/xml"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/clock"
)

// fakeMFA accepts each code of validCodes once, for account 111111111111.
type fakeMFA struct {
	mu   sync.Mutex
	used map[string]bool
}

const testSerial = "arn:aws:iam::111111111111:mfa/root-device"

func (f *fakeMFA) VerifyRootMFA(_ context.Context, account, serial, code string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if account != "111111111111" || serial != testSerial || !strings.HasPrefix(code, "1") || f.used[code] {
		return false, nil
	}
	if f.used == nil {
		f.used = map[string]bool{}
	}
	f.used[code] = true
	return true, nil
}

func lockEnv(t *testing.T) (*testEnv, *clock.Offset) {
	clk := &clock.Offset{}
	e := newTestEnvClock(t, nil, clk)
	e.h.cfg.MFA = &fakeMFA{}
	if w := e.do("alice", "PUT", "/locked", nil, map[string]string{"X-Amz-Bucket-Object-Lock-Enabled": "true"}); w.Code != 200 {
		t.Fatalf("create lock bucket: %d %s", w.Code, w.Body)
	}
	return e, clk
}

// wantError checks a response's status, code and (if given) message.
func wantError(t *testing.T, name string, w interface {
	Result() *http.Response
}, status int, code, msg string) {
	t.Helper()
	resp := w.Result()
	var e struct{ Code, Message string }
	_ = xml.NewDecoder(resp.Body).Decode(&e)
	if resp.StatusCode != status || e.Code != code || (msg != "" && e.Message != msg) {
		t.Errorf("%s: %d %s %q, want %d %s %q", name, resp.StatusCode, e.Code, e.Message, status, code, msg)
	}
}

func TestObjectLockConfigurationValidation(t *testing.T) {
	e, _ := lockEnv(t)
	e.do("alice", "PUT", "/plain", nil, nil)
	doc := func(rule string) string {
		return `<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectLockEnabled>Enabled</ObjectLockEnabled>` + rule + `</ObjectLockConfiguration>`
	}
	tests := []struct {
		name, bucket, body string
		noMD5              bool
		status             int
		code, msg          string
	}{
		{"days and years", "locked", doc(`<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years></DefaultRetention></Rule>`), false, 400, "MalformedXML", ""},
		{"neither", "locked", doc(`<Rule><DefaultRetention><Mode>GOVERNANCE</Mode></DefaultRetention></Rule>`), false, 400, "MalformedXML", ""},
		{"zero days", "locked", doc(`<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>0</Days></DefaultRetention></Rule>`), false, 400, "InvalidRetentionPeriod", ""},
		{"too many years", "locked", doc(`<Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Years>101</Years></DefaultRetention></Rule>`), false, 400, "InvalidArgument", ""},
		{"bad mode", "locked", doc(`<Rule><DefaultRetention><Mode>STRICT</Mode><Days>1</Days></DefaultRetention></Rule>`), false, 400, "MalformedXML", ""},
		{"not enabled", "locked", `<ObjectLockConfiguration><ObjectLockEnabled>Disabled</ObjectLockEnabled></ObjectLockConfiguration>`, false, 400, "MalformedXML", ""},
		{"no digest", "locked", doc(""), true, 400, "InvalidRequest", "Missing required header for this request: Content-Md5 OR x-amz-checksum-*"},
		{"unversioned bucket", "plain", doc(""), false, 409, "InvalidBucketState", "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration"},
	}
	for _, tc := range tests {
		hdr := map[string]string{"Content-MD5": md5b64(tc.body)}
		if tc.noMD5 {
			hdr = nil
		}
		wantError(t, tc.name, e.do("alice", "PUT", "/"+tc.bucket+"?object-lock", []byte(tc.body), hdr), tc.status, tc.code, tc.msg)
	}
	wantError(t, "get on plain bucket", e.do("alice", "GET", "/plain?object-lock", nil, nil), 404, "ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket")

	good := doc(`<Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Years>2</Years></DefaultRetention></Rule>`)
	if w := e.do("alice", "PUT", "/locked?object-lock", []byte(good), map[string]string{"Content-MD5": md5b64(good)}); w.Code != 200 {
		t.Fatalf("put config: %d %s", w.Code, w.Body)
	}
	w := e.do("alice", "GET", "/locked?object-lock", nil, nil)
	want := `<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Years>2</Years></DefaultRetention></Rule></ObjectLockConfiguration>`
	if !strings.Contains(w.Body.String(), want) {
		t.Fatalf("get config:\n%s\nwant %s", w.Body, want)
	}
	// Versioning cannot be suspended any more.
	susp := `<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>`
	wantError(t, "suspend", e.do("alice", "PUT", "/locked?versioning", []byte(susp), nil), 409, "InvalidBucketState",
		"A WORM configuration is present on this bucket, so the versioning state cannot be changed.")
}

func TestObjectLockWriteHeaders(t *testing.T) {
	e, clk := lockEnv(t)
	e.do("alice", "PUT", "/plain", nil, nil)
	body := "data"
	future := time.Now().UTC().Add(time.Hour).Format(time.RFC3339)
	past := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	md5 := md5b64(body)
	tests := []struct {
		name, bucket string
		hdr          map[string]string
		code, msg    string
	}{
		{"mode only", "locked", map[string]string{"Content-MD5": md5, "X-Amz-Object-Lock-Mode": "GOVERNANCE"},
			"InvalidArgument", "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied"},
		{"bad mode", "locked", map[string]string{"Content-MD5": md5, "X-Amz-Object-Lock-Mode": "governance", "X-Amz-Object-Lock-Retain-Until-Date": future},
			"InvalidArgument", "Unknown wormMode directive."},
		{"bad date", "locked", map[string]string{"Content-MD5": md5, "X-Amz-Object-Lock-Mode": "GOVERNANCE", "X-Amz-Object-Lock-Retain-Until-Date": "tomorrow"},
			"InvalidArgument", "The retain until date must be provided in ISO 8601 format"},
		{"past date", "locked", map[string]string{"Content-MD5": md5, "X-Amz-Object-Lock-Mode": "GOVERNANCE", "X-Amz-Object-Lock-Retain-Until-Date": past},
			"InvalidArgument", "The retain until date must be in the future!"},
		{"bad hold", "locked", map[string]string{"Content-MD5": md5, "X-Amz-Object-Lock-Legal-Hold": "on"},
			"InvalidArgument", "Legal Hold must be either of 'ON' or 'OFF'"},
		{"no digest", "locked", map[string]string{"X-Amz-Object-Lock-Legal-Hold": "ON"},
			"InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters"},
		{"algorithm is no digest", "locked", map[string]string{"X-Amz-Sdk-Checksum-Algorithm": "CRC32", "X-Amz-Object-Lock-Legal-Hold": "ON"},
			"InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters"},
		{"bucket without lock", "plain", map[string]string{"Content-MD5": md5, "X-Amz-Object-Lock-Legal-Hold": "ON"},
			"InvalidRequest", "Bucket is missing Object Lock Configuration"},
	}
	for _, tc := range tests {
		wantError(t, tc.name, e.do("alice", "PUT", "/"+tc.bucket+"/k", []byte(body), tc.hdr), 400, tc.code, tc.msg)
	}
	w := e.do("alice", "PUT", "/locked/k", []byte(body), map[string]string{"Content-MD5": md5,
		"X-Amz-Object-Lock-Mode": "COMPLIANCE", "X-Amz-Object-Lock-Retain-Until-Date": future, "X-Amz-Object-Lock-Legal-Hold": "ON"})
	if w.Code != 200 {
		t.Fatalf("locked put: %d %s", w.Code, w.Body)
	}
	vid := w.Header().Get("X-Amz-Version-Id")
	w = e.do("alice", "HEAD", "/locked/k", nil, nil)
	if w.Header().Get("X-Amz-Object-Lock-Mode") != "COMPLIANCE" || w.Header().Get("X-Amz-Object-Lock-Legal-Hold") != "ON" ||
		!strings.HasPrefix(w.Header().Get("X-Amz-Object-Lock-Retain-Until-Date"), future[:19]) {
		t.Fatalf("head lock headers: %v", w.Header())
	}
	// Not removable; the data clock moving past the date does not lift
	// the legal hold, lifting it then does.
	wantError(t, "delete held", e.do("alice", "DELETE", "/locked/k?versionId="+vid, nil, nil), 403, "AccessDenied", "Access Denied")
	clk.Advance(2 * time.Hour)
	wantError(t, "delete held after expiry", e.do("alice", "DELETE", "/locked/k?versionId="+vid, nil, nil), 403, "AccessDenied", "")
	off := `<LegalHold><Status>OFF</Status></LegalHold>`
	if w := e.do("alice", "PUT", "/locked/k?legal-hold&versionId="+vid, []byte(off), map[string]string{"Content-MD5": md5b64(off)}); w.Code != 200 {
		t.Fatalf("lift hold: %d %s", w.Code, w.Body)
	}
	if w := e.do("alice", "DELETE", "/locked/k?versionId="+vid, nil, nil); w.Code != 204 {
		t.Fatalf("delete after expiry: %d %s", w.Code, w.Body)
	}
	// A version without retention has no retention to get.
	e.do("alice", "PUT", "/locked/plain", []byte(body), nil)
	wantError(t, "get absent retention", e.do("alice", "GET", "/locked/plain?retention", nil, nil), 404, "NoSuchObjectLockConfiguration", "")
	wantError(t, "retention on plain bucket", e.do("alice", "GET", "/plain/k?retention", nil, nil), 400, "InvalidRequest", "Bucket is missing Object Lock Configuration")
}

func TestMFADelete(t *testing.T) {
	e, _ := lockEnv(t)
	e.do("alice", "PUT", "/mfa", nil, nil)
	enable := `<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>`
	mfa := func(code string) map[string]string { return map[string]string{"X-Amz-Mfa": testSerial + " " + code} }
	wantError(t, "no header", e.do("alice", "PUT", "/mfa?versioning", []byte(enable), nil), 403, "AccessDenied", "Mfa Authentication must be used for this request")
	wantError(t, "malformed", e.do("alice", "PUT", "/mfa?versioning", []byte(enable), map[string]string{"X-Amz-Mfa": "nospace"}), 400, "InvalidArgument",
		"Mfa header is invalid -- the header should be formatted as {serialNumber}(space){tokenCode}")
	wantError(t, "wrong code", e.do("alice", "PUT", "/mfa?versioning", []byte(enable), mfa("999999")), 403, "AccessDenied", "Access Denied")
	wantError(t, "other account", e.do("bob", "PUT", "/mfa?versioning", []byte(enable), mfa("100001")), 403, "AccessDenied", "")
	if w := e.do("alice", "PUT", "/mfa?versioning", []byte(enable), mfa("100002")); w.Code != 200 {
		t.Fatalf("enable: %d %s", w.Code, w.Body)
	}
	w := e.do("alice", "GET", "/mfa?versioning", nil, nil)
	if !strings.Contains(w.Body.String(), "<MfaDelete>Enabled</MfaDelete>") {
		t.Fatalf("get versioning: %s", w.Body)
	}
	w = e.do("alice", "PUT", "/mfa/k", []byte("x"), nil)
	vid := w.Header().Get("X-Amz-Version-Id")
	wantError(t, "delete without", e.do("alice", "DELETE", "/mfa/k?versionId="+vid, nil, nil), 403, "AccessDenied", "Mfa Authentication must be used for this request")
	wantError(t, "delete reused", e.do("alice", "DELETE", "/mfa/k?versionId="+vid, nil, mfa("100002")), 403, "AccessDenied", "Access Denied")
	batch := `<Delete><Object><Key>other</Key></Object><Object><Key>k</Key><VersionId>` + vid + `</VersionId></Object></Delete>`
	wantError(t, "batch without", e.do("alice", "POST", "/mfa?delete", []byte(batch), map[string]string{"Content-MD5": md5b64(batch)}), 403, "AccessDenied",
		"Mfa Authentication must be used for this request")
	plainBatch := `<Delete><Object><Key>other</Key></Object></Delete>`
	bad := mfa("999999")
	bad["Content-MD5"] = md5b64(plainBatch)
	wantError(t, "batch with invalid code", e.do("alice", "POST", "/mfa?delete", []byte(plainBatch), bad), 403, "AccessDenied", "")
	if w := e.do("alice", "DELETE", "/mfa/k", nil, nil); w.Code != 204 {
		t.Fatalf("simple delete needs no MFA: %d %s", w.Code, w.Body)
	}
	if w := e.do("alice", "DELETE", "/mfa/k?versionId="+vid, nil, mfa("100003")); w.Code != 204 {
		t.Fatalf("delete with a fresh code: %d %s", w.Code, w.Body)
	}
	susp := `<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>`
	wantError(t, "suspend without", e.do("alice", "PUT", "/mfa?versioning", []byte(susp), nil), 403, "AccessDenied", "Mfa Authentication must be used for this request")
	if w := e.do("alice", "PUT", "/mfa?versioning", []byte(susp), mfa("100004")); w.Code != 200 {
		t.Fatalf("suspend with code: %d %s", w.Code, w.Body)
	}
}

func TestObjectLockConditionKeys(t *testing.T) {
	e, _ := lockEnv(t)
	rec := &recordingAuthorizer{}
	e.h.cfg.Authorizer = rec
	e.do("alice", "PUT", "/locked/k", []byte("x"), nil)
	until := time.Now().UTC().Add(10*24*time.Hour + time.Hour).Format(time.RFC3339)
	doc := `<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>` + until + `</RetainUntilDate></Retention>`
	if w := e.do("alice", "PUT", "/locked/k?retention", []byte(doc), map[string]string{"Content-MD5": md5b64(doc)}); w.Code != 200 {
		t.Fatalf("put retention: %d %s", w.Code, w.Body)
	}
	var got *map[string][]string
	for _, r := range rec.reqs {
		if len(r.Actions) > 0 && r.Actions[0] == "s3:PutObjectRetention" {
			got = &r.Conditions
		}
	}
	if got == nil {
		t.Fatal("PutObjectRetention was not authorized")
	}
	c := *got
	for k, want := range map[string]string{"s3:object-lock-mode": "GOVERNANCE", "s3:object-lock-retain-until-date": until, "s3:object-lock-remaining-retention-days": "10"} {
		if v := c[k]; len(v) != 1 || v[0] != want {
			t.Errorf("%s = %v, want %s", k, v, want)
		}
	}
}

// TestObjectLockMultipartAndCopy: a multipart upload's lock headers go to
// the completed version (and its parts need a digest); a copy takes its
// lock from its own request, never from the source.
func TestObjectLockMultipartAndCopy(t *testing.T) {
	e, _ := lockEnv(t)
	future := time.Now().UTC().Add(time.Hour).Format(time.RFC3339)
	w := e.do("alice", "POST", "/locked/m?uploads", nil, map[string]string{
		"X-Amz-Object-Lock-Mode": "GOVERNANCE", "X-Amz-Object-Lock-Retain-Until-Date": future})
	var init struct{ UploadId string }
	if err := xml.Unmarshal(w.Body.Bytes(), &init); err != nil || w.Code != 200 {
		t.Fatalf("create upload: %d %s", w.Code, w.Body)
	}
	part := "part data"
	wantError(t, "part without digest", e.do("alice", "PUT", "/locked/m?partNumber=1&uploadId="+init.UploadId, []byte(part), nil), 400, "InvalidRequest",
		"Content-MD5 OR x-amz-checksum- HTTP header is required for Put Part requests with Object Lock parameters")
	w = e.do("alice", "PUT", "/locked/m?partNumber=1&uploadId="+init.UploadId, []byte(part), map[string]string{"Content-MD5": md5b64(part)})
	if w.Code != 200 {
		t.Fatalf("upload part: %d %s", w.Code, w.Body)
	}
	done := `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>` + w.Header().Get("ETag") + `</ETag></Part></CompleteMultipartUpload>`
	if w := e.do("alice", "POST", "/locked/m?uploadId="+init.UploadId, []byte(done), nil); w.Code != 200 {
		t.Fatalf("complete: %d %s", w.Code, w.Body)
	}
	if w := e.do("alice", "HEAD", "/locked/m", nil, nil); w.Header().Get("X-Amz-Object-Lock-Mode") != "GOVERNANCE" {
		t.Fatalf("completed object's lock: %v", w.Header())
	}

	if w := e.do("alice", "PUT", "/locked/copy", nil, map[string]string{"X-Amz-Copy-Source": "/locked/m"}); w.Code != 200 {
		t.Fatalf("copy: %d %s", w.Code, w.Body)
	}
	if w := e.do("alice", "HEAD", "/locked/copy", nil, nil); w.Header().Get("X-Amz-Object-Lock-Mode") != "" {
		t.Fatalf("a copy inherited the source's lock: %v", w.Header())
	}
	if w := e.do("alice", "PUT", "/locked/copy2", nil, map[string]string{"X-Amz-Copy-Source": "/locked/m", "X-Amz-Object-Lock-Legal-Hold": "ON"}); w.Code != 200 {
		t.Fatalf("copy with hold: %d %s", w.Code, w.Body)
	}
	if w := e.do("alice", "HEAD", "/locked/copy2", nil, nil); w.Header().Get("X-Amz-Object-Lock-Legal-Hold") != "ON" {
		t.Fatalf("copy's own legal hold: %v", w.Header())
	}
}
