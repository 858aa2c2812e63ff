package sigv4

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"
)

const (
	goodCred   = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"
	goodSig    = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
	goodHeader = "AWS4-HMAC-SHA256 Credential=" + goodCred + ", SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + goodSig
	presignQ   = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=" + goodSig
)

// headerReq is a header-signed request; kv pairs replace default headers.
func headerReq(authz string, kv ...string) *Request {
	r := rawRequest("GET", "examplebucket.s3.amazonaws.com", "/k",
		"X-Amz-Date", "20130524T000000Z", "X-Amz-Content-Sha256", EmptySHA256, "Authorization", authz)
	for i := 0; i+1 < len(kv); i += 2 {
		http.Header(r.Header).Set(kv[i], kv[i+1])
	}
	return r
}

func TestParseErrors(t *testing.T) {
	const malformed = "The authorization header is malformed; "
	tests := []struct {
		name string
		req  *Request
		code string
		msg  string // full message, or "" to skip
	}{
		{"sigv2 header", headerReq("AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg="), "InvalidRequest",
			"The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."},
		{"sigv2 query", rawRequest("GET", "h", "/k?AWSAccessKeyId=AKID&Signature=abc&Expires=1"), "InvalidRequest", ""},
		{"unknown algorithm", headerReq("Bearer xyz"), "InvalidRequest", ""},
		{"no space", headerReq("AWS4-HMAC-SHA256"), "AuthorizationHeaderMalformed",
			malformed + "the authorization header requires three components: Credential, SignedHeaders, and Signature."},
		{"garbage", headerReq("garbage"), "InvalidArgument", "Authorization header is invalid -- one and only one ' ' (space) required."},
		{"sigv4a header", headerReq("AWS4-ECDSA-P256-SHA256 Credential=AKID/20130524/s3/aws4_request, SignedHeaders=host, Signature=30"), "NotImplemented", ""},
		{"sigv4a query", rawRequest("GET", "h", "/k?"+strings.Replace(presignQ, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1)), "NotImplemented", ""},
		{"sigv4a payload", headerReq(goodHeader, "X-Amz-Content-Sha256", StreamingECDSAPayloadTrailer), "NotImplemented", ""},
		{"header and query", rawRequest("GET", "h", "/k?"+presignQ, "Authorization", goodHeader), "InvalidArgument", ""},
		{"missing credential", headerReq("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + goodSig), "AuthorizationHeaderMalformed", malformed + "missing Credential."},
		{"missing signed headers", headerReq("AWS4-HMAC-SHA256 Credential=" + goodCred + ", Signature=" + goodSig), "AuthorizationHeaderMalformed", malformed + "missing SignedHeaders."},
		{"missing signature", headerReq("AWS4-HMAC-SHA256 Credential=" + goodCred + ", SignedHeaders=host"), "AuthorizationHeaderMalformed", malformed + "missing Signature."},
		{"bad component", headerReq(goodHeader + ", Foo"), "AuthorizationHeaderMalformed", malformed + `the authorization component "Foo" is malformed.`},
		{"duplicate component", headerReq(goodHeader + ", Signature=" + goodSig), "AuthorizationHeaderMalformed", ""},
		{"short credential", headerReq(strings.Replace(goodHeader, "/s3/aws4_request", "/s3", 1)), "AuthorizationHeaderMalformed",
			malformed + `the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`},
		{"bad credential date", headerReq(strings.Replace(goodHeader, "/20130524/", "/2013-05-24/", 1)), "AuthorizationHeaderMalformed",
			malformed + `incorrect date format "2013-05-24". This date in the credential must be in the format "yyyyMMdd".`},
		{"bad terminal", headerReq(strings.Replace(goodHeader, "aws4_request", "aws5_request", 1)), "AuthorizationHeaderMalformed",
			malformed + `incorrect terminal "aws5_request". This endpoint uses "aws4_request".`},
		{"credential date is not request date", headerReq(goodHeader, "X-Amz-Date", "20130525T000000Z"), "AuthorizationHeaderMalformed", ""},
		{"no date", rawRequest("GET", "h", "/k", "Authorization", goodHeader, "X-Amz-Content-Sha256", EmptySHA256), "AccessDenied",
			"AWS authentication requires a valid Date or x-amz-date header."},
		{"bad x-amz-date", rawRequest("GET", "h", "/k", "Authorization", goodHeader, "X-Amz-Date", "2013-05-24T00:00:00Z", "X-Amz-Content-Sha256", EmptySHA256), "AccessDenied", ""},
		{"missing content sha256", rawRequest("GET", "h", "/k", "Authorization", goodHeader, "X-Amz-Date", "20130524T000000Z"), "InvalidRequest",
			"Missing required header for this request: x-amz-content-sha256"},
		{"bad content sha256", headerReq(goodHeader, "X-Amz-Content-Sha256", "DEADBEEF"), "InvalidArgument",
			"x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value."},
		{"uppercase content sha256", headerReq(goodHeader, "X-Amz-Content-Sha256", strings.ToUpper(EmptySHA256)), "InvalidArgument", ""},
		{"anonymous signed streaming", rawRequest("PUT", "h", "/k", "X-Amz-Content-Sha256", StreamingPayload), "InvalidRequest",
			"Anonymous requests don't support this x-amz-content-sha256 value. Please use UNSIGNED-PAYLOAD or STREAMING-UNSIGNED-PAYLOAD-TRAILER."},
		{"query missing parameter", rawRequest("GET", "h", "/k?"+strings.Replace(presignQ, "X-Amz-SignedHeaders=host&", "", 1)), "AuthorizationQueryParametersError",
			"Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."},
		{"query bad algorithm", rawRequest("GET", "h", "/k?"+strings.Replace(presignQ, "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1", 1)), "AuthorizationQueryParametersError",
			`X-Amz-Algorithm only supports "AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256"`},
		{"query expires not a number", rawRequest("GET", "h", "/k?"+strings.Replace(presignQ, "=86400", "=1d", 1)), "AuthorizationQueryParametersError", "X-Amz-Expires should be a number"},
		{"query expires negative", rawRequest("GET", "h", "/k?"+strings.Replace(presignQ, "=86400", "=-1", 1)), "AuthorizationQueryParametersError", "X-Amz-Expires must be non-negative"},
		{"query expires over a week", rawRequest("GET", "h", "/k?"+strings.Replace(presignQ, "=86400", "=604801", 1)), "AuthorizationQueryParametersError",
			"X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds"},
		{"query expires huge", rawRequest("GET", "h", "/k?"+strings.Replace(presignQ, "=86400", "=99999999999999999999999", 1)), "AuthorizationQueryParametersError",
			"X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds"},
		{"query bad date", rawRequest("GET", "h", "/k?"+strings.Replace(presignQ, "20130524T000000Z", "20130524", 1)), "AuthorizationQueryParametersError",
			`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`},
		{"query date mismatch", rawRequest("GET", "h", "/k?"+strings.Replace(presignQ, "20130524T000000Z", "20130525T000000Z", 1)), "AuthorizationQueryParametersError",
			`Invalid credential date "20130524". This date is not the same as X-Amz-Date: "20130525".`},
		{"query bad credential", rawRequest("GET", "h", "/k?"+strings.Replace(presignQ, "%2Faws4_request", "%2Faws4", 1)), "AuthorizationQueryParametersError",
			`Error parsing the X-Amz-Credential parameter; incorrect terminal "aws4". This endpoint uses "aws4_request".`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.req)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if e.Code != tt.code || (tt.msg != "" && e.Message != tt.msg) {
				t.Fatalf("got %s: %q\nwant %s: %q", e.Code, e.Message, tt.code, tt.msg)
			}
			if e.Status == 0 {
				t.Fatal("no status")
			}
		})
	}
}

