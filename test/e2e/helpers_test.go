package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/minio/crc64nvme"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/coffer-io/coffer/internal/awscreds"
	"github.com/coffer-io/coffer/test/harness"
)

// suite is one running server plus clients bound to its default account.
// Every top-level test builds one and runs its cases as subtests against it.
type suite struct {
	t   *testing.T
	srv *harness.Server
	// hc trusts the server's CA and carries no credentials: the transport
	// of every client below, and the client for raw (anonymous) requests.
	hc *http.Client
	// s3 is an aws-sdk-go-v2 client using path-style addressing and the
	// SDK's default request/response checksum behaviour.
	s3 *s3.Client
}

func newSuite(t *testing.T, opts ...harness.Option) *suite {
	t.Helper()
	srv := harness.Start(t, opts...)
	s := &suite{t: t, srv: srv, hc: srv.HTTPClient()}
	s.s3 = s.client(srv.AccessKey, srv.SecretKey)
	return s
}

// client returns an SDK client for the given credentials. Retries are off:
// the suite asserts what the server answers, and a retry would hide a
// first answer that was wrong.
func (s *suite) client(accessKey, secretKey string, optFns ...func(*s3.Options)) *s3.Client {
	o := s3.Options{
		Region:           s.srv.Region,
		BaseEndpoint:     aws.String(s.srv.Endpoint),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		HTTPClient:       s.hc,
		RetryMaxAttempts: 1,
	}
	for _, f := range optFns {
		f(&o)
	}
	return s3.New(o)
}

// minio returns a minio-go client (path style) for the given credentials.
func (s *suite) minio(accessKey, secretKey string) *minio.Client {
	s.t.Helper()
	mc, err := minio.New(s.srv.Addr, &minio.Options{
		Creds:        miniocreds.NewStaticV4(accessKey, secretKey, ""),
		Secure:       true,
		Transport:    s.hc.Transport,
		Region:       s.srv.Region,
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   1,
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return mc
}

// createAccount creates a second account through the admin CLI against the
// running server and returns its root credentials.
func (s *suite) createAccount(name string) (accessKey, secretKey string) {
	s.t.Helper()
	out := s.srv.Run(s.t.Context(), harness.Binary(s.t), "admin", "account", "create", name,
		"--endpoint", s.srv.Endpoint, "--ca-bundle", s.srv.CAFile)
	return parseCredentials(s.t, out)
}

// parseCredentials reads the credentials-file section that
// `coffer admin account create` prints.
func parseCredentials(t testing.TB, out string) (accessKey, secretKey string) {
	t.Helper()
	first, _, _ := strings.Cut(out, "\n")
	profile := strings.Trim(strings.TrimSpace(first), "[]")
	ak, sk, _, err := awscreds.Parse([]byte(out), profile)
	if err != nil {
		t.Fatalf("admin account create printed no credentials (%v):\n%s", err, out)
	}
	return ak, sk
}

// mkBucket creates a bucket with the default account.
func (s *suite) mkBucket(t testing.TB, name string) string {
	t.Helper()
	if _, err := s.s3.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
	return name
}

// put stores body under bucket/key and fails the test on error.
func (s *suite) put(t testing.TB, bucket, key string, body []byte, optFns ...func(*s3.PutObjectInput)) *s3.PutObjectOutput {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}
	for _, f := range optFns {
		f(in)
	}
	out, err := s.s3.PutObject(t.Context(), in)
	if err != nil {
		t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
	}
	return out
}

// get reads a whole object and fails the test on error.
func (s *suite) get(t testing.TB, bucket, key string, optFns ...func(*s3.GetObjectInput)) ([]byte, *s3.GetObjectOutput) {
	t.Helper()
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	for _, f := range optFns {
		f(in)
	}
	out, err := s.s3.GetObject(t.Context(), in)
	if err != nil {
		t.Fatalf("GetObject %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("GetObject %s/%s body: %v", bucket, key, err)
	}
	return b, out
}

// wantErr asserts that err is an S3 error with the given code and status.
// For HEAD requests the SDK derives the code from the status (no body).
func wantErr(t testing.TB, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("request succeeded; want %s (%d)", code, status)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error; want %s (%d)", err, code, status)
	}
	var re *awshttp.ResponseError
	got := 0
	if errors.As(err, &re) {
		got = re.HTTPStatusCode()
	}
	if ae.ErrorCode() != code || got != status {
		t.Fatalf("got %s (%d): %v; want %s (%d)", ae.ErrorCode(), got, err, code, status)
	}
}

// wantMinioErr is wantErr for minio-go errors.
func wantMinioErr(t testing.TB, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("request succeeded; want %s (%d)", code, status)
	}
	r := minio.ToErrorResponse(err)
	if r.Code != code || r.StatusCode != status {
		t.Fatalf("got %s (%d): %v; want %s (%d)", r.Code, r.StatusCode, err, code, status)
	}
}

