package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/analyze"
	"github.com/coffer-io/coffer/internal/audit"
	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/auth/sigv4"
	"github.com/coffer-io/coffer/internal/authz"
	"github.com/coffer-io/coffer/internal/clock"
	"github.com/coffer-io/coffer/internal/kms"
	"github.com/coffer-io/coffer/internal/objects"
	"github.com/coffer-io/coffer/internal/storage/blob"
	"github.com/coffer-io/coffer/internal/storage/blob/faultfs"
	"github.com/coffer-io/coffer/internal/storage/blob/localfs"
	"github.com/coffer-io/coffer/internal/storage/meta"
	"github.com/coffer-io/coffer/internal/storage/meta/bolt"
)

// testEnv is an in-process S3 front door over real embedded stores.
type testEnv struct {
	t      *testing.T
	h      *Handler
	audit  *audit.Memory
	meta   meta.Store
	keys   map[string]*meta.AccessKey // by account name
	region string
	kms    *kms.Service
}

type fakeAdmin struct{ id string }

func (f fakeAdmin) DefaultAccountID() string { return f.id }
func (f fakeAdmin) CreateAccount(context.Context, string) (*meta.Account, *meta.AccessKey, error) {
	return nil, nil, io.ErrUnexpectedEOF
}
func (f fakeAdmin) Analyze(context.Context, string) (*analyze.Report, error) {
	return nil, io.ErrUnexpectedEOF
}

func newTestEnv(t *testing.T) *testEnv { return newTestEnvWith(t, nil) }

// newTestEnvWith lets a test wrap the blob store (fault injection).
func newTestEnvWith(t *testing.T, wrap func(blob.Store) blob.Store) *testEnv {
	return newTestEnvClock(t, wrap, clock.Real)
}

