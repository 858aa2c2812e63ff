package sigv4

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The credentials and time of every AWS documentation example.
const (
	exampleAKID   = "AKIAIOSFODNN7EXAMPLE"
	exampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

var exampleTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

// fromHTTP converts a server-side *http.Request the way the package
// documentation tells callers to.
func fromHTTP(r *http.Request) *Request {
	return &Request{
		Method:      r.Method,
		Host:        r.Host,
		EscapedPath: r.URL.EscapedPath(),
		RawQuery:    r.URL.RawQuery,
		Header:      r.Header,
	}
}

// rawRequest builds a Request as a server would see this request line and
// header block.
func rawRequest(method, host, target string, headers ...string) *Request {
	path, query, _ := strings.Cut(target, "?")
	r := &Request{Method: method, Host: host, EscapedPath: path, RawQuery: query, Header: http.Header{}}
	for i := 0; i+1 < len(headers); i += 2 {
		http.Header(r.Header).Add(headers[i], headers[i+1])
	}
	return r
}

func (r *Request) clone() *Request {
	c := *r
	c.Header = http.Header(r.Header).Clone()
	return &c
}

// errCode returns the S3 code of err ("" when err is nil, "?" when it is not
// an *Error).
func errCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return "?"
}

func mustVerify(t *testing.T, r *Request, secret string, now time.Time) (*Auth, *Verified) {
	t.Helper()
	a, err := Parse(r)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	v, err := Verify(r, a, secret, now)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			t.Fatalf("Verify: %v\ncanonical request:\n%s", err, e.Field("CanonicalRequest"))
		}
		t.Fatalf("Verify: %v", err)
	}
	return a, v
}

func parseAndVerify(r *Request, secret string, now time.Time) (*Verified, error) {
	a, err := Parse(r)
	if err != nil {
		return nil, err
	}
	return Verify(r, a, secret, now)
}

// testVerified builds the Verified a signed aws-chunked body chains from.
func testVerified(secret string, t time.Time, region, seed string) *Verified {
	s := Scope{Date: t.Format(yyyymmdd), Region: region, Service: "s3", Terminal: Terminal}
	return &Verified{
		AccessKeyID: exampleAKID,
		Scope:       s,
		ScopeString: s.String(),
		Timestamp:   t.Format(iso8601Basic),
		Date:        t,
		SigningKey:  SigningKey(secret, s.Date, region, "s3"),
		Seed:        seed,
	}
}

// encoder builds aws-chunked bodies for tests, independently of the reader.
type encoder struct {
	v       *Verified // nil: unsigned chunks
	prevSig string
}

func (e *encoder) sign(sts string) string {
	m := hmac.New(sha256.New, e.v.SigningKey)
	m.Write([]byte(sts))
	return hex.EncodeToString(m.Sum(nil))
}

func (e *encoder) chunkSig(data []byte) string {
	h := sha256.Sum256(data)
	sig := e.sign("AWS4-HMAC-SHA256-PAYLOAD\n" + e.v.Timestamp + "\n" + e.v.ScopeString + "\n" +
		e.prevSig + "\n" + EmptySHA256 + "\n" + hex.EncodeToString(h[:]))
	e.prevSig = sig
	return sig
}

// chunk appends one chunk (possibly the final, empty one) to b.
func (e *encoder) chunk(b *bytes.Buffer, data []byte, final bool) {
	if e.v != nil {
		fmt.Fprintf(b, "%x;chunk-signature=%s\r\n", len(data), e.chunkSig(data))
	} else {
		fmt.Fprintf(b, "%x\r\n", len(data))
	}
	b.Write(data)
	if !final {
		b.WriteString("\r\n")
	}
}

// trailer appends the trailer section; names/values alternate in kv.
func (e *encoder) trailer(b *bytes.Buffer, kv ...string) {
	var canon strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(b, "%s:%s\r\n", kv[i], kv[i+1])
		canon.WriteString(kv[i] + ":" + kv[i+1] + "\n")
	}
	if e.v != nil {
		h := sha256.Sum256([]byte(canon.String()))
		sig := e.sign("AWS4-HMAC-SHA256-TRAILER\n" + e.v.Timestamp + "\n" + e.v.ScopeString + "\n" +
			e.prevSig + "\n" + hex.EncodeToString(h[:]))
		fmt.Fprintf(b, "x-amz-trailer-signature:%s\r\n", sig)
	}
	b.WriteString("\r\n")
}

// encode chunks data into sizes (the last size repeats) and terminates the
// body, with a trailer section when trailers is non-nil.
func (e *encoder) encode(data []byte, size int, trailers []string) []byte {
	var b bytes.Buffer
	for len(data) > 0 {
		n := min(size, len(data))
		e.chunk(&b, data[:n], false)
		data = data[n:]
	}
	e.chunk(&b, nil, true)
	if trailers != nil {
		e.trailer(&b, trailers...)
	} else {
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

func newEncoder(v *Verified) *encoder {
	e := &encoder{v: v}
	if v != nil {
		e.prevSig = v.Seed
	}
	return e
}