func mustOK(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// s3Error is the body of an S3 error response.
type s3Error struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// do sends a raw request (no SDK) and returns the status, the parsed error
// code (empty for success) and the body.
func (s *suite) do(t testing.TB, req *http.Request) (*http.Response, string, []byte) {
	t.Helper()
	resp, err := s.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var e s3Error
	if resp.StatusCode >= 300 && len(body) > 0 {
		if err := xml.Unmarshal(body, &e); err != nil {
			t.Fatalf("status %d with a body that is not an S3 error: %q", resp.StatusCode, body)
		}
	}
	return resp, e.Code, body
}

// rawRequest builds a request for the raw client.
func rawRequest(t testing.TB, ctx context.Context, method, url string, body []byte) *http.Request {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// data returns n deterministic pseudo-random bytes; seed tells cases apart.
func data(n int, seed uint64) []byte {
	b := make([]byte, n)
	newStream(seed).Read(b)
	return b
}

// stream is an endless deterministic pseudo-random byte source, for
// uploads too large to build in memory.
type stream struct{ c *rand.ChaCha8 }

func newStream(seed uint64) *stream {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return &stream{c: rand.NewChaCha8(s)}
}

func (s *stream) Read(p []byte) (int, error) { return s.c.Read(p) }

// md5Hex is the hex MD5 of b; a single-part S3 ETag is it in quotes.
func md5Hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

func md5B64(b []byte) string { s := md5.Sum(b); return base64.StdEncoding.EncodeToString(s[:]) }

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func quoted(s string) string { return `"` + s + `"` }

// newHash returns a hash computing the S3 additional checksum alg. The
// suite computes every expected checksum itself rather than trusting what
// the SDK sent or the server answered.
func newHash(alg types.ChecksumAlgorithm) hash.Hash {
	switch alg {
	case types.ChecksumAlgorithmCrc32:
		return crc32.NewIEEE()
	case types.ChecksumAlgorithmCrc32c:
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case types.ChecksumAlgorithmCrc64nvme:
		return crc64nvme.New()
	case types.ChecksumAlgorithmSha1:
		return sha1.New()
	case types.ChecksumAlgorithmSha256:
		return sha256.New()
	}
	panic("unknown checksum algorithm " + string(alg))
}

// checksumOf is the base64 checksum of b, as S3 headers carry it.
func checksumOf(alg types.ChecksumAlgorithm, b []byte) string {
	h := newHash(alg)
	h.Write(b)
	return b64(h.Sum(nil))
}

// putMany stores a small object under each key, several at a time.
func (s *suite) putMany(t testing.TB, bucket string, keys []string) {
	t.Helper()
	const workers = 32
	work := make(chan string)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				_, err := s.s3.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader(k)})
				if err != nil {
					errs <- fmt.Errorf("PutObject %s: %w", k, err)
					return
				}
			}
		}()
	}
	for _, k := range keys {
		select {
		case work <- k:
		case err := <-errs:
			close(work)
			wg.Wait()
			t.Fatal(err)
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
}
