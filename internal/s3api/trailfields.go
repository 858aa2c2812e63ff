package s3api

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"

	"github.com/coffer-io/coffer/internal/audit"
	"github.com/coffer-io/coffer/internal/auth/authn"
)

// The audit event carries what a CloudTrail record says of a request:
// its parameters, the response elements it echoed, how it was signed.
// Secrets (secret keys, session tokens, SSE-C keys, signatures,
// plaintexts) never enter it: request parameters come from an allowlist
// of headers and from query or body parameters whose names do not look
// secret-bearing (isSecretParam).

// s3RequestHeaders are the request headers S3 records in
// requestParameters.
var s3RequestHeaders = []string{
	"x-amz-acl",
	"x-amz-server-side-encryption",
	"x-amz-server-side-encryption-aws-kms-key-id",
	"x-amz-server-side-encryption-bucket-key-enabled",
	"x-amz-server-side-encryption-customer-algorithm",
	"x-amz-storage-class",
	"x-amz-copy-source",
	"x-amz-bypass-governance-retention",
	"x-amz-object-lock-mode",
	"x-amz-object-lock-retain-until-date",
	"x-amz-object-lock-legal-hold",
	"x-amz-expected-bucket-owner",
}

// s3ResponseHeaders are the response headers S3 echoes in
// responseElements of a write.
var s3ResponseHeaders = []string{
	"x-amz-version-id",
	"x-amz-delete-marker",
	"x-amz-server-side-encryption",
	"x-amz-server-side-encryption-aws-kms-key-id",
	"x-amz-server-side-encryption-bucket-key-enabled",
	"x-amz-server-side-encryption-customer-algorithm",
	"x-amz-expiration",
}

// dataOps are the S3 calls CloudTrail counts as data events besides the
// object-level ones.
var dataOps = map[Op]bool{
	OpListObjects: true, OpListObjectsV2: true, OpListObjectVersions: true,
	OpListMultipartUploads: true, OpDeleteObjects: true,
}

// describeForTrail completes the audit event once the response is known.
func (h *Handler) describeForTrail(r *http.Request, w http.ResponseWriter, rq *request) {
	ev := rq.ev
	ev.Region = h.cfg.Region
	ev.Host = r.Host
	if p := rq.principal; p != nil && !p.IsAnonymous() {
		describePrincipal(ev, p)
	}
	if rq.bucket != nil {
		ev.BucketOwner = rq.bucket.Owner
	}
	switch {
	case rq.op.isQuery() || rq.op.isJSON():
		ev.ReadOnly = readOnlyCall(ev.Operation)
	case rq.op.isAdmin():
		ev.ReadOnly = r.Method == http.MethodGet
	default:
		ev.ReadOnly = opTable[rq.op].readOnly
		ev.Data = opTable[rq.op].scope == scopeObject || dataOps[rq.op]
		ev.RequestParameters = s3RequestParameters(r, rq)
		if !ev.ReadOnly && ev.Outcome == audit.OutcomeSuccess {
			ev.ResponseElements = headerElements(w.Header(), s3ResponseHeaders)
		}
	}
	add := map[string]any{
		"bytesTransferredIn":  ev.BytesIn,
		"bytesTransferredOut": ev.BytesOut,
		"x-amz-id-2":          h.hostID,
	}
	switch rq.authType {
	case "header":
		add["SignatureVersion"], add["AuthenticationMethod"] = "SigV4", "AuthHeader"
	case "presigned":
		add["SignatureVersion"], add["AuthenticationMethod"] = "SigV4", "QueryString"
	case "post":
		add["SignatureVersion"], add["AuthenticationMethod"] = "SigV4", "HtmlForm"
	}
	if ev.CipherSuite != "" {
		add["CipherSuite"] = ev.CipherSuite
	}
	if ev.SSEApplied != "" {
		add["SSEApplied"] = ev.SSEApplied
	}
	ev.AdditionalEventData = add
}

