package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/encoding/httpbinding"
	"github.com/minio/minio-go/v7/pkg/signer"
)

// Requests signed by independent client implementations (the AWS SDK for
// Go v2 signer and minio-go's signer) travel through a real net/http server;
// the handler captures what a Coffer handler would see.

const (
	oracleAKID   = "AKIAORACLEEXAMPLE"
	oracleSecret = "oracle/secret+key/with/slashes"
	oracleRegion = "eu-west-3"
)

type captured struct {
	req  *Request
	body []byte
}

type captureServer struct {
	*httptest.Server
	mu  sync.Mutex
	got []captured
}

func newCaptureServer(t *testing.T) *captureServer { return newCaptureServerTLS(t, false) }

func newCaptureServerTLS(t *testing.T, useTLS bool) *captureServer {
	cs := &captureServer{}
	cs.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		req := fromHTTP(r).clone()
		cs.mu.Lock()
		cs.got = append(cs.got, captured{req, body})
		cs.mu.Unlock()
	}))
	if useTLS {
		cs.StartTLS()
	} else {
		cs.Start()
	}
	t.Cleanup(cs.Close)
	return cs
}

// send performs req and returns what the server received.
func (cs *captureServer) send(t *testing.T, req *http.Request) captured {
	t.Helper()
	resp, err := cs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("server: %s", resp.Status)
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c := cs.got[len(cs.got)-1]
	return c
}

// verifyCaptured runs the whole server pipeline on a captured request and
// returns the decoded body.
func verifyCaptured(t *testing.T, c captured, now time.Time) ([]byte, *ChunkedReader) {
	t.Helper()
	a, err := Parse(c.req)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if err := a.CheckScope(oracleRegion, "s3"); err != nil {
		t.Fatal(err)
	}
	v, err := Verify(c.req, a, oracleSecret, now)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			t.Fatalf("Verify: %v\ncanonical request:\n%s", err, e.Field("CanonicalRequest"))
		}
		t.Fatalf("Verify: %v", err)
	}
	rd, err := NewBodyReader(bytes.NewReader(c.body), a, v, c.req.Header)
	if err != nil {
		t.Fatalf("NewBodyReader: %v", err)
	}
	out, err := io.ReadAll(rd)
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	cr, _ := rd.(*ChunkedReader)
	return out, cr
}

func sdkSigner() *v4.Signer {
	// The S3 client escapes the key itself and turns the signer's escaping off.
	return v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
}

var sdkCreds = aws.Credentials{AccessKeyID: oracleAKID, SecretAccessKey: oracleSecret}

// s3URL builds the URL the S3 client would: the key escaped with the SDK's
// own path escaper.
func s3URL(base, key, rawQuery string) string {
	u := base + "/bucket/" + httpbinding.EscapePath(key, false)
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	return u
}

func TestOracleSDKHeader(t *testing.T) {
	cs := newCaptureServer(t)
	tests := []struct {
		name, method, key, query string
		headers                  map[string]string
		body                     string
		unsigned                 bool
	}{
		{name: "get", method: "GET", key: "a/b.txt"},
		{name: "put with body", method: "PUT", key: "dir/obj", body: "hello, world", headers: map[string]string{"Content-Type": "text/plain", "X-Amz-Meta-Owner": "  spaced   out  value "}},
		{name: "unsigned payload", method: "PUT", key: "u", body: "data", unsigned: true},
		{name: "reserved characters", method: "GET", key: "a b+c$d&e=f?g#h%i'j(k)l*m,n;o:p@q!r~s", query: "prefix=x%2By&delimiter=%2F&list-type=2"},
		{name: "unicode", method: "GET", key: "ключ/日本語/ü", query: "versionId=%C3%BC"},
		{name: "subresource", method: "GET", key: "", query: "acl"},
		{name: "repeated header", method: "GET", key: "k", headers: map[string]string{"X-Amz-Meta-A": "1"}},
		{name: "session token", method: "DELETE", key: "k", headers: map[string]string{"X-Amz-Security-Token": "FwoGZXIvYXdzEXAMPLE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, s3URL(cs.URL, tt.key, tt.query), strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.body == "" {
				req.Body, req.ContentLength = http.NoBody, 0
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			if tt.name == "repeated header" {
				req.Header.Add("X-Amz-Meta-A", "2")
			}
			hash := HashHex([]byte(tt.body))
			if tt.unsigned {
				hash = UnsignedPayload
			}
			req.Header.Set("X-Amz-Content-Sha256", hash)
			if err := sdkSigner().SignHTTP(context.Background(), sdkCreds, req, hash, "s3", oracleRegion, time.Now()); err != nil {
				t.Fatal(err)
			}
			c := cs.send(t, req)
			got, _ := verifyCaptured(t, c, time.Now())
			if string(got) != tt.body {
				t.Fatalf("body %q", got)
			}
		})
	}
}

