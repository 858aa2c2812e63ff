package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/kms"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

func ssecHeaders(key []byte) map[string]string {
	sum := md5.Sum(key)
	return map[string]string{
		hdrSSECAlg:    "AES256",
		hdrSSECKey:    base64.StdEncoding.EncodeToString(key),
		hdrSSECKeyMD5: base64.StdEncoding.EncodeToString(sum[:]),
	}
}

func with(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

func bucketWith(cfg string) *meta.Bucket {
	b := &meta.Bucket{Name: "b", Owner: "111111111111"}
	if cfg != "" {
		b.Configs = map[string][]byte{cfgEncryption: []byte(cfg)}
	}
	return b
}

func TestParseWriteSSE(t *testing.T) {
	key := bytes.Repeat([]byte{9}, 32)
	ssec := ssecHeaders(key)
	kmsDefault := `<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>alias/k</KMSMasterKeyID></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`
	blocked := string(encodeEncryption(newBucketEncryption()))
	root := &authn.Principal{Type: authn.TypeRoot, AccountID: "222222222222", ARN: "arn:aws:iam::222222222222:root"}
	cases := []struct {
		name   string
		hdr    map[string]string
		bucket string
		anon   bool
		plain  bool // over plain HTTP
		// want: mode, key id, bucket key; or an error code
		mode, keyID string
		bk          bool
		code        string
	}{
		{name: "nothing", mode: ""},
		{name: "AES256", hdr: map[string]string{hdrSSE: "AES256"}, mode: ""},
		{name: "aws:kms", hdr: map[string]string{hdrSSE: "aws:kms"}, mode: meta.SSEKMS},
		{name: "aws:kms key and bucket key", hdr: map[string]string{hdrSSE: "aws:kms", hdrSSEKMSKeyID: "alias/x", hdrSSEBucketKey: "TRUE"}, mode: meta.SSEKMS, keyID: "alias/x", bk: true},
		{name: "bucket default", bucket: kmsDefault, mode: meta.SSEKMS, keyID: "alias/k", bk: true},
		{name: "bucket default, bucket key off by header", bucket: kmsDefault, hdr: map[string]string{hdrSSEBucketKey: "false"}, mode: meta.SSEKMS, keyID: "alias/k"},
		{name: "header beats default", bucket: kmsDefault, hdr: map[string]string{hdrSSE: "AES256"}, mode: ""},
		{name: "aws:kms header uses aws/s3, not the default key", bucket: kmsDefault, hdr: map[string]string{hdrSSE: "aws:kms"}, mode: meta.SSEKMS, bk: true},
		{name: "sse-c", hdr: ssec, mode: meta.SSEC},
		{name: "sse-c blocked", hdr: ssec, bucket: blocked, code: "AccessDenied"},
		{name: "sse-c over http", hdr: ssec, plain: true, code: "InvalidRequest"},
		{name: "sse-c with aws:kms", hdr: with(ssec, hdrSSE, "aws:kms"), code: "InvalidArgument"},
		{name: "sse-c without algorithm", hdr: with(ssec, hdrSSECAlg, ""), code: "InvalidArgument"},
		{name: "sse-c bad algorithm", hdr: with(ssec, hdrSSECAlg, "AES128"), code: "InvalidEncryptionAlgorithmError"},
		{name: "sse-c without key", hdr: with(ssec, hdrSSECKey, ""), code: "InvalidArgument"},
		{name: "sse-c short key", hdr: with(ssec, hdrSSECKey, "c2hvcnQ="), code: "InvalidArgument"},
		{name: "sse-c without md5", hdr: with(ssec, hdrSSECKeyMD5, ""), code: "InvalidArgument"},
		{name: "sse-c wrong md5", hdr: with(ssec, hdrSSECKeyMD5, "1B2M2Y8AsgTpgAmY7PhCfg=="), code: "InvalidArgument"},
		{name: "kms key without aws:kms", hdr: map[string]string{hdrSSEKMSKeyID: "alias/x"}, code: "InvalidArgument"},
		{name: "context without aws:kms", hdr: map[string]string{hdrSSE: "AES256", hdrSSEContext: "e30="}, code: "InvalidArgument"},
		{name: "context not base64", hdr: map[string]string{hdrSSE: "aws:kms", hdrSSEContext: "{}"}, code: "InvalidArgument"},
		{name: "context not an object of strings", hdr: map[string]string{hdrSSE: "aws:kms", hdrSSEContext: base64.StdEncoding.EncodeToString([]byte(`{"a":1}`))}, code: "InvalidArgument"},
		{name: "context with aws: key", hdr: map[string]string{hdrSSE: "aws:kms", hdrSSEContext: base64.StdEncoding.EncodeToString([]byte(`{"aws:s3:arn":"x"}`))}, code: "InvalidArgument"},
		{name: "bad bucket key flag", hdr: map[string]string{hdrSSE: "aws:kms", hdrSSEBucketKey: "yes"}, code: "InvalidArgument"},
		{name: "dsse", hdr: map[string]string{hdrSSE: "aws:kms:dsse"}, code: "NotImplemented"},
		{name: "unknown", hdr: map[string]string{hdrSSE: "aws:fsx"}, code: "InvalidArgument"},
		{name: "anonymous aws:kms", hdr: map[string]string{hdrSSE: "aws:kms"}, anon: true, code: "InvalidArgument"},
		{name: "anonymous under a KMS default", bucket: kmsDefault, anon: true, code: "InvalidArgument"},
		{name: "anonymous under the SSE-S3 default", anon: true, mode: ""},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("PUT", "/b/k", nil)
		if !tc.plain {
			r.TLS = &tls.ConnectionState{}
		}
		for k, v := range tc.hdr {
			r.Header.Set(k, v)
		}
		rq := &request{principal: root}
		if tc.anon {
			rq.principal = authn.Anonymous
		}
		ws, err := parseWriteSSE(r, r.Header, rq, bucketWith(tc.bucket))
		if tc.code != "" {
			if err == nil || s3err.From(err).Code != tc.code {
				t.Errorf("%s: err %v, want %s", tc.name, err, tc.code)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		mode, keyID, bk := "", "", false
		if ws.sse != nil {
			mode, keyID, bk = ws.sse.Mode, ws.sse.KMSKeyID, ws.sse.BucketKey
			if mode == meta.SSEKMS && ws.sse.Requester != "222222222222" {
				t.Errorf("%s: requester %q", tc.name, ws.sse.Requester)
			}
			if mode == meta.SSEC && !bytes.Equal(ws.sse.CustomerKey, key) {
				t.Errorf("%s: customer key not decoded", tc.name)
			}
		}
		if mode != tc.mode || keyID != tc.keyID || bk != tc.bk {
			t.Errorf("%s: mode %q key %q bucket key %v; want %q %q %v", tc.name, mode, keyID, bk, tc.mode, tc.keyID, tc.bk)
		}
	}
}

func TestRefuseReadSSEHeaders(t *testing.T) {
	for h, bad := range map[string]bool{hdrSSE: true, hdrSSEKMSKeyID: true, hdrSSEContext: true, hdrSSECAlg: false, "X-Amz-Meta-A": false} {
		hd := http.Header{}
		hd.Set(h, "x")
		if err := refuseReadSSEHeaders(hd); (err != nil) != bad {
			t.Errorf("%s: %v", h, err)
		}
	}
}

func TestValidateEncryption(t *testing.T) {
	doc := func(rule string) string {
		return `<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` + rule + `</ServerSideEncryptionConfiguration>`
	}
	def := func(alg, key string) string {
		s := `<ApplyServerSideEncryptionByDefault><SSEAlgorithm>` + alg + `</SSEAlgorithm>`
		if key != "" {
			s += `<KMSMasterKeyID>` + key + `</KMSMasterKeyID>`
		}
		return s + `</ApplyServerSideEncryptionByDefault>`
	}
	for _, tc := range []struct {
		name, doc, code string
	}{
		{"AES256", doc(`<Rule>` + def("AES256", "") + `</Rule>`), ""},
		{"aws:kms with key and bucket key", doc(`<Rule>` + def("aws:kms", "arn:aws:kms:us-east-1:111111111111:key/x") + `<BucketKeyEnabled>true</BucketKeyEnabled></Rule>`), ""},
		{"unblock SSE-C", doc(`<Rule>` + def("AES256", "") + `<BlockedEncryptionTypes><EncryptionType>NONE</EncryptionType></BlockedEncryptionTypes></Rule>`), ""},
		{"block SSE-C", doc(`<Rule>` + def("AES256", "") + `<BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType></BlockedEncryptionTypes></Rule>`), ""},
		{"no rule", doc(``), "MalformedXML"},
		{"two rules", doc(`<Rule>` + def("AES256", "") + `</Rule><Rule>` + def("AES256", "") + `</Rule>`), "MalformedXML"},
		{"no default", doc(`<Rule><BucketKeyEnabled>true</BucketKeyEnabled></Rule>`), "MalformedXML"},
		{"unknown algorithm", doc(`<Rule>` + def("AES128", "") + `</Rule>`), "MalformedXML"},
		{"key with AES256", doc(`<Rule>` + def("AES256", "alias/x") + `</Rule>`), "InvalidArgument"},
		{"dsse", doc(`<Rule>` + def("aws:kms:dsse", "") + `</Rule>`), "NotImplemented"},
		{"unknown blocked type", doc(`<Rule>` + def("AES256", "") + `<BlockedEncryptionTypes><EncryptionType>SSE-KMS</EncryptionType></BlockedEncryptionTypes></Rule>`), "MalformedXML"},
		{"NONE and SSE-C", doc(`<Rule>` + def("AES256", "") + `<BlockedEncryptionTypes><EncryptionType>NONE</EncryptionType><EncryptionType>SSE-C</EncryptionType></BlockedEncryptionTypes></Rule>`), "InvalidArgument"},
	} {
		var c encConfig
		err := unmarshalXML([]byte(tc.doc), &c)
		if err == nil {
			err = validateEncryption(&c)
		}
		if tc.code == "" && err != nil || tc.code != "" && (err == nil || s3err.From(err).Code != tc.code) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.code)
		}
		if err == nil {
			// What is stored reads back the same.
			var back encConfig
			if xml.Unmarshal(encodeEncryption(&c), &back) != nil || len(back.Rules) != 1 || back.rule().Default.SSEAlgorithm != c.rule().Default.SSEAlgorithm {
				t.Errorf("%s: stored form does not read back", tc.name)
			}
		}
	}
	// A bucket without a stored configuration allows SSE-C (created
	// before new buckets blocked it); a new bucket's blocks it.
	if bucketEncryption(bucketWith("")).blocks(encTypeSSEC) || !bucketEncryption(bucketWith(string(encodeEncryption(newBucketEncryption())))).blocks(encTypeSSEC) {
		t.Fatal("SSE-C block defaults")
	}
	// A stored configuration that no longer parses fails closed.
	if !bucketEncryption(bucketWith("<garbage")).blocks(encTypeSSEC) {
		t.Fatal("unparsable configuration does not block SSE-C")
	}
}

// TestKMSKeyStateErrors: the KMS's refusals reach the client as S3
// reports them, on writes and on reads.
func TestKMSKeyStateErrors(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	e.do("alice", "PUT", "/alice-bucket", nil, nil)
	k, err := e.kms.CreateKey(ctx, "111111111111", kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	kmsPut := map[string]string{hdrSSE: "aws:kms", hdrSSEKMSKeyID: k.ID}
	if w := e.do("alice", "PUT", "/alice-bucket/k", []byte("x"), kmsPut); w.Code != 200 || w.Header().Get(hdrSSEKMSKeyID) != k.ARN {
		t.Fatalf("PUT: %d %s, key %q", w.Code, w.Body, w.Header().Get(hdrSSEKMSKeyID))
	}
	want := func(what string, w *httptest.ResponseRecorder, status int, code string) {
		t.Helper()
		if w.Code != status || errorCode(t, w) != code {
			t.Fatalf("%s: %d %s, want %d %s", what, w.Code, w.Body, status, code)
		}
	}
	if err := e.kms.DisableKey(ctx, "111111111111", k.ID); err != nil {
		t.Fatal(err)
	}
	want("PUT under a disabled key", e.do("alice", "PUT", "/alice-bucket/k2", []byte("x"), kmsPut), 400, "KMS.DisabledException")
	want("GET under a disabled key", e.do("alice", "GET", "/alice-bucket/k", nil, nil), 400, "KMS.DisabledException")
	if _, err := e.kms.ScheduleKeyDeletion(ctx, "111111111111", k.ID, 7); err != nil {
		t.Fatal(err)
	}
	want("PUT under a key pending deletion", e.do("alice", "PUT", "/alice-bucket/k2", []byte("x"), kmsPut), 400, "KMS.KMSInvalidStateException")
	want("GET under a key pending deletion", e.do("alice", "GET", "/alice-bucket/k", nil, nil), 400, "KMS.KMSInvalidStateException")
	want("unknown key", e.do("alice", "PUT", "/alice-bucket/k2", []byte("x"), map[string]string{hdrSSE: "aws:kms", hdrSSEKMSKeyID: "1234abcd-12ab-34cd-56ef-1234567890ab"}), 400, "KMS.NotFoundException")
	// A refusal by a key policy is indistinguishable from S3's own.
	if e := s3err.From(&kms.Error{Code: "AccessDeniedException", Message: "not allowed"}); e.Code != "AccessDenied" || e.Status != 403 {
		t.Fatalf("KMS access denied maps to %s %d", e.Code, e.Status)
	}
	if e := s3err.From(fmt.Errorf("wrapped: %w", &kms.Error{Code: kms.CodeInternal, Message: "x"})); e.Code != "InternalError" {
		t.Fatalf("KMS internal error maps to %s", e.Code)
	}
}

func TestAuditSSEApplied(t *testing.T) {
	e := newTestEnv(t)
	e.do("alice", "PUT", "/alice-bucket", nil, nil)
	for _, tc := range []struct {
		hdr  map[string]string
		want string
	}{
		{nil, "Default_SSE_S3"},
		{map[string]string{hdrSSE: "AES256"}, "SSE_S3"},
		{map[string]string{hdrSSE: "aws:kms"}, "SSE_KMS"},
	} {
		if w := e.do("alice", "PUT", "/alice-bucket/k", []byte("x"), tc.hdr); w.Code != 200 {
			t.Fatalf("PUT: %d %s", w.Code, w.Body)
		}
		evs := e.audit.Events()
		if got := evs[len(evs)-1].SSEApplied; got != tc.want {
			t.Fatalf("%v: SSEApplied %q, want %q", tc.hdr, got, tc.want)
		}
	}
}
