package bench

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	unsignedPayload = "UNSIGNED-PAYLOAD"
	// emptySHA256 is the payload hash of every body-less request.
	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	userAgent   = "coffer-bench"
	// errBodyLimit caps how much of an error response is read for its Code.
	errBodyLimit = 4 << 10
)

// client issues signed path-style S3 requests over one shared transport.
type client struct {
	http      *http.Client
	transport *http.Transport
	scheme    string
	host      string
	region    string
	creds     aws.Credentials

	// Path bases, decoded and S3-escaped; a key is base + zero-padded index.
	bucketPath, bucketRaw string
	keyBase, keyBaseRaw   string
}

func newClient(s *settings) (*client, error) {
	tlsConf := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: s.Insecure, //nolint:gosec // explicit opt-in for self-signed test servers
		ClientSessionCache: tls.NewLRUClientSessionCache(s.Concurrency),
	}
	if s.CAFile != "" && !s.Insecure {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificates found", s.CAFile)
		}
		tlsConf.RootCAs = pool
	}
	tr := &http.Transport{
		// No proxy: a benchmark must talk to the server directly, whatever
		// the environment says.
		Proxy: nil,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSClientConfig:     tlsConf,
		TLSHandshakeTimeout: 10 * time.Second,
		// One idle connection per worker, so every worker reuses its own
		// connection instead of re-dialing under load.
		MaxIdleConns:        s.Concurrency,
		MaxIdleConnsPerHost: s.Concurrency,
		IdleConnTimeout:     90 * time.Second,
		// A hung server turns into counted errors rather than a stuck run.
		ResponseHeaderTimeout: 60 * time.Second,
		// Ask for raw bytes: transparent gzip would distort MiB/s.
		DisableCompression: true,
		// Larger buffers cut syscalls for big objects (default is 4 KiB).
		WriteBufferSize: 64 << 10,
		ReadBufferSize:  64 << 10,
		// HTTP/1.1 only (no ForceAttemptHTTP2): S3 clients open one
		// connection per in-flight request, and that is what we model.
	}
	c := &client{
		http: &http.Client{
			Transport: tr,
			// S3 never redirects path-style requests on a correct endpoint;
			// surface a redirect as an error status instead of following it.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		transport: tr,
		scheme:    s.scheme,
		host:      s.host,
		region:    s.Region,
		creds: aws.Credentials{
			AccessKeyID:     s.AccessKey,
			SecretAccessKey: s.SecretKey,
			SessionToken:    s.SessionToken,
			Source:          "coffer-bench",
		},
		bucketPath: "/" + s.Bucket,
		bucketRaw:  "/" + s3Escape(s.Bucket),
	}
	c.keyBase = c.bucketPath + "/" + s.Prefix
	c.keyBaseRaw = c.bucketRaw + "/" + s3Escape(s.Prefix)
	return c, nil
}

func (c *client) close() { c.transport.CloseIdleConnections() }

// newSigner returns a SigV4 signer for one worker. S3 canonical URIs are the
// request path escaped once, which we already do, hence no re-escaping.
// Each worker has its own so the signing-key cache is not shared.
func newSigner() *v4.Signer {
	return v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
}

// keyName returns the object key for index i: Prefix + zero-padded i.
func keyName(prefix string, i int) string {
	return prefix + padIndex(i)
}

func padIndex(i int) string {
	var b [keyDigits]byte
	for p := keyDigits - 1; p >= 0; p-- {
		b[p] = byte('0' + i%10)
		i /= 10
	}
	return string(b[:])
}

// objectPath returns the decoded and the escaped request path of key i.
func (c *client) objectPath(i int) (path, raw string) {
	idx := padIndex(i)
	return c.keyBase + idx, c.keyBaseRaw + idx
}

// s3Escape percent-encodes s the way S3 canonical URIs expect: everything
// except unreserved characters and '/'. Sending exactly this form (via
// URL.RawPath) keeps the wire path and the signed path identical.
func s3Escape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if isUnreserved(ch) || ch == '/' {
			if b.Len() > 0 {
				b.WriteByte(ch)
			}
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(s) + 16)
			b.WriteString(s[:i])
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[ch>>4])
		b.WriteByte(hexDigits[ch&15])
	}
	if b.Len() == 0 {
		return s
	}
	return b.String()
}

func isUnreserved(ch byte) bool {
	return 'A' <= ch && ch <= 'Z' || 'a' <= ch && ch <= 'z' || '0' <= ch && ch <= '9' ||
		ch == '-' || ch == '_' || ch == '.' || ch == '~'
}

