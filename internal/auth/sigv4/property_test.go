package sigv4

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/signer"
)

// Property: random requests signed by an oracle verify, and changing any
// single byte of a signed element makes verification fail.

var keyAlphabet = []string{
	"a", "b", "z", "A", "Q", "0", "7", "-", "_", ".", "~", "/", "/",
	" ", "!", "*", "'", "(", ")", ";", ":", "@", "&", "=", "+", "$", ",", "?", "#", "[", "]", "%",
	"ü", "é", "日本", "ключ", "😀",
}

func randString(r *rand.Rand, alphabet []string, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

func randLetters(r *rand.Rand, n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return string(b)
}

// randHeaderValue has inner runs of spaces, which canonicalization collapses.
func randHeaderValue(r *rand.Rand) string {
	parts := make([]string, 1+r.IntN(4))
	for i := range parts {
		parts[i] = randLetters(r, 1+r.IntN(8)) + strings.Repeat("/=+,;", r.IntN(2))
	}
	return strings.Join(parts, strings.Repeat(" ", 1+r.IntN(3)))
}

type randomRequest struct {
	method  string
	key     string
	query   url.Values
	headers http.Header
	body    string
	hash    string
}

func genRequest(r *rand.Rand, minioSafeQuery bool) randomRequest {
	methods := []string{"GET", "PUT", "POST", "DELETE", "HEAD"}
	rr := randomRequest{
		method:  methods[r.IntN(len(methods))],
		key:     randString(r, keyAlphabet, r.IntN(24)),
		query:   url.Values{},
		headers: http.Header{},
	}
	for range r.IntN(4) {
		k := randLetters(r, 1+r.IntN(6))
		if !minioSafeQuery && r.IntN(3) == 0 {
			k += randString(r, keyAlphabet, 1+r.IntN(3))
		}
		if minioSafeQuery {
			rr.query.Set(k, randString(r, keyAlphabet, r.IntN(8)))
		} else {
			rr.query.Add(k, randString(r, keyAlphabet, r.IntN(8)))
		}
	}
	for range r.IntN(4) {
		rr.headers.Add("X-Amz-Meta-"+randLetters(r, 1+r.IntN(6)), randHeaderValue(r))
	}
	if r.IntN(2) == 0 {
		rr.headers.Set("Content-Type", randHeaderValue(r))
	}
	if rr.method == "PUT" || rr.method == "POST" {
		rr.body = randString(r, keyAlphabet, r.IntN(200))
	}
	rr.hash = HashHex([]byte(rr.body))
	if r.IntN(4) == 0 {
		rr.hash = UnsignedPayload
	}
	return rr
}

func (rr randomRequest) httpRequest(t *testing.T, base string) *http.Request {
	req, err := http.NewRequest(rr.method, base+"/bucket/x", strings.NewReader(rr.body))
	if err != nil {
		t.Fatal(err)
	}
	if rr.body == "" {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	req.URL.Path, req.URL.RawPath = "/bucket/"+rr.key, ""
	req.URL.RawQuery = rr.query.Encode()
	for k, v := range rr.headers {
		req.Header[k] = append([]string(nil), v...)
	}
	return req
}

// signers maps an oracle name to a function producing the request to send.
var propertySigners = map[string]func(t *testing.T, rr randomRequest, base string, now time.Time) *http.Request{
	"sdk-header": func(t *testing.T, rr randomRequest, base string, now time.Time) *http.Request {
		req := rr.httpRequest(t, base)
		req.URL.RawPath = "/bucket/" + escapeS3Key(rr.key)
		req.Header.Set("X-Amz-Content-Sha256", rr.hash)
		if err := sdkSigner().SignHTTP(context.Background(), sdkCreds, req, rr.hash, "s3", oracleRegion, now); err != nil {
			t.Fatal(err)
		}
		return req
	},
	"sdk-presign": func(t *testing.T, rr randomRequest, base string, now time.Time) *http.Request {
		req := rr.httpRequest(t, base)
		req.URL.RawPath = "/bucket/" + escapeS3Key(rr.key)
		q := req.URL.Query()
		q.Set("X-Amz-Expires", "600")
		req.URL.RawQuery = q.Encode()
		u, hdr, err := sdkSigner().PresignHTTP(context.Background(), sdkCreds, req, UnsignedPayload, "s3", oracleRegion, now)
		if err != nil {
			t.Fatal(err)
		}
		use, err := http.NewRequest(rr.method, u, strings.NewReader(rr.body))
		if err != nil {
			t.Fatal(err)
		}
		if rr.body == "" {
			use.Body, use.ContentLength = http.NoBody, 0
		}
		for k, v := range hdr {
			if k != "Host" {
				use.Header[k] = v
			}
		}
		return use
	},
	"minio-header": func(t *testing.T, rr randomRequest, base string, now time.Time) *http.Request {
		req := rr.httpRequest(t, base)
		req.Header.Set("X-Amz-Content-Sha256", rr.hash)
		return signer.SignV4(*req, oracleAKID, oracleSecret, "", oracleRegion)
	},
	"minio-presign": func(t *testing.T, rr randomRequest, base string, now time.Time) *http.Request {
		req := rr.httpRequest(t, base)
		return signer.PreSignV4(*req, oracleAKID, oracleSecret, "", oracleRegion, 600)
	},
}

func escapeS3Key(key string) string {
	var b strings.Builder
	uriEncode(&b, key, true)
	return b.String()
}

// mutation changes one byte of one signed element of a captured request.
type mutation struct {
	name  string
	apply func(*Request) bool // false: nothing to mutate
	// exact: the mutation keeps every field well-formed, so the only
	// possible outcome is SignatureDoesNotMatch.
	exact bool
}

// flipAlnum replaces one ASCII letter or digit of s (outside %XX escapes)
// with a different one.
func flipAlnum(r *rand.Rand, s string) (string, bool) {
	var pos []int
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			i += 2
			continue
		}
		if c := s[i]; 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			pos = append(pos, i)
		}
	}
	if len(pos) == 0 {
		return s, false
	}
	i := pos[r.IntN(len(pos))]
	repl := byte('x')
	switch {
	case s[i] >= '0' && s[i] <= '9':
		repl = '0' + (s[i]-'0'+1+byte(r.IntN(8)))%10
	case s[i] == 'x':
		repl = 'y'
	}
	return s[:i] + string(repl) + s[i+1:], true
}

