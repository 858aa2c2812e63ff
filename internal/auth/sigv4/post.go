package sigv4

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// PostAuth is the parsed (not yet verified) authentication of a browser
// POST upload form (spec §1.9).
type PostAuth struct {
	// Anonymous is set when the form carries no signature fields at all;
	// the upload is then authorized as an anonymous PutObject.
	Anonymous     bool
	AccessKeyID   string
	Scope         Scope
	Date          time.Time // x-amz-date
	Signature     string    // x-amz-signature
	Policy        string    // the base64 policy exactly as sent
	SecurityToken string    // x-amz-security-token, if any
}

// formGet looks a form field up case-insensitively, as S3 does.
func formGet(fields map[string]string, name string) (string, bool) {
	if v, ok := fields[name]; ok {
		return v, true
	}
	for k, v := range fields {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

func postArg(msg string) *Error { return ErrPostInvalidArgument.with(msg) }

// ParsePostForm extracts the signature fields from a POST form's fields
// (every field except the file; names in any case). It does no
// cryptography. A form without policy and signature fields is Anonymous.
func ParsePostForm(fields map[string]string) (*PostAuth, error) {
	if _, ok := formGet(fields, "AWSAccessKeyId"); ok {
		return nil, ErrUnsupportedAuthorizationMechanism // SigV2 form
	}
	names := [...]string{"x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature", "policy"}
	var vals [len(names)]string
	any := false
	for i, n := range names {
		var ok bool
		vals[i], ok = formGet(fields, n)
		any = any || ok
	}
	if !any {
		return &PostAuth{Anonymous: true}, nil
	}
	for i, n := range names {
		if vals[i] == "" {
			return nil, postArg("Bucket POST must contain a field named '" + n + "'.  If it is specified, please check the order of the fields.")
		}
	}
	alg, cred, date, sig, policy := vals[0], vals[1], vals[2], vals[3], vals[4]
	switch alg {
	case Algorithm:
	case AlgorithmSigV4a:
		return nil, ErrSigV4aNotImplemented.with("", Field{"Header", "x-amz-algorithm"})
	default:
		return nil, ErrUnsupportedAuthorizationMechanism
	}
	p := &PostAuth{Signature: sig, Policy: policy}
	var prob *credentialProblem
	if p.AccessKeyID, p.Scope, prob = parseCredential(cred); prob != nil {
		return nil, postArg(prob.suffix())
	}
	t, err := time.Parse(iso8601Basic, date)
	if err != nil || len(date) != len(iso8601Basic) {
		return nil, postArg(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`)
	}
	if t.Format(yyyymmdd) != p.Scope.Date {
		return nil, postArg("Invalid credential date. Date is not the same as X-Amz-Date.")
	}
	p.Date = t
	p.SecurityToken, _ = formGet(fields, "x-amz-security-token")
	return p, nil
}

// CheckScope checks the credential scope against the endpoint's region and
// service (InvalidArgument otherwise). Anonymous forms always pass.
func (p *PostAuth) CheckScope(region, service string) error {
	switch {
	case p.Anonymous:
		return nil
	case p.Scope.Service != service:
		return postArg(msgWrongService(p.Scope.Service, service))
	case p.Scope.Region != region:
		return ErrPostInvalidArgument.with(msgWrongRegion(p.Scope.Region, region), Field{"Region", region})
	}
	return nil
}

// PostCondition is one condition of a POST policy.
type PostCondition struct {
	Op    string // "eq", "starts-with" or "content-length-range"
	Field string // lowercase field name without '$' (eq, starts-with)
	Value string // eq, starts-with
	Min   int64  // content-length-range
	Max   int64  // content-length-range
}

// PostPolicy is a verified POST policy.
type PostPolicy struct {
	Expiration time.Time
	Conditions []PostCondition
	// MinLength and MaxLength are the content-length-range bounds on the
	// file (inclusive); MaxLength is -1 when the policy sets no range.
	MinLength int64
	MaxLength int64
}

// VerifyPostPolicy checks a POST form against secret, the secret of
// p.AccessKeyID (ignored for anonymous forms): the signature over the base64
// policy, then the policy's expiration at now, then every condition against
// fields (names case-insensitive; bucket is the request's bucket), then that
// every field except x-amz-signature, file, policy and x-ignore-* is covered
// by a condition. fields["key"] must already have ${filename} expanded.
//
// An anonymous form without a policy has nothing to check and yields a
// policy without bounds. The file length is for the caller to enforce, with
// PostPolicy.CheckLength or PostPolicy.LimitReader.
func VerifyPostPolicy(p *PostAuth, fields map[string]string, bucket, secret string, now time.Time) (*PostPolicy, error) {
	policyB64 := p.Policy
	if p.Anonymous {
		policyB64, _ = formGet(fields, "policy")
		if policyB64 == "" {
			return &PostPolicy{MaxLength: -1}, nil
		}
	} else {
		key := SigningKey(secret, p.Scope.Date, p.Scope.Region, p.Scope.Service)
		want := hmacSHA256(key, policyB64)
		got, err := hex.DecodeString(p.Signature)
		if err != nil || !hmac.Equal(got, want) {
			return nil, ErrSignatureDoesNotMatch.with("",
				Field{"AWSAccessKeyId", p.AccessKeyID},
				Field{"StringToSign", policyB64},
				Field{"SignatureProvided", p.Signature})
		}
	}

	pol, err := parsePostPolicy(policyB64)
	if err != nil {
		return nil, err
	}
	if now.After(pol.Expiration) {
		return nil, ErrPostPolicyExpired
	}

	covered := map[string]bool{}
	for _, c := range pol.Conditions {
		if c.Op == "content-length-range" {
			if c.Min > pol.MinLength {
				pol.MinLength = c.Min
			}
			if pol.MaxLength < 0 || c.Max < pol.MaxLength {
				pol.MaxLength = c.Max
			}
			continue
		}
		covered[c.Field] = true
		var v string
		if c.Field == "bucket" {
			v = bucket
		} else {
			v, _ = formGet(fields, c.Field)
		}
		if !c.holds(v) {
			return nil, ErrPostPolicyConditionFailed.with(
				"Invalid according to Policy: Policy Condition failed: " + c.String())
		}
	}

	extra := []string{}
	if !covered["bucket"] {
		extra = append(extra, "bucket")
	}
	for k := range fields {
		lk := strings.ToLower(k)
		switch {
		case lk == "x-amz-signature", lk == "file", lk == "policy", strings.HasPrefix(lk, "x-ignore-"):
		case !covered[lk]:
			extra = append(extra, lk)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return nil, ErrPostPolicyExtraField.with("Invalid according to Policy: Extra input fields: " + strings.Join(extra, ", "))
	}
	return pol, nil
}

func (c *PostCondition) holds(v string) bool {
	switch c.Op {
	case "eq":
		return v == c.Value
	case "starts-with":
		if c.Field == "content-type" && strings.Contains(v, ",") {
			// Every element of a Content-Type list must match.
			for _, e := range strings.Split(v, ",") {
				if !strings.HasPrefix(strings.TrimSpace(e), c.Value) {
					return false
				}
			}
			return true
		}
		return strings.HasPrefix(v, c.Value)
	}
	return false
}

// String renders the condition as AWS quotes it in error messages.
func (c *PostCondition) String() string {
	if c.Op == "content-length-range" {
		return `["content-length-range", ` + strconv.FormatInt(c.Min, 10) + ", " + strconv.FormatInt(c.Max, 10) + "]"
	}
	return "[" + strconv.Quote(c.Op) + ", " + strconv.Quote("$"+c.Field) + ", " + strconv.Quote(c.Value) + "]"
}

func policyError(msg string) *Error { return ErrInvalidPolicyDocument.with("Invalid Policy: " + msg) }

func parsePostPolicy(b64 string) (*PostPolicy, error) {
	if b64 == "" {
		return nil, policyError("Expecting '{' but found End-of-Input")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, policyError("invalid Base64 encoding.")
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil || doc == nil {
		return nil, policyError("Invalid JSON.")
	}
	for k := range doc {
		if k != "expiration" && k != "conditions" {
			return nil, policyError("Unexpected: " + strconv.Quote(k))
		}
	}
	expRaw, ok := doc["expiration"]
	if !ok {
		return nil, policyError("Policy missing expiration.")
	}
	var exp string
	if err := json.Unmarshal(expRaw, &exp); err != nil {
		return nil, policyError("Invalid 'expiration' value: '" + string(expRaw) + "'")
	}
	t, err := time.Parse(time.RFC3339Nano, exp)
	if err != nil {
		return nil, policyError("Invalid 'expiration' value: '" + exp + "'")
	}
	condRaw, ok := doc["conditions"]
	if !ok {
		return nil, policyError("Policy missing conditions.")
	}
	var conds []json.RawMessage
	if err := json.Unmarshal(condRaw, &conds); err != nil {
		return nil, policyError("Invalid 'conditions' value: must be a List.")
	}
	pol := &PostPolicy{Expiration: t, MaxLength: -1}
	for _, cr := range conds {
		c, err := parseCondition(cr)
		if err != nil {
			return nil, err
		}
		pol.Conditions = append(pol.Conditions, c)
	}
	return pol, nil
}

func parseCondition(raw json.RawMessage) (PostCondition, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return PostCondition{}, policyError("Invalid JSON.")
		}
		if len(obj) != 1 {
			return PostCondition{}, policyError("Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.")
		}
		for k, v := range obj {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return PostCondition{}, policyError("Invalid Simple-Condition: value must be a string.")
			}
			return PostCondition{Op: "eq", Field: fieldName(k), Value: s}, nil
		}
	}
	var arr []json.RawMessage
	if err := json.Unmarshal(raw, &arr); err != nil {
		return PostCondition{}, policyError("Invalid condition test: must be a List or Object.")
	}
	if len(arr) == 0 {
		return PostCondition{}, policyError("Invalid Condition: missing operation identifier.")
	}
	var op string
	if err := json.Unmarshal(arr[0], &op); err != nil {
		return PostCondition{}, policyError("Invalid Condition: missing operation identifier.")
	}
	lop := strings.ToLower(op)
	switch lop {
	case "eq", "starts-with":
		var f, v string
		if len(arr) != 3 {
			return PostCondition{}, policyError("Invalid " + op + ": wrong number of arguments.")
		}
		if json.Unmarshal(arr[1], &f) != nil || json.Unmarshal(arr[2], &v) != nil || !strings.HasPrefix(f, "$") {
			return PostCondition{}, policyError("Invalid " + op + ": wrong argument types.")
		}
		return PostCondition{Op: lop, Field: fieldName(f), Value: v}, nil
	case "content-length-range":
		if len(arr) != 3 {
			return PostCondition{}, policyError("Invalid " + op + ": wrong number of arguments.")
		}
		lo, ok1 := policyInt(arr[1])
		hi, ok2 := policyInt(arr[2])
		if !ok1 || !ok2 || lo < 0 || hi < lo {
			return PostCondition{}, policyError("Invalid " + op + ": wrong argument types.")
		}
		return PostCondition{Op: lop, Min: lo, Max: hi}, nil
	}
	return PostCondition{}, policyError("Invalid Condition: unknown operation '" + op + "'.")
}

func fieldName(s string) string { return strings.ToLower(strings.TrimPrefix(s, "$")) }

// policyInt accepts a JSON integer or a string holding one, as browsers'
// policy generators emit both.
func policyInt(raw json.RawMessage) (int64, bool) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n, err == nil
}

// CheckLength checks a file length against the content-length-range.
func (pp *PostPolicy) CheckLength(n int64) error {
	if pp.MaxLength >= 0 && n > pp.MaxLength {
		return ErrEntityTooLarge
	}
	if n < pp.MinLength {
		return ErrEntityTooSmall
	}
	return nil
}

// LimitReader returns a reader over the file that fails with
// ErrEntityTooLarge as soon as more than MaxLength bytes arrive and with
// ErrEntityTooSmall at EOF if fewer than MinLength did, so the range is
// enforced while streaming.
func (pp *PostPolicy) LimitReader(r io.Reader) io.Reader {
	return &lengthRangeReader{r: r, min: pp.MinLength, max: pp.MaxLength}
}

type lengthRangeReader struct {
	r        io.Reader
	n        int64
	min, max int64
}

func (l *lengthRangeReader) Read(p []byte) (int, error) {
	if l.max >= 0 && int64(len(p)) > l.max-l.n+1 {
		// Read at most one byte past the maximum: enough to detect it.
		p = p[:l.max-l.n+1]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.max >= 0 && l.n > l.max {
		return n, ErrEntityTooLarge
	}
	if err == io.EOF && l.n < l.min {
		return n, ErrEntityTooSmall
	}
	return n, err
}
