package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testAccessKey = "AKIDCOFFERBENCH"
	testSecretKey = "c0ffer/bench+secret"
	testRegion    = "us-east-1"
)

// fakeS3 is a minimal in-memory S3 endpoint: path-style bucket and object
// PUT/GET/HEAD/DELETE plus ListObjectsV2. It rejects requests that are not
// SigV4-signed with the test credentials, and in signed-payload mode checks
// the body against x-amz-content-sha256.
type fakeS3 struct {
	t       *testing.T
	srv     *httptest.Server
	caFile  string
	session string // expected session token, if any

	// fail, if set before the run, makes the fake answer a request with an
	// injected error: it returns the status and S3 code to send, or 0.
	fail func(r *http.Request, bucket, key string) (int, string)

	mu      sync.Mutex
	buckets map[string]map[string][]byte
	calls   map[string]int // "METHOD bucket" / "METHOD object" / "LIST"

	authFailures atomic.Int64
}

func newFakeS3(t *testing.T) *fakeS3 {
	t.Helper()
	f := &fakeS3{
		t:       t,
		buckets: make(map[string]map[string][]byte),
		calls:   make(map[string]int),
	}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serveHTTP))
	// Tests that distrust the certificate make the server log handshake
	// errors; those are expected, so keep them out of the test output.
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)

	f.caFile = filepath.Join(t.TempDir(), "ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
	if err := os.WriteFile(f.caFile, block, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fakeS3) config() Config {
	return Config{
		Endpoint:    f.srv.URL,
		AccessKey:   testAccessKey,
		SecretKey:   testSecretKey,
		CAFile:      f.caFile,
		Bucket:      "bench-test",
		ObjectSize:  1000,
		Objects:     20,
		Concurrency: 4,
		Count:       60,
	}
}

func (f *fakeS3) bucketExists(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.buckets[name]
	return ok
}

// objects returns a copy of the bucket's contents (nil if it does not exist).
func (f *fakeS3) objects(bucket string) map[string][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.buckets[bucket]
	if !ok {
		return nil
	}
	out := make(map[string][]byte, len(b))
	for k, v := range b {
		out[k] = v
	}
	return out
}

func (f *fakeS3) callCount(what string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[what]
}

func writeS3Error(w http.ResponseWriter, r *http.Request, status int, code string) {
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected by fake</Message></Error>`, code)
}

func (f *fakeS3) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeS3Error(w, r, http.StatusBadRequest, "IncompleteBody")
		return
	}
	if err := f.checkAuth(r, body); err != nil {
		f.authFailures.Add(1)
		f.t.Errorf("fake S3: %s %s: %v", r.Method, r.URL.EscapedPath(), err)
		writeS3Error(w, r, http.StatusForbidden, "SignatureDoesNotMatch")
		return
	}

	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if bucket == "" {
		writeS3Error(w, r, http.StatusBadRequest, "InvalidRequest")
		return
	}
	if f.fail != nil {
		if status, code := f.fail(r, bucket, key); status != 0 {
			writeS3Error(w, r, status, code)
			return
		}
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	objects, exists := f.buckets[bucket]
	if key == "" {
		f.serveBucket(w, r, bucket, objects, exists)
		return
	}
	f.calls[r.Method+" object"]++
	if !exists {
		writeS3Error(w, r, http.StatusNotFound, "NoSuchBucket")
		return
	}
	switch r.Method {
	case http.MethodPut:
		objects[key] = body
		sum := sha256.Sum256(body)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
		w.WriteHeader(http.StatusOK)
	case http.MethodGet, http.MethodHead:
		data, ok := objects[key]
		if !ok {
			writeS3Error(w, r, http.StatusNotFound, "NoSuchKey")
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(data)
		}
	case http.MethodDelete:
		delete(objects, key)
		w.WriteHeader(http.StatusNoContent)
	default:
		writeS3Error(w, r, http.StatusMethodNotAllowed, "MethodNotAllowed")
	}
}

// serveBucket handles bucket-level requests; f.mu is held.
func (f *fakeS3) serveBucket(w http.ResponseWriter, r *http.Request, bucket string, objects map[string][]byte, exists bool) {
	switch {
	case r.Method == http.MethodHead:
		f.calls["HEAD bucket"]++
		if !exists {
			writeS3Error(w, r, http.StatusNotFound, "NoSuchBucket")
			return
		}
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodPut:
		f.calls["PUT bucket"]++
		if exists {
			writeS3Error(w, r, http.StatusConflict, "BucketAlreadyOwnedByYou")
			return
		}
		f.buckets[bucket] = make(map[string][]byte)
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodDelete:
		f.calls["DELETE bucket"]++
		switch {
		case !exists:
			writeS3Error(w, r, http.StatusNotFound, "NoSuchBucket")
		case len(objects) > 0:
			writeS3Error(w, r, http.StatusConflict, "BucketNotEmpty")
		default:
			delete(f.buckets, bucket)
			w.WriteHeader(http.StatusNoContent)
		}
	case r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2":
		f.calls["LIST"]++
		if !exists {
			writeS3Error(w, r, http.StatusNotFound, "NoSuchBucket")
			return
		}
		f.serveList(w, r, bucket, objects)
	default:
		writeS3Error(w, r, http.StatusNotImplemented, "NotImplemented")
	}
}

func (f *fakeS3) serveList(w http.ResponseWriter, r *http.Request, bucket string, objects map[string][]byte) {
	q := r.URL.Query()
	prefix := q.Get("prefix")
	maxKeys, err := strconv.Atoi(q.Get("max-keys"))
	if err != nil || maxKeys <= 0 {
		maxKeys = 1000
	}
	var keys []string
	for k := range objects {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	type content struct {
		Key  string `xml:"Key"`
		Size int    `xml:"Size"`
	}
	out := struct {
		XMLName     xml.Name  `xml:"ListBucketResult"`
		Name        string    `xml:"Name"`
		Prefix      string    `xml:"Prefix"`
		KeyCount    int       `xml:"KeyCount"`
		MaxKeys     int       `xml:"MaxKeys"`
		IsTruncated bool      `xml:"IsTruncated"`
		Contents    []content `xml:"Contents"`
	}{Name: bucket, Prefix: prefix, MaxKeys: maxKeys, IsTruncated: len(keys) > maxKeys}
	for _, k := range keys[:min(len(keys), maxKeys)] {
		out.Contents = append(out.Contents, content{Key: k, Size: len(objects[k])})
	}
	out.KeyCount = len(out.Contents)
	w.Header().Set("Content-Type", "application/xml")
	_ = xml.NewEncoder(w).Encode(out)
}

// checkAuth verifies the SigV4 header signature by re-signing the request as
// received, which catches any difference between what the client signed and
// what went over the wire (path escaping, query encoding, headers).
func (f *fakeS3) checkAuth(r *http.Request, body []byte) error {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+testAccessKey+"/") {
		return fmt.Errorf("missing or foreign Authorization header %q", auth)
	}
	hash := r.Header.Get("X-Amz-Content-Sha256")
	if hash == "" {
		return fmt.Errorf("missing x-amz-content-sha256")
	}
	if hash != "UNSIGNED-PAYLOAD" {
		sum := sha256.Sum256(body)
		if got := hex.EncodeToString(sum[:]); got != hash {
			return fmt.Errorf("payload hash %s, body hashes to %s", hash, got)
		}
	}
	if got := r.Header.Get("X-Amz-Security-Token"); got != f.session {
		return fmt.Errorf("session token %q, want %q", got, f.session)
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return fmt.Errorf("x-amz-date: %v", err)
	}

	clone := &http.Request{
		Method: r.Method,
		URL: &url.URL{
			Scheme: "https", Host: r.Host,
			Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery,
		},
		Host:          r.Host,
		Header:        r.Header.Clone(),
		ContentLength: r.ContentLength,
	}
	clone.Header.Del("Authorization")
	creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey, SessionToken: f.session}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(context.Background(), creds, clone, hash, "s3", testRegion, when); err != nil {
		return err
	}
	if want := clone.Header.Get("Authorization"); want != auth {
		return fmt.Errorf("signature mismatch:\n got  %s\n want %s", auth, want)
	}
	return nil
}