// request describes one S3 call.
type request struct {
	method      string
	path, raw   string // decoded and escaped path
	query       string // already encoded
	body        []byte // nil for body-less requests; never copied
	payloadHash string // x-amz-content-sha256 value
}

// newRequest builds and signs req. The body is wrapped in a bytes.Reader over
// the shared buffer, so no payload bytes are allocated per request.
func (c *client) newRequest(ctx context.Context, signer *v4.Signer, r request) (*http.Request, error) {
	var body io.Reader
	if len(r.body) > 0 {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.scheme+"://"+c.host, body)
	if err != nil {
		return nil, err
	}
	req.URL.Path = r.path
	if r.raw != r.path {
		req.URL.RawPath = r.raw
	}
	req.URL.RawQuery = r.query
	hash := r.payloadHash
	if hash == "" {
		hash = emptySHA256
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if err := signer.SignHTTP(ctx, c.creds, req, hash, "s3", c.region, time.Now()); err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	return req, nil
}

// failure describes why an operation failed; status is 0 for transport
// errors, in which case code holds the error text.
type failure struct {
	status int
	code   string
}

func (f *failure) Error() string {
	if f.status == 0 {
		return f.code
	}
	if f.code == "" {
		return fmt.Sprintf("HTTP %d", f.status)
	}
	return fmt.Sprintf("HTTP %d %s", f.status, f.code)
}

// do sends a signed request, drains the response and checks its status.
// It returns the number of response body bytes read and the time from
// sending the request to having read the whole response (signing excluded).
func (c *client) do(ctx context.Context, signer *v4.Signer, r request, okStatus ...int) (n int64, lat time.Duration, err error) {
	req, err := c.newRequest(ctx, signer, r)
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, time.Since(start), &failure{code: transportError(err)}
	}
	defer resp.Body.Close()
	if !statusIn(resp.StatusCode, okStatus) {
		code := errorCode(resp.Body)
		_, _ = io.Copy(io.Discard, resp.Body) // keep the connection reusable
		return 0, time.Since(start), &failure{status: resp.StatusCode, code: code}
	}
	n, err = io.Copy(io.Discard, resp.Body)
	lat = time.Since(start)
	if err != nil {
		return n, lat, &failure{code: "reading body: " + transportError(err)}
	}
	return n, lat, nil
}

func statusIn(code int, ok []int) bool {
	for _, c := range ok {
		if c == code {
			return true
		}
	}
	return false
}

// errorCode extracts <Code> from an S3 XML error body, if there is one.
func errorCode(body io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(body, errBodyLimit))
	_, rest, ok := bytes.Cut(b, []byte("<Code>"))
	if !ok {
		return ""
	}
	code, _, ok := bytes.Cut(rest, []byte("</Code>"))
	if !ok {
		return ""
	}
	return string(bytes.TrimSpace(code))
}

// transportError strips the method and URL that url.Error adds, so errors
// from different keys collapse into one error sample.
func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// payloads holds the pre-generated request bodies. They are overlapping
// windows of one random buffer, so several distinct bodies cost little
// memory, and a server cannot serve every PUT from one deduplicated block.
type payloads struct {
	bodies [][]byte
	hashes []string // x-amz-content-sha256 per body
}

const (
	maxBodyVariants = 8
	variantStride   = 4099      // not block aligned, so shifted bodies share no aligned blocks
	maxHashedBytes  = 256 << 20 // bounds up-front hashing in signed mode
)

func newPayloads(size int64, signed bool) (*payloads, error) {
	variants := int64(maxBodyVariants)
	if size > 0 {
		variants = min(variants, max(1, maxHashedBytes/size))
	}
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		return nil, err
	}
	buf := make([]byte, size+(variants-1)*variantStride)
	// ChaCha8 fills gigabytes quickly and the data is incompressible.
	_, _ = mrand.NewChaCha8(seed).Read(buf)

	p := &payloads{}
	for v := range variants {
		body := buf[v*variantStride : v*variantStride+size : v*variantStride+size]
		hash := unsignedPayload
		if signed {
			sum := sha256.Sum256(body)
			hash = hex.EncodeToString(sum[:])
		}
		p.bodies = append(p.bodies, body)
		p.hashes = append(p.hashes, hash)
	}
	return p, nil
}

// bodyHash returns the payload hash for a small control-request body.
func bodyHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