func TestParseKinds(t *testing.T) {
	tests := []struct {
		name string
		req  *Request
		want Auth
	}{
		{"anonymous", rawRequest("GET", "h", "/k?acl"), Auth{Kind: Anonymous}},
		{"anonymous with hash", rawRequest("PUT", "h", "/k", "X-Amz-Content-Sha256", EmptySHA256), Auth{Kind: Anonymous, PayloadHash: EmptySHA256}},
		{"anonymous unsigned trailer", rawRequest("PUT", "h", "/k", "X-Amz-Content-Sha256", StreamingUnsignedPayloadTrailer),
			Auth{Kind: Anonymous, PayloadHash: StreamingUnsignedPayloadTrailer}},
		{"header", headerReq(goodHeader, "X-Amz-Security-Token", "tok"), Auth{
			Kind: HeaderAuth, AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Date: exampleTime,
			Scope:         Scope{"20130524", "us-east-1", "s3", "aws4_request"},
			SignedHeaders: []string{"host", "x-amz-content-sha256", "x-amz-date"}, Signature: goodSig,
			PayloadHash: EmptySHA256, SecurityToken: "tok"}},
		{"header with Date fallback", rawRequest("GET", "h", "/k", "Authorization", goodHeader,
			"Date", "Fri, 24 May 2013 00:00:00 GMT", "X-Amz-Content-Sha256", UnsignedPayload), Auth{
			Kind: HeaderAuth, AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Date: exampleTime,
			Scope:         Scope{"20130524", "us-east-1", "s3", "aws4_request"},
			SignedHeaders: []string{"host", "x-amz-content-sha256", "x-amz-date"}, Signature: goodSig,
			PayloadHash: UnsignedPayload}},
		{"non-S3 header auth without payload hash", rawRequest("POST", "h", "/", "Authorization",
			strings.Replace(goodHeader, "/s3/", "/sts/", 1), "X-Amz-Date", "20130524T000000Z"), Auth{
			Kind: HeaderAuth, AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Date: exampleTime,
			Scope:         Scope{"20130524", "us-east-1", "sts", "aws4_request"},
			SignedHeaders: []string{"host", "x-amz-content-sha256", "x-amz-date"}, Signature: goodSig}},
		{"presigned", rawRequest("GET", "h", "/k?"+presignQ+"&X-Amz-Security-Token=a%2Bb"), Auth{
			Kind: PresignedAuth, AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Date: exampleTime,
			Scope:         Scope{"20130524", "us-east-1", "s3", "aws4_request"},
			SignedHeaders: []string{"host"}, Signature: goodSig,
			PayloadHash: UnsignedPayload, Expires: 24 * time.Hour, SecurityToken: "a+b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Parse(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			a.query = nil
			if d := cmp.Diff(&tt.want, a, cmp.AllowUnexported(Auth{})); d != "" {
				t.Fatal(d)
			}
		})
	}
}