func mutations(r *rand.Rand, a *Auth, req *Request) []mutation {
	ms := []mutation{
		{"method", func(q *Request) bool { q.Method = strings.ToLower(q.Method[:1]) + q.Method[1:]; return true }, true},
		{"path", func(q *Request) bool { var ok bool; q.EscapedPath, ok = flipAlnum(r, q.EscapedPath); return ok }, true},
	}
	// Query parameters, one by one. Changing an X-Amz-* parameter of a
	// presigned URL may also make it fail to parse, or expire.
	for i, part := range strings.Split(req.RawQuery, "&") {
		p := parseQuery(part)
		exact := len(p) == 1 && !strings.HasPrefix(p[0].key, "X-Amz-")
		ms = append(ms, mutation{"query " + part, func(q *Request) bool {
			parts := strings.Split(q.RawQuery, "&")
			var ok bool
			parts[i], ok = flipAlnum(r, parts[i])
			q.RawQuery = strings.Join(parts, "&")
			return ok
		}, exact})
	}
	for _, h := range a.SignedHeaders {
		h := h
		exact := h != "x-amz-date" && h != "x-amz-content-sha256" && h != "authorization"
		ms = append(ms, mutation{"header " + h, func(q *Request) bool {
			if h == "host" {
				var ok bool
				q.Host, ok = flipAlnum(r, q.Host)
				return ok
			}
			vs := headerValues(q.Header, h)
			if len(vs) == 0 {
				return false
			}
			j := r.IntN(len(vs))
			v, ok := flipAlnum(r, vs[j])
			nv := append([]string(nil), vs...)
			nv[j] = v
			q.Header[http.CanonicalHeaderKey(h)] = nv
			return ok
		}, exact})
	}
	if a.Kind == HeaderAuth {
		ms = append(ms, mutation{"signature", func(q *Request) bool {
			authz := q.Header["Authorization"][0]
			i := strings.LastIndex(authz, "Signature=") + len("Signature=")
			sig, ok := flipAlnum(r, authz[i:])
			q.Header["Authorization"] = []string{authz[:i] + sig}
			return ok
		}, true}, mutation{"credential scope", func(q *Request) bool {
			// The access key id itself is not signed: a different one means a
			// different secret, i.e. InvalidAccessKeyId or a mismatch.
			authz := q.Header["Authorization"][0]
			i := strings.Index(authz, "Credential=")
			i += strings.Index(authz[i:], "/")
			j := strings.Index(authz, ",")
			cred, ok := flipAlnum(r, authz[i:j])
			q.Header["Authorization"] = []string{authz[:i] + cred + authz[j:]}
			return ok
		}, false})
	}
	return ms
}

