package s3api

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/coffer-io/coffer/internal/authz"
)

// recordingAuthorizer wraps OwnerOnly and keeps every request it decides.
type recordingAuthorizer struct {
	mu   sync.Mutex
	reqs []*authz.Request
}

func (a *recordingAuthorizer) Authorize(ctx context.Context, r *authz.Request) authz.Decision {
	a.mu.Lock()
	a.reqs = append(a.reqs, r)
	a.mu.Unlock()
	return authz.OwnerOnly{}.Authorize(ctx, r)
}

func (a *recordingAuthorizer) last() *authz.Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reqs[len(a.reqs)-1]
}

func TestAuthorizationInputs(t *testing.T) {
	e := newTestEnv(t)
	rec := &recordingAuthorizer{}
	e.h.cfg.Authorizer = rec
	e.do("alice", "PUT", "/alice-bucket", nil, nil)

	cases := []struct {
		name, method, target string
		hdr                  map[string]string
		actions              []string
		resource             string
		want                 map[string]string // key → value; "" means absent
	}{
		{"list with prefix", "GET", "/alice-bucket?list-type=2&prefix=a/&delimiter=/", nil,
			[]string{"s3:ListBucket"}, "arn:aws:s3:::alice-bucket",
			map[string]string{"s3:prefix": "a/", "s3:delimiter": "/", "s3:max-keys": "1000", "s3:authType": "REST-HEADER",
				"aws:PrincipalType": "Account", "aws:userid": "111111111111", "aws:PrincipalAccount": "111111111111",
				"s3:ResourceAccount": "111111111111", "aws:SecureTransport": "true", "s3:TlsVersion": "1.2"}},
		{"list without prefix", "GET", "/alice-bucket", nil,
			[]string{"s3:ListBucket"}, "arn:aws:s3:::alice-bucket",
			map[string]string{"s3:prefix": "", "s3:delimiter": ""}},
		{"put with tags", "PUT", "/alice-bucket/k", map[string]string{"X-Amz-Tagging": "team=a&env=b", "X-Amz-Storage-Class": "STANDARD"},
			[]string{"s3:PutObject", "s3:PutObjectTagging"}, "arn:aws:s3:::alice-bucket/k",
			map[string]string{"s3:RequestObjectTag/team": "a", "s3:x-amz-storage-class": "STANDARD", "s3:ObjectCreationOperation": "true"}},
		{"put sse-kms by key id", "PUT", "/alice-bucket/k", map[string]string{"X-Amz-Server-Side-Encryption": "aws:kms",
			"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": "1234abcd-12ab-34cd-56ef-1234567890ab"},
			[]string{"s3:PutObject"}, "arn:aws:s3:::alice-bucket/k",
			map[string]string{"s3:x-amz-server-side-encryption": "aws:kms",
				"s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"}},
		{"put relying on the bucket default", "PUT", "/alice-bucket/k", nil,
			[]string{"s3:PutObject"}, "arn:aws:s3:::alice-bucket/k",
			map[string]string{"s3:x-amz-server-side-encryption": "", "s3:x-amz-server-side-encryption-aws-kms-key-id": "",
				"s3:x-amz-server-side-encryption-customer-algorithm": ""}},
		{"put sse-c", "PUT", "/alice-bucket/k", map[string]string{"X-Amz-Server-Side-Encryption-Customer-Algorithm": "AES256"},
			[]string{"s3:PutObject"}, "arn:aws:s3:::alice-bucket/k",
			map[string]string{"s3:x-amz-server-side-encryption-customer-algorithm": "AES256", "s3:x-amz-server-side-encryption": ""}},
		{"versioned get", "GET", "/alice-bucket/k?versionId=null", nil,
			[]string{"s3:GetObjectVersion"}, "arn:aws:s3:::alice-bucket/k",
			map[string]string{"s3:VersionId": "null"}},
		{"copy", "PUT", "/alice-bucket/k2", map[string]string{"X-Amz-Copy-Source": "/alice-bucket/a%20b?versionId=null", "X-Amz-Metadata-Directive": "REPLACE"},
			[]string{"s3:PutObject"}, "arn:aws:s3:::alice-bucket/k2",
			map[string]string{"s3:x-amz-copy-source": "alice-bucket/a b", "s3:x-amz-metadata-directive": "REPLACE"}},
	}
	for _, tc := range cases {
		e.do("alice", tc.method, tc.target, []byte("x"), tc.hdr)
		var ar *authz.Request
		rec.mu.Lock()
		for _, r := range rec.reqs {
			if r.Resource == tc.resource && strings.Join(r.Actions, ",") == strings.Join(tc.actions, ",") {
				ar = r
			}
		}
		rec.mu.Unlock()
		if ar == nil {
			t.Errorf("%s: no authorization of %v on %s (last: %+v)", tc.name, tc.actions, tc.resource, rec.last())
			continue
		}
		for k, want := range tc.want {
			got, ok := ar.Conditions[k]
			switch {
			case want == "" && ok:
				t.Errorf("%s: %s present (%q), want absent", tc.name, k, got)
			case want != "" && (!ok || got[0] != want):
				t.Errorf("%s: %s = %q, want %q", tc.name, k, got, want)
			}
		}
	}
}

// TestDeleteObjectsAuthorizesEachKey checks that DeleteObjects is decided
// key by key and reports denials per key in a 200 response, as S3 does.
func TestDeleteObjectsAuthorizesEachKey(t *testing.T) {
	e := newTestEnv(t)
	e.do("alice", "PUT", "/alice-bucket", nil, nil)
	e.do("alice", "PUT", "/alice-bucket/k", []byte("x"), nil)
	body := `<Delete><Object><Key>k</Key></Object></Delete>`
	w := e.do("bob", "POST", "/alice-bucket?delete", []byte(body), map[string]string{"Content-MD5": md5b64(body)})
	if w.Code != 200 || !strings.Contains(w.Body.String(), "<Code>AccessDenied</Code>") {
		t.Fatalf("bob's DeleteObjects: %d %s", w.Code, w.Body)
	}
	if w := e.do("alice", "GET", "/alice-bucket/k", nil, nil); w.Code != 200 {
		t.Fatalf("object deleted by another account: %d", w.Code)
	}
}