func TestCheckScope(t *testing.T) {
	h, _ := Parse(headerReq(goodHeader))
	q, _ := Parse(rawRequest("GET", "h", "/k?"+presignQ))
	anon, _ := Parse(rawRequest("GET", "h", "/k"))
	tests := []struct {
		name            string
		a               *Auth
		region, service string
		code, msg       string
		regionField     string
	}{
		{"ok", h, "us-east-1", "s3", "", "", ""},
		{"anonymous", anon, "eu-west-1", "s3", "", "", ""},
		{"wrong region", h, "eu-west-1", "s3", "AuthorizationHeaderMalformed",
			`The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'`, "eu-west-1"},
		{"wrong service", h, "us-east-1", "iam", "AuthorizationHeaderMalformed",
			`The authorization header is malformed; incorrect service "s3". This endpoint belongs to "iam".`, ""},
		{"presigned wrong region", q, "eu-west-1", "s3", "AuthorizationQueryParametersError",
			`Error parsing the X-Amz-Credential parameter; the region 'us-east-1' is wrong; expecting 'eu-west-1'`, "eu-west-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.a.CheckScope(tt.region, tt.service)
			if errCode(err) != tt.code {
				t.Fatalf("got %v, want %s", err, tt.code)
			}
			if err == nil {
				return
			}
			e := err.(*Error)
			if e.Message != tt.msg || e.Field("Region") != tt.regionField {
				t.Fatalf("got %q, Region %q", e.Message, e.Field("Region"))
			}
			if !errors.Is(err, ErrAuthorizationHeaderMalformed) && !errors.Is(err, ErrAuthorizationQueryParametersError) {
				t.Fatal("not matched by its sentinel")
			}
		})
	}
}