func describePrincipal(ev *audit.Event, p *authn.Principal) {
	ev.UserName = p.UserName
	switch {
	case p.Type == authn.TypeRoot:
		ev.PrincipalID = p.AccountID
	case p.UserID != "":
		ev.PrincipalID = p.UserID
	}
	if s := p.Session; s != nil {
		sc := &audit.Session{CreationDate: s.IssuedAt.UTC(), MFAAuthenticated: s.MFA, SourceIdentity: s.SourceIdentity}
		if s.RoleARN != "" {
			sc.IssuerType = "Role"
			sc.IssuerPrincipalID = s.RoleID
			sc.IssuerARN = s.RoleARN
			sc.IssuerAccountID = p.AccountID
			sc.IssuerUserName = s.RoleName
			ev.UserName = ""
		}
		ev.Session = sc
	}
}

// readOnlyCall tells from its name whether an IAM, STS, KMS or
// CloudTrail call changes nothing.
func readOnlyCall(op string) bool {
	for _, p := range []string{"Get", "List", "Describe", "Lookup", "Simulate", "Decrypt", "Encrypt", "GenerateDataKey", "GenerateRandom", "Verify"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

// s3RequestParameters is S3's requestParameters: the bucket, key and
// host, every query parameter (subresources as [""]) but secrets, and the
// recorded headers.
func s3RequestParameters(r *http.Request, rq *request) map[string]any {
	m := map[string]any{"Host": r.Host}
	if rq.t.bucket != "" {
		m["bucketName"] = rq.t.bucket
	}
	if rq.t.key != "" {
		m["key"] = rq.t.key
	}
	for k, vs := range rq.q {
		if isSecretParam(k) {
			continue
		}
		if len(vs) == 1 && vs[0] == "" {
			m[k] = []string{""}
		} else if len(vs) > 0 {
			m[k] = vs[0]
		}
	}
	for _, h := range s3RequestHeaders {
		if v := r.Header.Get(h); v != "" {
			m[h] = v
		}
	}
	return m
}

func headerElements(h http.Header, names []string) map[string]any {
	var m map[string]any
	for _, n := range names {
		if v := h.Get(n); v != "" {
			if m == nil {
				m = map[string]any{}
			}
			m[n] = v
		}
	}
	return m
}

// secretParamWords mark parameter names whose values must never be
// recorded; a name containing one is dropped, whatever the service.
var secretParamWords = []string{
	"password", "secret", "token", "signature", "plaintext", "privatekey",
	"customer-key", "authenticationcode", "ciphertextblob", "credentials",
}

func isSecretParam(name string) bool {
	n := strings.ToLower(name)
	for _, w := range secretParamWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// queryParameters is the requestParameters of a Query-protocol call:
// its form without Action, Version and secrets, names lower-camel-cased
// as CloudTrail writes them.
func queryParameters(form url.Values) map[string]any {
	m := map[string]any{}
	for k, vs := range form {
		if k == "Action" || k == "Version" || strings.HasPrefix(k, "X-Amz-") || isSecretParam(k) || len(vs) == 0 {
			continue
		}
		m[lowerFirst(k)] = vs[0]
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// jsonParameters is the requestParameters of a JSON-protocol call: the
// body's top-level members without secrets.
func jsonParameters(body []byte) map[string]any {
	var in map[string]any
	if json.Unmarshal(body, &in) != nil || len(in) == 0 {
		return nil
	}
	m := make(map[string]any, len(in))
	for k, v := range in {
		if isSecretParam(k) {
			continue
		}
		m[lowerFirst(k)] = v
	}
	return m
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// describeQueryError records the code and message of an error a Query
// service answered itself (the pipeline's own errors are recorded where
// they are written).
func describeQueryError(ev *audit.Event, status int, body []byte) {
	if status < 300 {
		return
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	if xml.Unmarshal(body, &e) != nil {
		return
	}
	ev.ErrorCode, ev.ErrorMessage = e.Error.Code, e.Error.Message
	if e.Error.Code == "AccessDenied" {
		ev.Outcome = audit.OutcomeDenied
	}
}
