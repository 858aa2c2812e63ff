package sigv4

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

var postNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const postCred = "AKIAIOSFODNN7EXAMPLE/20260301/us-east-1/s3/aws4_request"

// postForm signs policy JSON and returns the form fields, with extra fields
// added (name, value pairs).
func postForm(policyJSON string, extra ...string) map[string]string {
	pol := base64.StdEncoding.EncodeToString([]byte(policyJSON))
	key := SigningKey(exampleSecret, "20260301", "us-east-1", "s3")
	f := map[string]string{
		"X-Amz-Algorithm":  "AWS4-HMAC-SHA256",
		"X-Amz-Credential": postCred,
		"X-Amz-Date":       "20260301T110000Z",
		"Policy":           pol,
		"X-Amz-Signature":  hex.EncodeToString(hmacSHA256(key, pol)),
	}
	for i := 0; i+1 < len(extra); i += 2 {
		f[extra[i]] = extra[i+1]
	}
	return f
}

const basePolicy = `{"expiration": "2026-03-02T00:00:00.000Z", "conditions": [
	{"bucket": "photos"},
	["starts-with", "$key", "user/alice/"],
	{"acl": "private"},
	["eq", "$x-amz-meta-tag", "holiday"],
	["starts-with", "$Content-Type", "image/"],
	["content-length-range", 10, 1048576],
	{"x-amz-algorithm": "AWS4-HMAC-SHA256"},
	{"x-amz-credential": "` + postCred + `"},
	{"x-amz-date": "20260301T110000Z"}
]}`

var baseFields = []string{"key", "user/alice/beach.jpg", "acl", "private", "x-amz-meta-tag", "holiday", "Content-Type", "image/jpeg"}

func TestPostPolicy(t *testing.T) {
	with := func(kv ...string) map[string]string {
		return postForm(basePolicy, append(append([]string(nil), baseFields...), kv...)...)
	}
	tests := []struct {
		name   string
		fields map[string]string
		bucket string
		now    time.Time
		code   string
		msg    string
	}{
		{"valid", with(), "photos", postNow, "", ""},
		{"field names in any case", with("KEY", "user/alice/x", "ACL", "private"), "photos", postNow, "", ""},
		{"ignored fields", with("x-ignore-tracking", "1", "X-Ignore-Other", "2", "file", "ignored"), "photos", postNow, "", ""},
		{"content-type list", with("Content-Type", "image/png, image/gif"), "photos", postNow, "", ""},
		{"content-type list with a stranger", with("Content-Type", "image/png, text/html"), "photos", postNow, "AccessDenied",
			`Invalid according to Policy: Policy Condition failed: ["starts-with", "$content-type", "image/"]`},
		{"eq object violated", with("acl", "public-read"), "photos", postNow, "AccessDenied",
			`Invalid according to Policy: Policy Condition failed: ["eq", "$acl", "private"]`},
		{"eq array violated", with("x-amz-meta-tag", "work"), "photos", postNow, "AccessDenied",
			`Invalid according to Policy: Policy Condition failed: ["eq", "$x-amz-meta-tag", "holiday"]`},
		{"eq field missing", func() map[string]string { f := with(); delete(f, "acl"); return f }(), "photos", postNow, "AccessDenied", ""},
		{"starts-with violated", with("key", "user/bob/x.jpg"), "photos", postNow, "AccessDenied",
			`Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "user/alice/"]`},
		{"bucket violated", with(), "other", postNow, "AccessDenied",
			`Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "photos"]`},
		{"extra field", with("x-amz-meta-other", "1", "success_action_status", "201"), "photos", postNow, "AccessDenied",
			"Invalid according to Policy: Extra input fields: success_action_status, x-amz-meta-other"},
		{"expired", with(), "photos", time.Date(2026, 3, 2, 0, 0, 1, 0, time.UTC), "AccessDenied", "Invalid according to Policy: Policy expired."},
		{"bad signature", func() map[string]string { f := with(); f["X-Amz-Signature"] = strings.Repeat("0", 64); return f }(), "photos", postNow, "SignatureDoesNotMatch", ""},
		{"policy changed after signing", func() map[string]string {
			f := with()
			f["Policy"] = base64.StdEncoding.EncodeToString([]byte(strings.Replace(basePolicy, "private", "public-read", 1)))
			return f
		}(), "photos", postNow, "SignatureDoesNotMatch", ""},
		{"no bucket condition", postForm(`{"expiration": "2026-03-02T00:00:00Z", "conditions": [
			{"x-amz-algorithm": "AWS4-HMAC-SHA256"}, {"x-amz-credential": "` + postCred + `"}, {"x-amz-date": "20260301T110000Z"}]}`),
			"photos", postNow, "AccessDenied", "Invalid according to Policy: Extra input fields: bucket"},
		{"not base64", func() map[string]string { f := with(); f["Policy"] = "%%%"; return f }(), "photos", postNow, "SignatureDoesNotMatch", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePostForm(tt.fields)
			if err != nil {
				t.Fatal(err)
			}
			pol, err := VerifyPostPolicy(p, tt.fields, tt.bucket, exampleSecret, tt.now)
			if errCode(err) != tt.code {
				t.Fatalf("got %v, want %q", err, tt.code)
			}
			if err != nil {
				if e := err.(*Error); tt.msg != "" && e.Message != tt.msg {
					t.Fatalf("message %q\nwant    %q", e.Message, tt.msg)
				}
				return
			}
			if pol.MinLength != 10 || pol.MaxLength != 1048576 {
				t.Fatalf("range %d..%d", pol.MinLength, pol.MaxLength)
			}
		})
	}
}