// Clock skew (header auth) and presigned validity windows, at their edges.
func TestTimeWindows(t *testing.T) {
	signHeader := func(at time.Time) *Request {
		r := rawRequest("GET", "examplebucket.s3.amazonaws.com", "/k")
		SignRequest(r, exampleAKID, exampleSecret, "us-east-1", "s3", EmptySHA256, at)
		return r
	}
	presign := func(at time.Time, expires time.Duration) *Request {
		r := rawRequest("GET", "examplebucket.s3.amazonaws.com", "/k")
		PresignRequest(r, exampleAKID, exampleSecret, "", "us-east-1", "s3", expires, at)
		return r
	}
	t0 := exampleTime.Add(12 * time.Hour)
	tests := []struct {
		name string
		req  *Request
		now  time.Time
		code string
	}{
		{"header: on time", signHeader(t0), t0, ""},
		{"header: 15 min slow", signHeader(t0), t0.Add(MaxClockSkew), ""},
		{"header: 15 min fast", signHeader(t0), t0.Add(-MaxClockSkew), ""},
		{"header: too slow", signHeader(t0), t0.Add(MaxClockSkew + time.Second), "RequestTimeTooSkewed"},
		{"header: too fast", signHeader(t0), t0.Add(-MaxClockSkew - time.Second), "RequestTimeTooSkewed"},
		{"presigned: just issued", presign(t0, time.Hour), t0, ""},
		{"presigned: last second", presign(t0, time.Hour), t0.Add(time.Hour), ""},
		{"presigned: expired", presign(t0, time.Hour), t0.Add(time.Hour + time.Second), "AccessDenied"},
		{"presigned: one week", presign(t0, MaxPresignExpires), t0.Add(MaxPresignExpires), ""},
		{"presigned: zero expiry", presign(t0, 0), t0, "AccessDenied"},
		{"presigned: starts within skew", presign(t0, time.Hour), t0.Add(-MaxClockSkew), ""},
		{"presigned: not yet valid", presign(t0, time.Hour), t0.Add(-MaxClockSkew - time.Second), "AccessDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseAndVerify(tt.req, exampleSecret, tt.now)
			if errCode(err) != tt.code {
				t.Fatalf("got %v, want %q", err, tt.code)
			}
		})
	}

	_, err := parseAndVerify(signHeader(t0), exampleSecret, t0.Add(time.Hour))
	var e *Error
	if !errors.As(err, &e) || e.Field("MaxAllowedSkewMilliseconds") != "900000" || e.Field("RequestTime") != "20130524T120000Z" ||
		e.Field("ServerTime") != "2013-05-24T13:00:00Z" {
		t.Fatalf("skew fields: %+v", e)
	}
	_, err = parseAndVerify(presign(t0, time.Hour), exampleSecret, t0.Add(2*time.Hour))
	if !errors.As(err, &e) || e.Message != "Request has expired" || e.Field("X-Amz-Expires") != "3600" || e.Field("Expires") != "2013-05-24T13:00:00Z" {
		t.Fatalf("expiry fields: %+v", e)
	}
	_, err = parseAndVerify(presign(t0, time.Hour), exampleSecret, t0.Add(-time.Hour))
	if !errors.As(err, &e) || e.Message != "Request is not valid yet." {
		t.Fatalf("not yet valid: %+v", e)
	}
}

