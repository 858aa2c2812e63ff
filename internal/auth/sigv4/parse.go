package sigv4

import (
	"strconv"
	"strings"
	"time"
)

// Signing constants.
const (
	// Algorithm is the only signing algorithm this package verifies.
	Algorithm = "AWS4-HMAC-SHA256"
	// AlgorithmSigV4a is SigV4a's algorithm, answered with ErrSigV4aNotImplemented.
	AlgorithmSigV4a = "AWS4-ECDSA-P256-SHA256"

	// Terminal is the last element of every credential scope.
	Terminal = "aws4_request"

	// EmptySHA256 is the hex SHA-256 of an empty body.
	EmptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

	// x-amz-content-sha256 literal values.
	UnsignedPayload                 = "UNSIGNED-PAYLOAD"
	StreamingPayload                = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingPayloadTrailer         = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	StreamingUnsignedPayloadTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	StreamingECDSAPayload           = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"
	StreamingECDSAPayloadTrailer    = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"

	// MaxClockSkew is how far a header-signed request's time may be from
	// the server's, and how far in the future a presigned URL may start.
	MaxClockSkew = 15 * time.Minute
	// MaxPresignExpires is the longest X-Amz-Expires S3 accepts (one week).
	MaxPresignExpires = 7 * 24 * time.Hour

	iso8601Basic = "20060102T150405Z"
	yyyymmdd     = "20060102"
)

// Request is the part of an HTTP request that signing covers. Build it from
// an *http.Request as shown in the package documentation.
type Request struct {
	Method      string
	Host        string              // the Host header value as received (http.Request.Host)
	EscapedPath string              // the path as sent: r.URL.EscapedPath()
	RawQuery    string              // r.URL.RawQuery
	Header      map[string][]string // canonical MIME keys, as http.Header; include Content-Length if sent
}

// Kind is how a request authenticates.
type Kind int

const (
	// Anonymous requests carry no signature at all.
	Anonymous Kind = iota
	// HeaderAuth requests carry an "Authorization: AWS4-HMAC-SHA256 ..." header.
	HeaderAuth
	// PresignedAuth requests carry X-Amz-* query parameters (presigned URL).
	PresignedAuth
)