func TestOracleSDKPresign(t *testing.T) {
	cs := newCaptureServer(t)
	tests := []struct {
		name, method, key, query string
		headers                  map[string]string
		token                    string
	}{
		{name: "get", method: "GET", key: "photos/2024/img.jpg"},
		{name: "put", method: "PUT", key: "up load+me", headers: map[string]string{"Content-Type": "image/png"}},
		{name: "hoisted and signed headers", method: "PUT", key: "k", headers: map[string]string{"X-Amz-Meta-Color": "blue", "X-Amz-Acl": "private", "X-Amz-Request-Payer": "requester"}},
		{name: "query and token", method: "GET", key: "ü", query: "response-content-type=text%2Fplain&versionId=3", token: "session/token=="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, s3URL(cs.URL, tt.key, tt.query), nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			q := req.URL.Query()
			q.Set("X-Amz-Expires", "900")
			req.URL.RawQuery = q.Encode()
			creds := sdkCreds
			creds.SessionToken = tt.token
			u, signedHdr, err := sdkSigner().PresignHTTP(context.Background(), creds, req, UnsignedPayload, "s3", oracleRegion, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			use, err := http.NewRequest(tt.method, u, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range signedHdr {
				if k != "Host" {
					use.Header[k] = vs
				}
			}
			c := cs.send(t, use)
			a, _ := mustVerify(t, c.req, oracleSecret, time.Now())
			if a.Kind != PresignedAuth || a.SecurityToken != tt.token || a.Expires != 15*time.Minute {
				t.Fatalf("parsed %+v", a)
			}
		})
	}
}

func TestOracleMinioHeaderAndPresign(t *testing.T) {
	cs := newCaptureServer(t)
	keys := []string{"plain.txt", "a b/c+d", "weird$&=,;:@!*'()chars", "ключ/ü", "tilde~and.dots/../x", "double//slash"}
	for _, key := range keys {
		t.Run(key, func(t *testing.T) {
			body := "payload for " + key
			req, err := http.NewRequest("PUT", cs.URL+"/bucket/x", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			// Let net/http choose the wire encoding of the path; minio-go signs
			// its own encoding of the decoded path.
			req.URL.Path, req.URL.RawPath = "/bucket/"+key, ""
			req.Header.Set("X-Amz-Content-Sha256", HashHex([]byte(body)))
			req.Header.Set("X-Amz-Meta-Key", key)
			signed := signer.SignV4(*req, oracleAKID, oracleSecret, "", oracleRegion)
			c := cs.send(t, signed)
			if got, _ := verifyCaptured(t, c, time.Now()); string(got) != body {
				t.Fatalf("body %q", got)
			}

			get, err := http.NewRequest("GET", cs.URL+"/bucket/x?versionId=7", nil)
			if err != nil {
				t.Fatal(err)
			}
			get.URL.Path, get.URL.RawPath = "/bucket/"+key, ""
			pre := signer.PreSignV4(*get, oracleAKID, oracleSecret, "tok", oracleRegion, 3600)
			c = cs.send(t, pre)
			a, _ := mustVerify(t, c.req, oracleSecret, time.Now())
			if a.Kind != PresignedAuth || a.SecurityToken != "tok" {
				t.Fatalf("parsed %+v", a)
			}
		})
	}
}

type sha256Hasher struct{ hash.Hash }

func (sha256Hasher) Close() {}

func crc32Base64(b []byte) string {
	var sum [4]byte
	c := crc32.ChecksumIEEE(b)
	sum[0], sum[1], sum[2], sum[3] = byte(c>>24), byte(c>>16), byte(c>>8), byte(c)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func TestOracleMinioStreaming(t *testing.T) {
	cs := newCaptureServer(t)
	sizes := []int{1, 8191, 64 * 1024, 64*1024 + 1, 300_000, 3 << 20}
	for _, size := range sizes {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i*7 + i>>9)
		}
		for _, mode := range []string{StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedPayloadTrailer} {
			t.Run(mode+"/"+strconv.Itoa(size), func(t *testing.T) {
				req, err := http.NewRequest("PUT", cs.URL+"/bucket/streamed", bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("X-Amz-Storage-Class", "STANDARD")
				trailer := http.Header{"X-Amz-Checksum-Crc32": {crc32Base64(data)}}
				var signed *http.Request
				switch mode {
				case StreamingPayload:
					signed = signer.StreamingSignV4(req, oracleAKID, oracleSecret, "", oracleRegion, int64(size), time.Now(), sha256Hasher{sha256.New()})
				case StreamingPayloadTrailer:
					req.Trailer = trailer
					signed = signer.StreamingSignV4(req, oracleAKID, oracleSecret, "", oracleRegion, int64(size), time.Now(), sha256Hasher{sha256.New()})
				case StreamingUnsignedPayloadTrailer:
					req.Header.Set("X-Amz-Content-Sha256", StreamingUnsignedPayloadTrailer)
					signed = signer.SignV4Trailer(*req, oracleAKID, oracleSecret, "", oracleRegion, trailer)
				}
				c := cs.send(t, signed)
				if got := c.req.Header["X-Amz-Content-Sha256"]; len(got) != 1 || got[0] != mode {
					t.Fatalf("minio sent x-amz-content-sha256 %v", got)
				}
				got, cr := verifyCaptured(t, c, time.Now())
				if !bytes.Equal(got, data) {
					t.Fatalf("decoded %d bytes, want %d", len(got), len(data))
				}
				if mode != StreamingPayload {
					if tr := cr.Trailers(); tr["x-amz-checksum-crc32"] != crc32Base64(data) {
						t.Fatalf("trailers %v", tr)
					}
				}
			})
		}
	}
}

// The real S3 client, with default checksums: over plain HTTP it signs the
// payload's SHA-256 and sends x-amz-checksum-crc32; over TLS it streams
// aws-chunked with an unsigned CRC32 trailer
// (STREAMING-UNSIGNED-PAYLOAD-TRAILER); with checksums off, TLS requests
// are UNSIGNED-PAYLOAD.
func TestOracleSDKS3Client(t *testing.T) {
	tests := []struct {
		name          string
		tls, stream   bool
		checksums     aws.RequestChecksumCalculation
		wantEncoding  string
		wantAwsChunks bool
	}{
		{"http", false, false, aws.RequestChecksumCalculationWhenSupported, "", false},
		{"https", true, false, aws.RequestChecksumCalculationWhenSupported, StreamingUnsignedPayloadTrailer, true},
		{"https unseekable", true, true, aws.RequestChecksumCalculationWhenSupported, StreamingUnsignedPayloadTrailer, true},
		{"https without checksums", true, false, aws.RequestChecksumCalculationWhenRequired, UnsignedPayload, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := newCaptureServerTLS(t, tt.tls)
			client := s3.New(s3.Options{
				Region:       oracleRegion,
				Credentials:  credentials.NewStaticCredentialsProvider(oracleAKID, oracleSecret, ""),
				BaseEndpoint: aws.String(cs.URL),
				UsePathStyle: true,
				HTTPClient:   cs.Client(),

				RequestChecksumCalculation: tt.checksums,
			})
			data := testData(200_000)
			key := "dir/ключ with spaces+plus$.bin"
			in := &s3.PutObjectInput{
				Bucket:   aws.String("bucket"),
				Key:      aws.String(key),
				Body:     bytes.NewReader(data),
				Metadata: map[string]string{"origin": "sdk  test"},
			}
			if tt.stream {
				in.Body = struct{ io.Reader }{bytes.NewReader(data)} // not seekable
				in.ContentLength = aws.Int64(int64(len(data)))
			}
			_, err := client.PutObject(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			cs.mu.Lock()
			c := cs.got[len(cs.got)-1]
			cs.mu.Unlock()
			got, cr := verifyCaptured(t, c, time.Now())
			if !bytes.Equal(got, data) {
				t.Fatalf("decoded %d bytes", len(got))
			}
			mode := c.req.Header["X-Amz-Content-Sha256"][0]
			if tt.wantEncoding != "" && mode != tt.wantEncoding {
				t.Fatalf("x-amz-content-sha256: %s, want %s", mode, tt.wantEncoding)
			}
			if tt.wantAwsChunks != (cr != nil) {
				t.Fatalf("aws-chunked: %v", cr != nil)
			}
			if cr != nil {
				tr := cr.Trailers()
				if tr["x-amz-checksum-crc32"] != crc32Base64(data) {
					t.Fatalf("trailers %v", tr)
				}
			}
		})
	}
}