func TestVerifyRules(t *testing.T) {
	base := func() *Request {
		r := rawRequest("PUT", "examplebucket.s3.amazonaws.com", "/k", "X-Amz-Meta-A", "1")
		SignRequest(r, exampleAKID, exampleSecret, "us-east-1", "s3", UnsignedPayload, exampleTime)
		return r
	}
	tests := []struct {
		name   string
		mutate func(*Request)
		code   string
		field  string // HeadersNotSigned
	}{
		{"ok", func(*Request) {}, "", ""},
		{"unsigned x-amz header", func(r *Request) { http.Header(r.Header).Set("X-Amz-Acl", "public-read") }, "AccessDenied", "x-amz-acl"},
		{"two unsigned x-amz headers", func(r *Request) {
			http.Header(r.Header).Set("X-Amz-Acl", "x")
			http.Header(r.Header).Set("X-Amz-Tagging", "y")
		}, "AccessDenied", "x-amz-acl, x-amz-tagging"},
		{"unsigned ordinary header is fine", func(r *Request) { http.Header(r.Header).Set("X-Forwarded-For", "1.2.3.4") }, "", ""},
		{"host not signed", func(r *Request) {
			r.Header["Authorization"][0] = strings.Replace(r.Header["Authorization"][0], "SignedHeaders=host;", "SignedHeaders=", 1)
		}, "AccessDenied", "host"},
		{"uppercase signature", func(r *Request) {
			a := r.Header["Authorization"][0]
			i := strings.Index(a, "Signature=") + len("Signature=")
			r.Header["Authorization"][0] = a[:i] + strings.ToUpper(a[i:])
		}, "SignatureDoesNotMatch", ""},
		{"short signature", func(r *Request) {
			r.Header["Authorization"][0] = r.Header["Authorization"][0][:len(r.Header["Authorization"][0])-2]
		}, "SignatureDoesNotMatch", ""},
		{"repeated header values joined", func(r *Request) { http.Header(r.Header).Add("X-Amz-Meta-A", "2") }, "SignatureDoesNotMatch", ""},
		{"inner spaces collapse", func(r *Request) { r.Header["X-Amz-Meta-A"] = []string{" 1 "} }, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base()
			tt.mutate(r)
			_, err := parseAndVerify(r, exampleSecret, exampleTime)
			if errCode(err) != tt.code {
				t.Fatalf("got %v, want %q", err, tt.code)
			}
			var e *Error
			if errors.As(err, &e) && e.Field("HeadersNotSigned") != tt.field {
				t.Fatalf("HeadersNotSigned %q", e.Field("HeadersNotSigned"))
			}
		})
	}

	// SignatureDoesNotMatch carries what AWS returns.
	r := base()
	_, err := parseAndVerify(r, "wrong secret", exampleTime)
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Fatal(err)
	}
	if e.Field("AWSAccessKeyId") != exampleAKID || !strings.HasPrefix(e.Field("StringToSign"), "AWS4-HMAC-SHA256\n20130524T000000Z\n") ||
		!strings.HasPrefix(e.Field("CanonicalRequest"), "PUT\n/k\n\n") || !strings.HasPrefix(e.Field("CanonicalRequestBytes"), "50 55 54 0a") {
		t.Fatalf("fields %+v", e.Fields)
	}
	if _, err := Verify(r, &Auth{Kind: Anonymous}, "", exampleTime); err == nil {
		t.Fatal("Verify accepted an anonymous request")
	}
}

// The client-side helpers produce exactly what the AWS SDK signer produces.
func TestSignRequestMatchesSDK(t *testing.T) {
	at := time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)
	mk := func() (*http.Request, *Request) {
		hr, _ := http.NewRequest("PUT", "https://s3.example.com:8443/bucket/"+escapeS3Key("a b/ü$"), nil)
		hr.URL.RawQuery = "uploadId=abc&partNumber=3"
		hr.Header.Set("Content-Type", "application/octet-stream")
		hr.Header.Set("X-Amz-Meta-Note", "two  spaces")
		r := &Request{Method: "PUT", Host: hr.URL.Host, EscapedPath: hr.URL.EscapedPath(), RawQuery: hr.URL.RawQuery, Header: hr.Header.Clone()}
		return hr, r
	}
	hr, r := mk()
	hr.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
	if err := sdkSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: exampleAKID, SecretAccessKey: exampleSecret}, hr, UnsignedPayload, "s3", "us-west-2", at); err != nil {
		t.Fatal(err)
	}
	SignRequest(r, exampleAKID, exampleSecret, "us-west-2", "s3", UnsignedPayload, at)
	want := hr.Header.Get("Authorization")
	if got := r.Header["Authorization"][0]; got != want {
		t.Fatalf("SignRequest:\n%s\nSDK:\n%s", got, want)
	}

	hr, r = mk()
	q := hr.URL.Query()
	q.Set("X-Amz-Expires", "300")
	hr.URL.RawQuery = q.Encode()
	u, _, err := sdkSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: exampleAKID, SecretAccessKey: exampleSecret}, hr, UnsignedPayload, "s3", "us-west-2", at)
	if err != nil {
		t.Fatal(err)
	}
	PresignRequest(r, exampleAKID, exampleSecret, "", "us-west-2", "s3", 5*time.Minute, at)
	sdkSig := u[strings.Index(u, "X-Amz-Signature=")+len("X-Amz-Signature="):]
	if got := r.RawQuery[strings.Index(r.RawQuery, "X-Amz-Signature=")+len("X-Amz-Signature="):]; got != sdkSig {
		t.Fatalf("PresignRequest signature %s, SDK %s", got, sdkSig)
	}
	if _, err := parseAndVerify(r, exampleSecret, at); err != nil {
		t.Fatal(err)
	}
}