func (k Kind) String() string {
	switch k {
	case Anonymous:
		return "anonymous"
	case HeaderAuth:
		return "header"
	case PresignedAuth:
		return "presigned"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// AuthType is the value of the s3:authType condition key for k: "REST-HEADER",
// "REST-QUERY-STRING", or "" for anonymous requests.
func (k Kind) AuthType() string {
	switch k {
	case HeaderAuth:
		return "REST-HEADER"
	case PresignedAuth:
		return "REST-QUERY-STRING"
	}
	return ""
}

// Scope is a credential scope: <Date>/<Region>/<Service>/<Terminal>.
type Scope struct {
	Date     string // yyyyMMdd
	Region   string
	Service  string
	Terminal string // always "aws4_request" once parsed
}

func (s Scope) String() string {
	return s.Date + "/" + s.Region + "/" + s.Service + "/" + s.Terminal
}

// Auth is a parsed, not yet verified, request signature.
type Auth struct {
	Kind          Kind
	AccessKeyID   string
	Date          time.Time // from X-Amz-Date (query for presigned), else the Date header
	Scope         Scope
	SignedHeaders []string // as listed by the client
	Signature     string   // as sent by the client
	// PayloadHash is the x-amz-content-sha256 value: a lowercase hex SHA-256
	// or one of the UnsignedPayload / Streaming* literals. Presigned URLs
	// default to UnsignedPayload. For anonymous requests it is the header
	// value, or "" when absent. For header-signed non-S3 services without
	// the header it is "": set it to HashHex(body) before Verify.
	PayloadHash   string
	Expires       time.Duration // presigned only: X-Amz-Expires
	SecurityToken string        // X-Amz-Security-Token (header or query), if any

	query []queryParam // decoded query, kept for Verify
}

// Parse classifies r and parses its signature without any cryptography or
// clock checks. A request without any authentication is Anonymous (not an
// error). Errors are *Error values (see the Err* sentinels).
func Parse(r *Request) (*Auth, error) {
	query := parseQuery(r.RawQuery)
	authz, hasAuthz := "", false
	if v := headerValues(r.Header, "Authorization"); len(v) > 0 {
		authz, hasAuthz = v[0], true
	}

	presigned := false
	for _, k := range [...]string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Expires"} {
		if _, ok := queryGet(query, k); ok {
			presigned = true
			break
		}
	}
	_, v2Sig := queryGet(query, "Signature")
	_, v2Key := queryGet(query, "AWSAccessKeyId")
	sigV2Query := v2Sig && v2Key

	if hasAuthz && (presigned || sigV2Query) {
		return nil, ErrMultipleAuthMechanisms.with("",
			Field{"ArgumentName", "Authorization"}, Field{"ArgumentValue", authz})
	}
	switch {
	case hasAuthz:
		return parseHeaderAuth(r, authz, query)
	case presigned:
		return parsePresigned(r, query)
	case sigV2Query:
		return nil, ErrUnsupportedAuthorizationMechanism
	}

	a := &Auth{Kind: Anonymous, query: query}
	if v, ok := firstHeader(r, "X-Amz-Content-Sha256"); ok {
		mode, err := payloadMode(v)
		if err != nil {
			return nil, err
		}
		if mode.signedStreaming() {
			return nil, ErrAnonymousSignedStreaming
		}
		a.PayloadHash = v
	}
	return a, nil
}

func firstHeader(r *Request, name string) (string, bool) {
	if v := headerValues(r.Header, name); len(v) > 0 {
		return v[0], true
	}
	return "", false
}

// credentialProblem is a credential that does not parse; render turns it
// into the header, query or POST flavour of the error message.
type credentialProblem struct {
	kind  int // credMalformed, credBadDate, credBadTerminal
	value string
}

const (
	credMalformed = iota
	credBadDate
	credBadTerminal
)

func (p *credentialProblem) suffix() string {
	switch p.kind {
	case credBadDate:
		return msgBadCredentialDate(p.value)
	case credBadTerminal:
		return msgBadTerminal(p.value)
	}
	return msgMalformedCredential()
}

// parseCredential splits "<AKID>/<yyyyMMdd>/<region>/<service>/aws4_request".
func parseCredential(s string) (string, Scope, *credentialProblem) {
	parts := strings.Split(s, "/")
	if len(parts) != 5 || parts[0] == "" || parts[2] == "" || parts[3] == "" {
		return "", Scope{}, &credentialProblem{kind: credMalformed}
	}
	if _, err := time.Parse(yyyymmdd, parts[1]); err != nil || len(parts[1]) != 8 {
		return "", Scope{}, &credentialProblem{kind: credBadDate, value: parts[1]}
	}
	if parts[4] != Terminal {
		return "", Scope{}, &credentialProblem{kind: credBadTerminal, value: parts[4]}
	}
	return parts[0], Scope{Date: parts[1], Region: parts[2], Service: parts[3], Terminal: parts[4]}, nil
}

func parseSignedHeaders(s string) ([]string, bool) {
	if s == "" {
		return nil, false
	}
	hs := strings.Split(s, ";")
	for _, h := range hs {
		if h == "" || strings.ContainsAny(h, " \t\r\n:") {
			return nil, false
		}
	}
	return hs, true
}

func parseHeaderAuth(r *Request, authz string, query []queryParam) (*Auth, error) {
	alg, rest, ok := strings.Cut(authz, " ")
	switch {
	case alg == AlgorithmSigV4a:
		return nil, ErrSigV4aNotImplemented.with("", Field{"Header", "Authorization"})
	case alg == "AWS":
		return nil, ErrUnsupportedAuthorizationMechanism
	case alg != Algorithm:
		if !ok {
			return nil, ErrInvalidAuthorizationHeader
		}
		return nil, ErrUnsupportedAuthorizationMechanism
	case !ok:
		return nil, headerMalformed("the authorization header requires three components: Credential, SignedHeaders, and Signature.")
	}

	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for _, comp := range strings.Split(rest, ",") {
		comp = strings.TrimSpace(comp)
		if comp == "" {
			continue
		}
		k, v, ok := strings.Cut(comp, "=")
		var dup bool
		switch {
		case !ok:
		case k == "Credential":
			dup, cred, haveCred = haveCred, v, true
		case k == "SignedHeaders":
			dup, signed, haveSigned = haveSigned, v, true
		case k == "Signature":
			dup, sig, haveSig = haveSig, v, true
		default:
			ok = false
		}
		if !ok || dup {
			return nil, headerMalformed("the authorization component " + strconv.Quote(comp) + " is malformed.")
		}
	}
	switch {
	case !haveCred && !haveSigned && !haveSig:
		return nil, headerMalformed("the authorization header requires three components: Credential, SignedHeaders, and Signature.")
	case !haveCred:
		return nil, headerMalformed("missing Credential.")
	case !haveSigned:
		return nil, headerMalformed("missing SignedHeaders.")
	case !haveSig || sig == "":
		return nil, headerMalformed("missing Signature.")
	}

	a := &Auth{Kind: HeaderAuth, Signature: sig, query: query}
	var prob *credentialProblem
	if a.AccessKeyID, a.Scope, prob = parseCredential(cred); prob != nil {
		return nil, headerMalformed(prob.suffix())
	}
	var okSH bool
	if a.SignedHeaders, okSH = parseSignedHeaders(signed); !okSH {
		return nil, headerMalformed("the authorization component " + strconv.Quote("SignedHeaders="+signed) + " is malformed.")
	}

	// Timestamp: X-Amz-Date, else Date (spec §1.5).
	if v, ok := firstHeader(r, "X-Amz-Date"); ok {
		t, err := time.Parse(iso8601Basic, v)
		if err != nil || len(v) != len(iso8601Basic) {
			return nil, ErrMissingDateHeader
		}
		a.Date = t
	} else if v, ok := firstHeader(r, "Date"); ok {
		t, ok := parseHTTPDate(v)
		if !ok {
			return nil, ErrMissingDateHeader
		}
		a.Date = t
	} else {
		return nil, ErrMissingDateHeader
	}
	if a.Scope.Date != a.Date.Format(yyyymmdd) {
		return nil, headerMalformed("Invalid credential date. Date is not the same as X-Amz-Date.")
	}

	if v, ok := firstHeader(r, "X-Amz-Content-Sha256"); ok {
		if _, err := payloadMode(v); err != nil {
			return nil, err
		}
		a.PayloadHash = v
	} else if a.Scope.Service == "s3" {
		return nil, ErrMissingContentSHA256
	}
	a.SecurityToken = headerGet(r.Header, "X-Amz-Security-Token")
	return a, nil
}

// parseHTTPDate accepts the date formats HTTP/1.1 allows for the Date header.
func parseHTTPDate(v string) (time.Time, bool) {
	for _, layout := range [...]string{
		"Mon, 02 Jan 2006 15:04:05 GMT", time.RFC1123, time.RFC1123Z, time.RFC850, time.ANSIC,
	} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func parsePresigned(r *Request, query []queryParam) (*Auth, error) {
	alg, _ := queryGet(query, "X-Amz-Algorithm")
	cred, _ := queryGet(query, "X-Amz-Credential")
	sig, _ := queryGet(query, "X-Amz-Signature")
	date, _ := queryGet(query, "X-Amz-Date")
	signed, _ := queryGet(query, "X-Amz-SignedHeaders")
	expires, _ := queryGet(query, "X-Amz-Expires")
	if alg == "" || cred == "" || sig == "" || date == "" || signed == "" || expires == "" {
		return nil, ErrAuthorizationQueryParametersError
	}
	switch alg {
	case Algorithm:
	case AlgorithmSigV4a:
		return nil, ErrSigV4aNotImplemented.with("", Field{"Header", "X-Amz-Algorithm"})
	default:
		return nil, queryError(`X-Amz-Algorithm only supports "AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256"`)
	}

	a := &Auth{Kind: PresignedAuth, Signature: sig, query: query}
	var prob *credentialProblem
	if a.AccessKeyID, a.Scope, prob = parseCredential(cred); prob != nil {
		return nil, queryError(queryCredentialPrefix + prob.suffix())
	}
	t, err := time.Parse(iso8601Basic, date)
	if err != nil || len(date) != len(iso8601Basic) {
		return nil, queryError(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`)
	}
	a.Date = t
	if d := t.Format(yyyymmdd); d != a.Scope.Date {
		return nil, queryError("Invalid credential date " + strconv.Quote(a.Scope.Date) +
			". This date is not the same as X-Amz-Date: " + strconv.Quote(d) + ".")
	}
	secs, err := strconv.ParseInt(expires, 10, 64)
	switch {
	case err != nil && strings.HasPrefix(expires, "-") && isDigits(expires[1:]):
		return nil, queryError("X-Amz-Expires must be non-negative")
	case err != nil && isDigits(expires):
		// Too many digits for an int64: certainly more than a week.
		return nil, queryError("X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds")
	case err != nil:
		return nil, queryError("X-Amz-Expires should be a number")
	case secs < 0:
		return nil, queryError("X-Amz-Expires must be non-negative")
	case secs > int64(MaxPresignExpires/time.Second):
		return nil, queryError("X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds")
	}
	a.Expires = time.Duration(secs) * time.Second
	var okSH bool
	if a.SignedHeaders, okSH = parseSignedHeaders(signed); !okSH {
		return nil, queryError("X-Amz-SignedHeaders is malformed")
	}

	// A presigned URL signs UNSIGNED-PAYLOAD unless the client put a payload
	// hash in the (signed) header or in the query.
	a.PayloadHash = UnsignedPayload
	if v, ok := firstHeader(r, "X-Amz-Content-Sha256"); ok {
		a.PayloadHash = v
	} else if v, ok := queryGet(query, "X-Amz-Content-Sha256"); ok {
		a.PayloadHash = v
	}
	if _, err := payloadMode(a.PayloadHash); err != nil {
		return nil, err
	}
	a.SecurityToken, _ = queryGet(query, "X-Amz-Security-Token")
	return a, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// payloadKind classifies an x-amz-content-sha256 value.
type payloadKind int

const (
	payloadHex payloadKind = iota
	payloadUnsigned
	payloadStreaming
	payloadStreamingTrailer
	payloadStreamingUnsignedTrailer
)

func (k payloadKind) signedStreaming() bool {
	return k == payloadStreaming || k == payloadStreamingTrailer
}

func payloadMode(v string) (payloadKind, error) {
	switch v {
	case UnsignedPayload:
		return payloadUnsigned, nil
	case StreamingPayload:
		return payloadStreaming, nil
	case StreamingPayloadTrailer:
		return payloadStreamingTrailer, nil
	case StreamingUnsignedPayloadTrailer:
		return payloadStreamingUnsignedTrailer, nil
	case StreamingECDSAPayload, StreamingECDSAPayloadTrailer:
		return 0, ErrSigV4aNotImplemented.with("", Field{"Header", "x-amz-content-sha256"})
	}
	if isLowerHex(v, 64) {
		return payloadHex, nil
	}
	return 0, ErrInvalidContentSHA256.with("",
		Field{"ArgumentName", "x-amz-content-sha256"}, Field{"ArgumentValue", v})
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// CheckScope checks the credential scope against the region and service
// the endpoint serves, returning AWS's AuthorizationHeaderMalformed (header
// auth, with a Region field naming the expected region) or
// AuthorizationQueryParametersError (presigned). Call it after Parse and
// before looking up the access key, as AWS reports these first.
// Anonymous requests always pass.
func (a *Auth) CheckScope(region, service string) error {
	var msg string
	var fields []Field
	switch {
	case a.Kind == Anonymous:
		return nil
	case a.Scope.Service != service:
		msg = msgWrongService(a.Scope.Service, service)
	case a.Scope.Region != region:
		msg = msgWrongRegion(a.Scope.Region, region)
		fields = []Field{{"Region", region}}
	default:
		return nil
	}
	if a.Kind == PresignedAuth {
		return queryError(queryCredentialPrefix+msg, fields...)
	}
	return headerMalformed(msg, fields...)
}