// newTestEnvClock runs the store and handler on data-protection clock clk.
func newTestEnvClock(t *testing.T, wrap func(blob.Store) blob.Store, clk clock.Clock) *testEnv {
	t.Helper()
	dir := t.TempDir()
	m, err := bolt.Open(filepath.Join(dir, "meta.db"), bolt.Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	b, err := localfs.Open(filepath.Join(dir, "blobs"), localfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); b.Close() })
	var bs blob.Store = b
	if wrap != nil {
		bs = wrap(b)
	}
	env := &testEnv{t: t, audit: &audit.Memory{}, meta: m, keys: map[string]*meta.AccessKey{}, region: "us-east-1"}
	for i, name := range []string{"alice", "bob"} {
		id := strings.Repeat(string(rune('1'+i)), 12)
		a := &meta.Account{ID: id, Name: name, CanonicalID: strings.Repeat(string(rune('a'+i)), 64), CreatedAt: time.Now()}
		k := &meta.AccessKey{ID: "AKIA" + strings.ToUpper(name) + strings.Repeat("0", 16-len(name)), Secret: name + "-secret", AccountID: id, Status: "Active"}
		if err := m.CreateAccount(context.Background(), a, k); err != nil {
			t.Fatal(err)
		}
		env.keys[name] = k
	}
	// Handler tests run with encryption at rest, as the server does.
	sealer, err := kms.NewLocalSealer(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := kms.New(kms.Config{Store: m.KMS(), Sealer: sealer, Region: env.region})
	if err != nil {
		t.Fatal(err)
	}
	objs := objects.New(m, bs, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	objs.EnableEncryption(keys)
	env.kms = keys
	env.h = New(Config{
		Region: env.region, BaseDomains: []string{"localhost"},
		Objects:    objs,
		Keys:       &authn.Resolver{Store: m},
		Authorizer: authz.OwnerOnly{},
		Audit:      env.audit,
		Admin:      fakeAdmin{id: "111111111111"},
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		DataClock:  clk,
	})
	return env
}

// do sends a request signed by the named account ("" for anonymous).
func (e *testEnv) do(who, method, target string, body []byte, hdr map[string]string) *httptest.ResponseRecorder {
	e.t.Helper()
	r := httptest.NewRequest(method, "https://127.0.0.1:9000"+target, bytes.NewReader(body))
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	if who != "" {
		k := e.keys[who]
		sr := &sigv4.Request{Method: r.Method, Host: r.Host, EscapedPath: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Header: r.Header}
		sigv4.SignRequest(sr, k.ID, k.Secret, e.region, "s3", sigv4.HashHex(body), time.Now())
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func errorCode(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var e struct {
		Code string `xml:"Code"`
	}
	if err := xml.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("status %d, body %q: %v", w.Code, w.Body.String(), err)
	}
	return e.Code
}

// TestEveryOperationHasARow checks the operation table is complete: each
// operation has a name and a handler, and every S3 operation that acts
// on a resource names its IAM action.
func TestEveryOperationHasARow(t *testing.T) {
	for op := Op(1); op < numAllOps; op++ {
		info := opTable[op]
		if info.name == "" {
			t.Errorf("op %d has no name", op)
		}
		if handlers[op] == nil {
			t.Errorf("%s has no handler", info.name)
		}
		if info.action == "" && op != OpPreflight && op != OpNotImplemented {
			t.Errorf("%s has no IAM action", info.name)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		method, target string
		hdr            map[string]string
		want           Op
	}{
		{"GET", "/", nil, OpListBuckets},
		{"PUT", "/b1", nil, OpCreateBucket},
		{"HEAD", "/b1", nil, OpHeadBucket},
		{"DELETE", "/b1", nil, OpDeleteBucket},
		{"GET", "/b1", nil, OpListObjects},
		{"GET", "/b1?list-type=2", nil, OpListObjectsV2},
		{"GET", "/b1?versions", nil, OpListObjectVersions},
		{"GET", "/b1?uploads", nil, OpListMultipartUploads},
		{"GET", "/b1?location", nil, OpGetBucketLocation},
		{"PUT", "/b1?versioning", nil, OpPutBucketVersioning},
		{"PUT", "/b1?policy", nil, OpPutBucketPolicy},
		{"GET", "/b1?policyStatus", nil, OpGetBucketPolicyStatus},
		{"GET", "/b1?publicAccessBlock", nil, OpGetPublicAccessBlock},
		{"DELETE", "/b1?ownershipControls", nil, OpDeleteBucketOwnershipControls},
		{"GET", "/b1?logging", nil, OpGetBucketLogging},
		{"PUT", "/b1?logging", nil, OpPutBucketLogging},
		{"DELETE", "/b1?logging", nil, OpUnknown},
		{"POST", "/b1?logging", nil, OpUnknown},
		{"PUT", "/b1/k?logging", nil, OpNotImplemented},
		{"GET", "/b1?metrics", nil, OpNotImplemented},
		{"PUT", "/b1/k?retention", nil, OpPutObjectRetention},
		{"GET", "/b1/k?retention", nil, OpGetObjectRetention},
		{"PUT", "/b1/k?legal-hold", nil, OpPutObjectLegalHold},
		{"GET", "/b1/k?legal-hold", nil, OpGetObjectLegalHold},
		{"PUT", "/b1?object-lock", nil, OpPutObjectLockConfiguration},
		{"GET", "/b1?object-lock", nil, OpGetObjectLockConfiguration},
		{"GET", "/b1?lifecycle", nil, OpGetBucketLifecycleConfiguration},
		{"PUT", "/b1?lifecycle", nil, OpPutBucketLifecycleConfiguration},
		{"DELETE", "/b1?lifecycle", nil, OpDeleteBucketLifecycle},
		{"GET", "/b1?encryption", nil, OpGetBucketEncryption},
		{"PUT", "/b1?encryption", nil, OpPutBucketEncryption},
		{"DELETE", "/b1?encryption", nil, OpDeleteBucketEncryption},
		{"PUT", "/b1/k?encryption", nil, OpNotImplemented},
		{"POST", "/b1?delete", nil, OpDeleteObjects},
		{"POST", "/b1", map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, OpPostObject},
		{"PUT", "/b1/k", nil, OpPutObject},
		{"PUT", "/b1/k", map[string]string{"X-Amz-Copy-Source": "/b2/k"}, OpCopyObject},
		{"PUT", "/b1/k?partNumber=1&uploadId=u", nil, OpUploadPart},
		{"PUT", "/b1/k?partNumber=1&uploadId=u", map[string]string{"X-Amz-Copy-Source": "/b2/k"}, OpUploadPartCopy},
		{"POST", "/b1/k?uploads", nil, OpCreateMultipartUpload},
		{"POST", "/b1/k?uploadId=u", nil, OpCompleteMultipartUpload},
		{"DELETE", "/b1/k?uploadId=u", nil, OpAbortMultipartUpload},
		{"GET", "/b1/k?uploadId=u", nil, OpListParts},
		{"GET", "/b1/k", nil, OpGetObject},
		{"HEAD", "/b1/k", nil, OpHeadObject},
		{"DELETE", "/b1/k", nil, OpDeleteObject},
		{"GET", "/b1/k?attributes", nil, OpGetObjectAttributes},
		{"GET", "/b1/k?tagging", nil, OpGetObjectTagging},
		{"OPTIONS", "/b1/k", nil, OpPreflight},
		{"PATCH", "/b1/k", nil, OpUnknown},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(tc.method, "https://127.0.0.1"+tc.target, nil)
		for k, v := range tc.hdr {
			r.Header.Set(k, v)
		}
		tg := parseTarget(r, []string{"localhost"})
		if got := classify(r, tg, r.URL.Query()); got != tc.want {
			t.Errorf("%s %s: got %s, want %s", tc.method, tc.target, got, tc.want)
		}
	}
}

func TestVirtualHostTarget(t *testing.T) {
	r := httptest.NewRequest("GET", "https://b1.localhost:9000/a/b", nil)
	tg := parseTarget(r, []string{"localhost"})
	if tg.bucket != "b1" || tg.key != "a/b" || !tg.virtualHost {
		t.Fatalf("got %+v", tg)
	}
}

// TestDeniedRequestsAreAudited checks that the pipeline records denied and
// failed requests, not only successful ones.
func TestDeniedRequestsAreAudited(t *testing.T) {
	e := newTestEnv(t)
	if w := e.do("alice", "PUT", "/alice-bucket", nil, nil); w.Code != 200 {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	w := e.do("bob", "GET", "/alice-bucket", nil, nil)
	if w.Code != 403 || errorCode(t, w) != "AccessDenied" {
		t.Fatalf("bob list: %d %s", w.Code, w.Body)
	}
	w = e.do("", "GET", "/alice-bucket/k", nil, nil)
	if w.Code != 403 || errorCode(t, w) != "AccessDenied" {
		t.Fatalf("anonymous get: %d %s", w.Code, w.Body)
	}
	w = e.do("alice", "GET", "/alice-bucket/missing", nil, nil)
	if w.Code != 404 || errorCode(t, w) != "NoSuchKey" {
		t.Fatalf("missing key: %d %s", w.Code, w.Body)
	}
	evs := e.audit.Events()
	if len(evs) != 4 {
		t.Fatalf("want 4 audit events, got %d", len(evs))
	}
	want := []struct{ op, outcome, code, account string }{
		{"CreateBucket", audit.OutcomeSuccess, "", "111111111111"},
		{"ListObjects", audit.OutcomeDenied, "AccessDenied", "222222222222"},
		{"GetObject", audit.OutcomeDenied, "AccessDenied", ""},
		{"GetObject", audit.OutcomeFailed, "NoSuchKey", "111111111111"},
	}
	for i, w := range want {
		ev := evs[i]
		if ev.Operation != w.op || ev.Outcome != w.outcome || ev.ErrorCode != w.code || ev.AccountID != w.account {
			t.Errorf("event %d: got %s/%s/%s/%s, want %+v", i, ev.Operation, ev.Outcome, ev.ErrorCode, ev.AccountID, w)
		}
		if ev.RequestID == "" || ev.SourceIP == "" {
			t.Errorf("event %d lacks request id or source ip: %+v", i, ev)
		}
	}
}

func TestErrorResponsesCarryNoInternalText(t *testing.T) {
	e := newTestEnv(t)
	e.do("alice", "PUT", "/alice-bucket", nil, nil)
	// A corrupted bucket configuration is an internal error: the client
	// must see a generic InternalError, never the decoder's message.
	if err := e.meta.UpdateBucket(context.Background(), "alice-bucket", func(b *meta.Bucket) error {
		b.Configs = map[string][]byte{cfgCORS: []byte("<not xml")}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	w := e.do("alice", "GET", "/alice-bucket?cors", nil, nil)
	if w.Code != 500 || errorCode(t, w) != "InternalError" {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), "XML syntax") || strings.Contains(w.Body.String(), "unexpected EOF") {
		t.Fatalf("internal error text leaked: %s", w.Body)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	e := newTestEnv(t)
	e.do("alice", "PUT", "/alice-bucket", nil, nil)
	cases := []struct {
		name, method, target string
		body                 string
		hdr                  map[string]string
		status               int
		code                 string
	}{
		{"bad bucket name", "PUT", "/Bad_Bucket", "", nil, 400, "InvalidBucketName"},
		{"dot-dot key", "PUT", "/alice-bucket/a/../b", "x", nil, 400, "InvalidArgument"},
		{"long key", "PUT", "/alice-bucket/" + strings.Repeat("k", 1025), "x", nil, 400, "KeyTooLongError"},
		{"bad md5", "PUT", "/alice-bucket/k", "hello", map[string]string{"Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg=="}, 400, "BadDigest"},
		{"invalid md5", "PUT", "/alice-bucket/k", "hello", map[string]string{"Content-MD5": "nope"}, 400, "InvalidDigest"},
		{"malformed versioning", "PUT", "/alice-bucket?versioning", "<VersioningConfiguration><Status>", nil, 400, "MalformedXML"},
		{"bad versioning status", "PUT", "/alice-bucket?versioning", "<VersioningConfiguration><Status>On</Status></VersioningConfiguration>", nil, 400, "MalformedXML"},
		{"trailing garbage", "PUT", "/alice-bucket?tagging", "<Tagging><TagSet></TagSet></Tagging><x/>", nil, 400, "MalformedXML"},
		{"bad range", "GET", "/alice-bucket/none", "", map[string]string{"Range": "bytes=9-1"}, 404, "NoSuchKey"},
		{"dsse header", "PUT", "/alice-bucket/k", "x", map[string]string{"X-Amz-Server-Side-Encryption": "aws:kms:dsse"}, 501, "NotImplemented"},
		{"sse-c without key", "PUT", "/alice-bucket/k", "x", map[string]string{"X-Amz-Server-Side-Encryption-Customer-Algorithm": "AES256"}, 400, "InvalidArgument"},
		{"kms key without aws:kms", "PUT", "/alice-bucket/k", "x", map[string]string{"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": "alias/x"}, 400, "InvalidArgument"},
		{"unknown kms key", "PUT", "/alice-bucket/k", "x", map[string]string{"X-Amz-Server-Side-Encryption": "aws:kms", "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": "alias/none"}, 400, "KMS.NotFoundException"},
		{"bad encryption context", "PUT", "/alice-bucket/k", "x", map[string]string{"X-Amz-Server-Side-Encryption": "aws:kms", "X-Amz-Server-Side-Encryption-Context": "e30"}, 400, "InvalidArgument"},
		{"dsse default", "PUT", "/alice-bucket?encryption", "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms:dsse</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>", map[string]string{"Content-MD5": "x"}, 400, "InvalidDigest"},
		{"unknown sse", "PUT", "/alice-bucket/k", "x", map[string]string{"X-Amz-Server-Side-Encryption": "aws:fsx"}, 400, "InvalidArgument"},
		{"public acl with ACLs disabled", "PUT", "/alice-bucket/k", "x", map[string]string{"X-Amz-Acl": "public-read"}, 400, "AccessControlListNotSupported"},
		{"header section over 8 KiB", "PUT", "/alice-bucket/k", "x", map[string]string{"X-Amz-Meta-A": strings.Repeat("a", 1500), "X-Amz-Meta-B": strings.Repeat("b", 1500), "X-Amz-Meta-C": strings.Repeat("c", 1500), "X-Amz-Meta-D": strings.Repeat("d", 1500), "X-Amz-Meta-E": strings.Repeat("e", 1500), "X-Amz-Meta-F": strings.Repeat("f", 1500)}, 400, "RequestHeaderSectionTooLarge"},
		{"user metadata over 2 KiB", "PUT", "/alice-bucket/k", "x", map[string]string{"X-Amz-Meta-A": strings.Repeat("a", 2100)}, 400, "MetadataTooLarge"},
	}
	for _, tc := range cases {
		w := e.do("alice", tc.method, tc.target, []byte(tc.body), tc.hdr)
		if w.Code != tc.status || (tc.method != "HEAD" && errorCode(t, w) != tc.code) {
			t.Errorf("%s: got %d %s, want %d %s", tc.name, w.Code, w.Body, tc.status, tc.code)
		}
	}
	// Nothing was stored by any of them.
	lr, err := e.meta.ListObjects(context.Background(), "alice-bucket", meta.ListOptions{MaxKeys: 1000})
	if err != nil || len(lr.Objects) != 0 {
		t.Fatalf("objects after bad input: %v %v", lr.Objects, err)
	}
	b, _ := e.meta.GetBucket(context.Background(), "alice-bucket")
	// Only what CreateBucket stores: Block Public Access, ownership and
	// default encryption.
	if b.Versioning != "" || len(b.Configs) != 3 {
		t.Fatalf("bucket changed: %+v", b)
	}
}

func TestPutGetRoundTrip(t *testing.T) {
	e := newTestEnv(t)
	e.do("alice", "PUT", "/alice-bucket", nil, nil)
	body := bytes.Repeat([]byte("coffer"), 100000)
	w := e.do("alice", "PUT", "/alice-bucket/dir/obj", body, map[string]string{"Content-Type": "text/plain", "X-Amz-Meta-Color": "blue"})
	if w.Code != 200 {
		t.Fatalf("put: %d %s", w.Code, w.Body)
	}
	etag := w.Header().Get("ETag")
	w = e.do("alice", "GET", "/alice-bucket/dir/obj", nil, map[string]string{"Range": "bytes=6-11"})
	if w.Code != 206 || w.Body.String() != "coffer" || w.Header().Get("Content-Range") != "bytes 6-11/600000" {
		t.Fatalf("range get: %d %q %v", w.Code, w.Body.String(), w.Header())
	}
	w = e.do("alice", "HEAD", "/alice-bucket/dir/obj", nil, map[string]string{"If-None-Match": etag})
	if w.Code != http.StatusNotModified {
		t.Fatalf("conditional head: %d", w.Code)
	}
	w = e.do("alice", "GET", "/alice-bucket/dir/obj", nil, nil)
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), body) || userMeta(w, "color") != "blue" || w.Header().Get("Content-Type") != "text/plain" {
		t.Fatalf("get: %d len %d %v", w.Code, w.Body.Len(), w.Header())
	}
}

// TestFullDisk checks that running out of space fails writes cleanly with
// a retryable error, stores nothing, and that writes work again once space
// returns.
func TestFullDisk(t *testing.T) {
	var ff *faultfs.Store
	e := newTestEnvWith(t, func(b blob.Store) blob.Store { ff = faultfs.New(b); return ff })
	e.do("alice", "PUT", "/alice-bucket", nil, nil)
	ff.NoSpaceAfter(1000)
	w := e.do("alice", "PUT", "/alice-bucket/big", bytes.Repeat([]byte("x"), 64<<10), nil)
	if w.Code != 503 || errorCode(t, w) != "SlowDown" {
		t.Fatalf("full disk: %d %s", w.Code, w.Body)
	}
	w = e.do("alice", "GET", "/alice-bucket/big", nil, nil)
	if w.Code != 404 {
		t.Fatalf("object visible after failed write: %d", w.Code)
	}
	ff.Reset()
	w = e.do("alice", "PUT", "/alice-bucket/big", bytes.Repeat([]byte("x"), 64<<10), nil)
	if w.Code != 200 {
		t.Fatalf("after space returned: %d %s", w.Code, w.Body)
	}
}

// userMeta reads a user-metadata header, which S3 sends in lower case (not
// Go's canonical form).
func userMeta(w *httptest.ResponseRecorder, name string) string {
	vs := w.Header()[strings.ToLower("X-Amz-Meta-"+name)]
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func md5b64(s string) string {
	sum := md5.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func TestExpectedBucketOwner(t *testing.T) {
	e := newTestEnv(t)
	e.do("alice", "PUT", "/alice-bucket", nil, nil)
	if w := e.do("alice", "PUT", "/alice-bucket/k", []byte("x"), map[string]string{"X-Amz-Expected-Bucket-Owner": "999999999999"}); w.Code != 403 || errorCode(t, w) != "AccessDenied" {
		t.Fatalf("mismatched expected owner: %d %s", w.Code, w.Body)
	}
	if w := e.do("alice", "GET", "/alice-bucket/k", nil, nil); w.Code != 404 {
		t.Fatalf("the refused write stored something: %d", w.Code)
	}
	if w := e.do("alice", "PUT", "/alice-bucket/k", []byte("x"), map[string]string{"X-Amz-Expected-Bucket-Owner": "111111111111"}); w.Code != 200 {
		t.Fatalf("matching expected owner: %d %s", w.Code, w.Body)
	}
}
