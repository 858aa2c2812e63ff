package s3api

import (
	"bytes"
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/coffer-io/coffer/internal/audit"
	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/authz"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
)

// AWS's Query-protocol services (IAM, STS) arrive on the same listener as
// S3 and are told apart by the service named in the SigV4 credential scope.
// They go through the same pipeline: authenticate, authorize (the service
// names the IAM action and resource of each call), handle, audit.

// QueryRequirement is what a Query call needs authorized: every action
// (some calls imply more than one), the resource ARN, and the call's own
// condition keys (e.g. iam:PolicyARN, aws:RequestTag/…).
type QueryRequirement struct {
	Actions    []string
	Resource   string
	Conditions map[string][]string
	// Unauthorized is set for calls that need no permission at all
	// (sts:GetCallerIdentity).
	Unauthorized bool
}

// QueryService serves one Query-protocol API.
type QueryService interface {
	// Namespace is the XML namespace of the API's documents.
	Namespace() string
	// Requirement names what a call needs authorized.
	Requirement(ctx context.Context, form url.Values, caller *authn.Principal) (*QueryRequirement, error)
	// Serve handles an authenticated, authorized call.
	Serve(ctx context.Context, caller *authn.Principal, form url.Values, requestID string) (status int, body []byte)
}

func init() {
	// Query bodies are small forms; IAM policy documents are at most a
	// few KiB even URL-encoded.
	opTable[OpIAM] = opInfo{name: "IAM", action: "iam:*", scope: scopeService, maxBody: 256 << 10}
	opTable[OpSTS] = opInfo{name: "STS", action: "sts:*", scope: scopeService, maxBody: 256 << 10}
	handlers[OpIAM] = (*Handler).serveQuery
	handlers[OpSTS] = (*Handler).serveQuery
}

// queryServiceOf reads the service from the request's credential scope
// without verifying anything (verification follows in authenticate).
func queryServiceOf(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if a := r.Header.Get("Authorization"); a != "" {
		if i := strings.Index(a, "Credential="); i >= 0 {
			cred = a[i+len("Credential="):]
			if j := strings.IndexAny(cred, ", "); j >= 0 {
				cred = cred[:j]
			}
		}
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		// An unsigned KMS call has no scope; its target still says what
		// it is, so it is answered in the KMS protocol.
		if cred == "" && strings.HasPrefix(r.Header.Get("X-Amz-Target"), "TrentService.") {
			return "kms"
		}
		return ""
	}
	switch parts[3] {
	case "iam", "sts", "kms", "cloudtrail", "config", "macie2":
		return parts[3]
	}
	return ""
}

func (o Op) isQuery() bool { return o == OpIAM || o == OpSTS }

func (o Op) service() string {
	switch {
	case o == OpIAM:
		return "iam"
	case o == OpSTS:
		return "sts"
	case o == OpKMS:
		return "kms"
	case o == OpCloudTrail:
		return "cloudtrail"
	case o == OpConfig:
		return "config"
	case o == OpMacie:
		return "macie2"
	case o.isAdmin():
		return adminService
	}
	return "s3"
}

// queryForm merges the query string and the (already verified, bounded)
// form body.
func queryForm(r *http.Request, rq *request) (url.Values, error) {
	form, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	body, err := readAll(rq)
	if err != nil {
		return nil, err
	}
	if len(body) > 0 {
		bf, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, err
		}
		for k, vs := range bf {
			form[k] = append(form[k], vs...)
		}
	}
	return form, nil
}

// serveQuery runs a Query-protocol call: the service names the action to
// authorize, then serves it.
func (h *Handler) serveQuery(w http.ResponseWriter, r *http.Request, rq *request) error {
	svc := h.cfg.Query[rq.op.service()]
	if svc == nil {
		return s3err.NotImplemented
	}
	form, err := queryForm(r, rq)
	if err != nil {
		return queryError("MalformedQueryString", 400, "The request body is not a valid form.")
	}
	if a := form.Get("Action"); a != "" {
		rq.ev.Operation = a
	}
	rq.ev.RequestParameters = queryParameters(form)
	req, err := svc.Requirement(r.Context(), form, rq.principal)
	if err != nil {
		return err
	}
	rq.ev.Resource = req.Resource
	if !req.Unauthorized {
		cond := h.conditionContext(r, rq)
		for k, v := range req.Conditions {
			cond[k] = v
		}
		d := h.cfg.Authorizer.Authorize(r.Context(), &authz.Request{
			Principal: rq.principal, Actions: req.Actions, Resource: req.Resource,
			ResourceOwner: rq.principal.AccountID, Conditions: cond,
		})
		if !d.Allowed {
			rq.ev.Outcome = audit.OutcomeDenied
			return queryAccessDenied(rq.principal, req, d)
		}
	}
	// The service may authorize further itself (STS AssumeRole against
	// the role's trust policy) with the same condition keys.
	ctx := context.WithValue(r.Context(), queryCondKey{}, h.conditionContext(r, rq))
	status, body := svc.Serve(ctx, rq.principal, form, rq.id)
	describeQueryError(rq.ev, status, body)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, err = w.Write(body)
	return err
}

type queryCondKey struct{}

// QueryConditions returns the condition keys the pipeline built for the
// Query call whose context ctx is (aws:SourceIp, aws:SecureTransport, the
// principal's and session's keys, ...), or nil outside one. The map is
// the caller's to read, not to modify.
func QueryConditions(ctx context.Context) map[string][]string {
	c, _ := ctx.Value(queryCondKey{}).(map[string][]string)
	return c
}

// queryAccessDenied is IAM's AccessDenied message, which names the caller,
// the action and the resource.
func queryAccessDenied(p *authn.Principal, req *QueryRequirement, d authz.Decision) *s3err.Error {
	action := d.Action
	if action == "" && len(req.Actions) > 0 {
		action = req.Actions[0]
	}
	msg := "User: " + p.ARN + " is not authorized to perform: " + action + " on resource: " + req.Resource
	if d.Why != "" {
		msg += " " + d.Why
	}
	return queryError("AccessDenied", http.StatusForbidden, msg)
}

// queryError is an error with a Query-protocol code.
func queryError(code string, status int, msg string) *s3err.Error {
	return &s3err.Error{Code: code, Status: status, Message: msg}
}

// encodeQueryError renders an error in the Query protocol's format.
func encodeQueryError(e *s3err.Error, ns, requestID string) []byte {
	var b bytes.Buffer
	typ := "Sender"
	if e.Status >= 500 {
		typ = "Receiver"
	}
	b.WriteString(`<ErrorResponse xmlns="` + ns + `"><Error><Type>` + typ + `</Type><Code>`)
	xml.EscapeText(&b, []byte(e.Code))
	b.WriteString("</Code><Message>")
	xml.EscapeText(&b, []byte(e.Message))
	b.WriteString("</Message></Error><RequestId>" + requestID + "</RequestId></ErrorResponse>")
	return b.Bytes()
}
