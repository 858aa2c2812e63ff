package sigv4

import (
	"net/textproto"
	"net/url"
	"sort"
	"strings"
)

const upperHex = "0123456789ABCDEF"

// unreserved reports whether c is an RFC 3986 unreserved character, the only
// bytes SigV4 leaves unencoded.
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// uriEncode appends s to b percent-encoded the SigV4 way: every byte except
// unreserved ones (and '/' when keepSlash) becomes %XX with uppercase hex.
func uriEncode(b *strings.Builder, s string, keepSlash bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (keepSlash && c == '/') {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
}

func uriEncodeString(s string, keepSlash bool) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) && !(keepSlash && s[i] == '/') {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/2)
	uriEncode(&b, s, keepSlash)
	return b.String()
}

// canonicalURI returns the CanonicalURI for the path as the client sent it.
//
// S3 signs each path segment URI-encoded exactly once, without dot-segment
// removal or '//' collapsing. Clients do not all put that exact form on the
// wire (the AWS example sends "test$file.text" unescaped), so each segment is
// decoded and re-encoded; splitting on the raw '/' first keeps an encoded
// "%2F" inside a segment distinct from a separator.
//
// Every other service (IAM, STS, KMS...) signs the path encoded a second
// time, which is what the SDKs do for non-S3 signers.
func canonicalURI(escapedPath, service string) string {
	if escapedPath == "" {
		return "/"
	}
	if service != "s3" {
		return uriEncodeString(escapedPath, true)
	}
	clean := true
	for i := 0; i < len(escapedPath); i++ {
		if c := escapedPath[i]; !unreserved(c) && c != '/' {
			clean = false
			break
		}
	}
	if clean {
		return escapedPath
	}
	var b strings.Builder
	b.Grow(len(escapedPath) + 16)
	for i, seg := range strings.Split(escapedPath, "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		dec, err := url.PathUnescape(seg)
		if err != nil {
			// Not valid percent-encoding: the client can only have meant the
			// bytes literally.
			dec = seg
		}
		uriEncode(&b, dec, false)
	}
	return b.String()
}

// queryParam is one decoded query parameter.
type queryParam struct{ key, value string }

// parseQuery splits a raw query into decoded parameters in order. '+' decodes
// to a space, as the SDKs assume when they canonicalize; a component that is
// not valid percent-encoding is kept literally rather than rejected, since it
// can still be signed.
func parseQuery(raw string) []queryParam {
	if raw == "" {
		return nil
	}
	params := make([]queryParam, 0, strings.Count(raw, "&")+1)
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		params = append(params, queryParam{queryUnescape(k), queryUnescape(v)})
	}
	return params
}

func queryUnescape(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	u, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return u
}

// queryGet returns the first value of key (case-sensitive, as S3 treats the
// X-Amz-* parameters) and whether it is present.
func queryGet(params []queryParam, key string) (string, bool) {
	for _, p := range params {
		if p.key == key {
			return p.value, true
		}
	}
	return "", false
}

// canonicalQuery encodes names and values separately, sorts by encoded name
// then encoded value, and joins them; a parameter without '=' becomes
// "name=". skipSignature drops X-Amz-Signature for presigned URLs.
func canonicalQuery(params []queryParam, skipSignature bool) string {
	if len(params) == 0 {
		return ""
	}
	enc := make([]queryParam, 0, len(params))
	for _, p := range params {
		if skipSignature && p.key == "X-Amz-Signature" {
			continue
		}
		enc = append(enc, queryParam{uriEncodeString(p.key, false), uriEncodeString(p.value, false)})
	}
	sort.Slice(enc, func(i, j int) bool {
		if enc[i].key != enc[j].key {
			return enc[i].key < enc[j].key
		}
		return enc[i].value < enc[j].value
	})
	var b strings.Builder
	for i, p := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// headerValues returns the values of the header named name (any case).
// Header maps from net/http use canonical keys; the fallback scan covers
// hand-built maps.
func headerValues(h map[string][]string, name string) []string {
	if h == nil {
		return nil
	}
	if v, ok := h[textproto.CanonicalMIMEHeaderKey(name)]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func headerGet(h map[string][]string, name string) string {
	if v := headerValues(h, name); len(v) > 0 {
		return v[0]
	}
	return ""
}

func headerHas(h map[string][]string, name string) bool {
	return len(headerValues(h, name)) > 0
}

// writeCanonicalValue trims the value and collapses inner runs of spaces to
// one, as the SigV4 canonical-headers rule requires.
func writeCanonicalValue(b *strings.Builder, v string) {
	v = strings.TrimSpace(v)
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(c)
	}
}

// hostValue is the Host header as received: net/http moves it out of the
// header map into Request.Host.
func hostValue(r *Request) string {
	if r.Host != "" {
		return r.Host
	}
	return headerGet(r.Header, "Host")
}

// canonicalRequest builds the SigV4 canonical request. Signed headers are
// used in the order the client listed them, and the SignedHeaders line is
// their ";"-join, so the result is exactly what the client hashed.
func canonicalRequest(r *Request, service string, query []queryParam, presigned bool, signedHeaders []string, payloadHash string) string {
	var b strings.Builder
	b.Grow(256 + len(r.EscapedPath) + len(r.RawQuery))
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r.EscapedPath, service))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(query, presigned))
	b.WriteByte('\n')
	for _, name := range signedHeaders {
		lname := strings.ToLower(name)
		b.WriteString(lname)
		b.WriteByte(':')
		if lname == "host" {
			writeCanonicalValue(&b, hostValue(r))
		} else {
			for i, v := range headerValues(r.Header, lname) {
				if i > 0 {
					b.WriteByte(',')
				}
				writeCanonicalValue(&b, v)
			}
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	for i, name := range signedHeaders {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(name)
	}
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// unsignedHeaders lists (lowercase, sorted) the headers that must be signed
// but are not: host, and every x-amz-* header present in the request.
func unsignedHeaders(r *Request, signedHeaders []string) []string {
	signed := make(map[string]bool, len(signedHeaders))
	for _, h := range signedHeaders {
		signed[strings.ToLower(h)] = true
	}
	var missing []string
	if !signed["host"] {
		missing = append(missing, "host")
	}
	for k := range r.Header {
		if len(k) >= 6 && strings.EqualFold(k[:6], "x-amz-") {
			if lk := strings.ToLower(k); !signed[lk] {
				missing = append(missing, lk)
			}
		}
	}
	sort.Strings(missing)
	return missing
}