var acceptableCodes = map[string]bool{
	"SignatureDoesNotMatch":             true,
	"AuthorizationHeaderMalformed":      true,
	"AuthorizationQueryParametersError": true,
	"AccessDenied":                      true, // unparsable date, expired, headers not signed
	"RequestTimeTooSkewed":              true,
	"InvalidArgument":                   true, // x-amz-content-sha256 no longer valid
	"InvalidRequest":                    true,
}

func TestPropertyOracleSignedVerifiesAndMutationsFail(t *testing.T) {
	cs := newCaptureServer(t)
	r := rand.New(rand.NewPCG(20130524, 1))
	iterations := 120
	if testing.Short() {
		iterations = 20
	}
	names := []string{"sdk-header", "sdk-presign", "minio-header", "minio-presign"}
	tried := 0
	for i := range iterations {
		name := names[i%len(names)]
		rr := genRequest(r, strings.HasPrefix(name, "minio"))
		now := time.Now().Truncate(time.Second)
		c := cs.send(t, propertySigners[name](t, rr, cs.URL, now))

		a, err := Parse(c.req)
		if err != nil {
			t.Fatalf("%s %q: Parse: %v", name, rr.key, err)
		}
		if _, err := Verify(c.req, a, oracleSecret, now); err != nil {
			e := &Error{}
			errors.As(err, &e)
			t.Fatalf("%s %s %q ?%s: %v\ncanonical request:\n%s", name, rr.method, rr.key, rr.query.Encode(), err, e.Field("CanonicalRequest"))
		}
		for _, m := range mutations(r, a, c.req) {
			q := c.req.clone()
			if !m.apply(q) {
				continue
			}
			tried++
			_, err := parseAndVerify(q, oracleSecret, now)
			code := errCode(err)
			switch {
			case err == nil:
				t.Fatalf("%s: mutated %s still verifies: %+v", name, m.name, q)
			case m.exact && code != "SignatureDoesNotMatch":
				t.Fatalf("%s: mutated %s: %v, want SignatureDoesNotMatch", name, m.name, err)
			case !acceptableCodes[code]:
				t.Fatalf("%s: mutated %s: unexpected %v", name, m.name, err)
			}
		}
	}
	t.Logf("%d requests verified, %d single-byte mutations rejected", iterations, tried)
}

func TestPropertyFlipAlnum(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, s := range []string{"a", "%41b", "9", "x"} {
		got, ok := flipAlnum(r, s)
		if !ok || got == s {
			t.Errorf("flipAlnum(%q) = %q, %v", s, got, ok)
		}
	}
	if _, ok := flipAlnum(r, "%2F/"); ok {
		t.Error("flipAlnum must not touch escapes")
	}
}