func TestPostPolicyDocumentErrors(t *testing.T) {
	tests := []struct {
		name, policy, msg string
	}{
		{"not JSON", `{"expiration": `, "Invalid Policy: Invalid JSON."},
		{"not an object", `[1,2]`, "Invalid Policy: Invalid JSON."},
		{"missing expiration", `{"conditions": []}`, "Invalid Policy: Policy missing expiration."},
		{"missing conditions", `{"expiration": "2026-03-02T00:00:00Z"}`, "Invalid Policy: Policy missing conditions."},
		{"bad expiration", `{"expiration": "tomorrow", "conditions": []}`, "Invalid Policy: Invalid 'expiration' value: 'tomorrow'"},
		{"conditions not a list", `{"expiration": "2026-03-02T00:00:00Z", "conditions": {}}`, "Invalid Policy: Invalid 'conditions' value: must be a List."},
		{"unexpected key", `{"expiration": "2026-03-02T00:00:00Z", "conditions": [], "extra": 1}`, `Invalid Policy: Unexpected: "extra"`},
		{"unknown operation", `{"expiration": "2026-03-02T00:00:00Z", "conditions": [["ends-with", "$key", "x"]]}`, "Invalid Policy: Invalid Condition: unknown operation 'ends-with'."},
		{"wrong argument count", `{"expiration": "2026-03-02T00:00:00Z", "conditions": [["eq", "$key"]]}`, "Invalid Policy: Invalid eq: wrong number of arguments."},
		{"range argument count", `{"expiration": "2026-03-02T00:00:00Z", "conditions": [["content-length-range", 1]]}`, "Invalid Policy: Invalid content-length-range: wrong number of arguments."},
		{"two-property simple condition", `{"expiration": "2026-03-02T00:00:00Z", "conditions": [{"acl": "a", "key": "b"}]}`,
			"Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified."},
		{"non-string simple condition", `{"expiration": "2026-03-02T00:00:00Z", "conditions": [{"acl": 5}]}`, "Invalid Policy: Invalid Simple-Condition: value must be a string."},
		{"condition of the wrong type", `{"expiration": "2026-03-02T00:00:00Z", "conditions": ["acl"]}`, "Invalid Policy: Invalid condition test: must be a List or Object."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := postForm(tt.policy)
			p, err := ParsePostForm(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = VerifyPostPolicy(p, f, "photos", exampleSecret, postNow)
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrInvalidPolicyDocument) || e.Message != tt.msg {
				t.Fatalf("got %v, want %q", err, tt.msg)
			}
		})
	}
	// Empty policy (anonymous form, so the signature does not get in the way).
	_, err := VerifyPostPolicy(&PostAuth{Anonymous: true}, map[string]string{"policy": "e30"}, "b", "", postNow)
	if !errors.Is(err, ErrInvalidPolicyDocument) || err.(*Error).Message != "Invalid Policy: invalid Base64 encoding." {
		t.Fatalf("unpadded base64: %v", err)
	}
}