// Non-S3 services sign a hashed body and a doubly-encoded path.
func TestNonS3Service(t *testing.T) {
	body := []byte("Action=GetCallerIdentity&Version=2011-06-15")
	r := rawRequest("POST", "sts.example.com", "/", "Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	SignRequest(r, exampleAKID, exampleSecret, "us-east-1", "sts", HashHex(body), exampleTime)
	if headerHas(r.Header, "X-Amz-Content-Sha256") {
		t.Fatal("SignRequest set x-amz-content-sha256 for STS")
	}
	a, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.CheckScope("us-east-1", "sts"); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(r, a, exampleSecret, exampleTime); errCode(err) != "InvalidRequest" {
		t.Fatalf("Verify without a payload hash: %v", err)
	}
	a.PayloadHash = HashHex(body)
	if _, err := Verify(r, a, exampleSecret, exampleTime); err != nil {
		t.Fatal(err)
	}
	if got := canonicalURI("/a%20b/c", "kms"); got != "/a%2520b/c" {
		t.Fatalf("non-S3 canonical URI %q", got)
	}
}

func TestCanonicalization(t *testing.T) {
	uris := []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/bucket/key", "/bucket/key"},
		{"/test$file.text", "/test%24file.text"},
		{"/a%20b", "/a%20b"},
		{"/a+b", "/a%2Bb"},
		{"/a%2fb/c", "/a%2Fb/c"},
		{"/%e2%82%ac", "/%E2%82%AC"},
		{"/€", "/%E2%82%AC"},
		{"/a//b/./../c", "/a//b/./../c"},
		{"/bad%zzescape", "/bad%25zzescape"},
		{"/~user_-.x", "/~user_-.x"},
	}
	for _, u := range uris {
		if got := canonicalURI(u.in, "s3"); got != u.want {
			t.Errorf("canonicalURI(%q) = %q, want %q", u.in, got, u.want)
		}
	}
	queries := []struct{ in, want string }{
		{"", ""},
		{"acl", "acl="},
		{"b=2&a=1", "a=1&b=2"},
		{"a=2&a=1&a=10", "a=1&a=10&a=2"},
		{"k=a+b&k2=a%20b", "k=a%20b&k2=a%20b"},
		{"k=%2B&x=%7e", "k=%2B&x=~"},
		{"prefix=%E2%82%AC/&&delimiter=/", "delimiter=%2F&prefix=%E2%82%AC%2F"},
		{"bad=%zz", "bad=%25zz"},
	}
	for _, q := range queries {
		if got := canonicalQuery(parseQuery(q.in), false); got != q.want {
			t.Errorf("canonicalQuery(%q) = %q, want %q", q.in, got, q.want)
		}
	}
	if got := canonicalQuery(parseQuery("a=1&X-Amz-Signature=abc"), true); got != "a=1" {
		t.Errorf("presigned query keeps the signature: %q", got)
	}
	var b strings.Builder
	writeCanonicalValue(&b, "  a   b  c ")
	if b.String() != "a b c" {
		t.Errorf("writeCanonicalValue = %q", b.String())
	}
}
