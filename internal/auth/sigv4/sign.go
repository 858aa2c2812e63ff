package sigv4

import (
	"encoding/hex"
	"net/textproto"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ignoredSigningHeaders are the headers client signers leave out, because
// proxies and HTTP libraries add or rewrite them.
var ignoredSigningHeaders = map[string]bool{
	"authorization":     true,
	"user-agent":        true,
	"x-amzn-trace-id":   true,
	"expect":            true,
	"transfer-encoding": true,
}

func clientSignedHeaders(r *Request) []string {
	names := []string{"host"}
	for k := range r.Header {
		lk := strings.ToLower(k)
		if lk == "host" || ignoredSigningHeaders[lk] {
			continue
		}
		names = append(names, lk)
	}
	sort.Strings(names)
	// Header maps with differently-cased duplicate keys would repeat a name.
	out := names[:0]
	for i, n := range names {
		if i == 0 || n != names[i-1] {
			out = append(out, n)
		}
	}
	return out
}

// SignRequest signs r in place the way SDK clients do, for the server's own
// outgoing requests and the load generator. It sets X-Amz-Date,
// X-Amz-Content-Sha256 (S3 only; payloadHash "" means UnsignedPayload for S3
// and EmptySHA256 elsewhere) and Authorization, signing host and every other
// header present except Authorization, User-Agent, X-Amzn-Trace-Id, Expect
// and Transfer-Encoding. r.Header must be non-nil. To sign a session token,
// set X-Amz-Security-Token first.
func SignRequest(r *Request, accessKey, secret, region, service string, payloadHash string, now time.Time) {
	now = now.UTC()
	if payloadHash == "" {
		payloadHash = EmptySHA256
		if service == "s3" {
			payloadHash = UnsignedPayload
		}
	}
	setHeader(r.Header, "X-Amz-Date", now.Format(iso8601Basic))
	if service == "s3" {
		setHeader(r.Header, "X-Amz-Content-Sha256", payloadHash)
	}
	delete(r.Header, "Authorization")

	scope := Scope{Date: now.Format(yyyymmdd), Region: region, Service: service, Terminal: Terminal}
	signed := clientSignedHeaders(r)
	canonical := canonicalRequest(r, service, parseQuery(r.RawQuery), false, signed, payloadHash)
	key := SigningKey(secret, scope.Date, region, service)
	sig := hex.EncodeToString(hmacSHA256(key, stringToSign(now.Format(iso8601Basic), scope.String(), canonical)))
	setHeader(r.Header, "Authorization", Algorithm+" Credential="+accessKey+"/"+scope.String()+
		", SignedHeaders="+strings.Join(signed, ";")+", Signature="+sig)
}

// PresignRequest turns r into a presigned URL request valid for expires from
// now, by appending the X-Amz-* parameters to r.RawQuery (with
// X-Amz-Signature last, as SDKs do). Headers present in r.Header are signed
// too, so whoever uses the URL must send them; sessionToken may be "".
func PresignRequest(r *Request, accessKey, secret, sessionToken, region, service string, expires time.Duration, now time.Time) {
	now = now.UTC()
	scope := Scope{Date: now.Format(yyyymmdd), Region: region, Service: service, Terminal: Terminal}
	signed := clientSignedHeaders(r)

	var q strings.Builder
	q.WriteString(r.RawQuery)
	add := func(k, v string) {
		if q.Len() > 0 {
			q.WriteByte('&')
		}
		q.WriteString(k)
		q.WriteByte('=')
		uriEncode(&q, v, false)
	}
	add("X-Amz-Algorithm", Algorithm)
	add("X-Amz-Credential", accessKey+"/"+scope.String())
	add("X-Amz-Date", now.Format(iso8601Basic))
	add("X-Amz-Expires", strconv.FormatInt(int64(expires/time.Second), 10))
	if sessionToken != "" {
		add("X-Amz-Security-Token", sessionToken)
	}
	add("X-Amz-SignedHeaders", strings.Join(signed, ";"))
	r.RawQuery = q.String()

	canonical := canonicalRequest(r, service, parseQuery(r.RawQuery), true, signed, UnsignedPayload)
	key := SigningKey(secret, scope.Date, region, service)
	sig := hex.EncodeToString(hmacSHA256(key, stringToSign(now.Format(iso8601Basic), scope.String(), canonical)))
	r.RawQuery += "&X-Amz-Signature=" + sig
}

func setHeader(h map[string][]string, name, value string) {
	h[textproto.CanonicalMIMEHeaderKey(name)] = []string{value}
}