func TestParsePostForm(t *testing.T) {
	missing := postForm(basePolicy)
	delete(missing, "X-Amz-Date")
	badCred := postForm(basePolicy)
	badCred["X-Amz-Credential"] = "AKID/20260301/us-east-1/s3"
	tests := []struct {
		name   string
		fields map[string]string
		code   string
		msg    string
	}{
		{"anonymous", map[string]string{"key": "k", "acl": "public-read"}, "", ""},
		{"sigv2", map[string]string{"AWSAccessKeyId": "AKID", "signature": "x", "policy": "e30="}, "InvalidRequest", ""},
		{"sigv4a", postForm(basePolicy, "X-Amz-Algorithm", AlgorithmSigV4a), "NotImplemented", ""},
		{"missing field", missing, "InvalidArgument", "Bucket POST must contain a field named 'x-amz-date'.  If it is specified, please check the order of the fields."},
		{"bad credential", badCred, "InvalidArgument", `the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`},
		{"date mismatch", postForm(basePolicy, "X-Amz-Date", "20260302T110000Z"), "InvalidArgument", "Invalid credential date. Date is not the same as X-Amz-Date."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePostForm(tt.fields)
			if errCode(err) != tt.code {
				t.Fatalf("got %v, want %q", err, tt.code)
			}
			if err != nil && tt.msg != "" && err.(*Error).Message != tt.msg {
				t.Fatalf("message %q", err.(*Error).Message)
			}
			if err == nil && tt.name == "anonymous" {
				pol, err := VerifyPostPolicy(p, tt.fields, "b", "", postNow)
				if err != nil || pol.MaxLength != -1 {
					t.Fatalf("anonymous: %+v, %v", pol, err)
				}
			}
		})
	}
	p, _ := ParsePostForm(postForm(basePolicy))
	if err := p.CheckScope("eu-central-1", "s3"); errCode(err) != "InvalidArgument" || err.(*Error).Field("Region") != "eu-central-1" {
		t.Fatalf("CheckScope: %v", err)
	}
}

func TestPostLengthRange(t *testing.T) {
	pol := &PostPolicy{MinLength: 10, MaxLength: 20}
	for _, tt := range []struct {
		n    int
		code string
	}{{9, "EntityTooSmall"}, {10, ""}, {20, ""}, {21, "EntityTooLarge"}, {5000, "EntityTooLarge"}} {
		if got := errCode(pol.CheckLength(int64(tt.n))); got != tt.code {
			t.Errorf("CheckLength(%d) = %q, want %q", tt.n, got, tt.code)
		}
		r := pol.LimitReader(iotest.HalfReader(strings.NewReader(strings.Repeat("x", tt.n))))
		n, err := io.Copy(io.Discard, r)
		if errCode(err) != tt.code {
			t.Errorf("LimitReader(%d) = %v, want %q", tt.n, err, tt.code)
		}
		if n > 21 {
			t.Errorf("LimitReader read %d bytes", n)
		}
	}
	unbounded := &PostPolicy{MaxLength: -1}
	if n, err := io.Copy(io.Discard, unbounded.LimitReader(strings.NewReader(strings.Repeat("x", 1<<16)))); err != nil || n != 1<<16 {
		t.Fatalf("unbounded: %d, %v", n, err)
	}
}
