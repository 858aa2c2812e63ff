package s3api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/coffer-io/coffer/internal/audit"
	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/authz"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
)

// AWS's JSON-protocol services (KMS) arrive on the same listener as S3,
// told apart, like the Query services, by the service in the SigV4
// credential scope. The call is POST / with X-Amz-Target naming the
// operation and a JSON body; errors are JSON documents whose "__type" is
// the exception name.

// JSONService serves one JSON-protocol API.
type JSONService interface {
	// TargetPrefix is the X-Amz-Target prefix of the API's operations
	// ("TrentService.").
	TargetPrefix() string
	// Requirement names what the pipeline authorizes before Serve: the
	// calls on no particular key (and IAM-only permissions such as those
	// on aliases). Nil means the service authorizes the call itself,
	// against the key's policy. Errors are *s3err.Error with the
	// service's exception name and status.
	Requirement(ctx context.Context, op string, body []byte, caller *authn.Principal) (*QueryRequirement, error)
	// Serve handles an authenticated call. The context carries the
	// caller as an authz.Caller with the request's condition keys.
	Serve(ctx context.Context, caller *authn.Principal, op string, body []byte, requestID string) JSONResult
}

// JSONResult is a JSON call's response and what audit records of it.
type JSONResult struct {
	Status int
	Body   []byte
	// ErrorCode is the exception name of a failed call ("" on success).
	ErrorCode string
	// Denied is set when the service's own authorization refused the
	// call (audited as denied).
	Denied bool
	// Resource is the ARN acted on, when known.
	Resource string
}

// kmsMaxBody bounds a KMS request: the largest member is a key policy
// (at most 128 KiB, JSON-escaped) or a 6 KiB ciphertext in base64.
const kmsMaxBody = 512 << 10

func init() {
	opTable[OpKMS] = opInfo{name: "KMS", action: "kms:*", scope: scopeService, maxBody: kmsMaxBody}
	handlers[OpKMS] = (*Handler).serveJSON
}

func (o Op) isJSON() bool {
	return o == OpKMS || o == OpCloudTrail || o == OpConfig || o == OpMacie
}

// serviceOp is the Op of a request whose credential scope names a
// non-S3 service.
func serviceOp(svc string) Op {
	switch svc {
	case "sts":
		return OpSTS
	case "kms":
		return OpKMS
	case "cloudtrail":
		return OpCloudTrail
	case "config":
		return OpConfig
	case "macie2":
		return OpMacie
	}
	return OpIAM
}

// serveJSON runs a JSON-protocol call: the service names what the
// pipeline authorizes (if anything), then serves it with the caller in
// the context, deciding key policies itself.
func (h *Handler) serveJSON(w http.ResponseWriter, r *http.Request, rq *request) error {
	svc := h.cfg.JSON[rq.op.service()]
	if svc == nil {
		return jsonError("UnknownOperationException", http.StatusBadRequest, "The requested service is not available.")
	}
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), svc.TargetPrefix())
	if r.Method != http.MethodPost || !ok || op == "" {
		return jsonError("UnknownOperationException", http.StatusBadRequest, "")
	}
	rq.ev.Operation = op
	if rq.principal.IsAnonymous() {
		return jsonError("MissingAuthenticationTokenException", http.StatusBadRequest, "Missing Authentication Token")
	}
	if r.TLS == nil {
		// Plaintexts, data keys and key policies travel in KMS bodies:
		// unlike object data under a signed hash, they must not cross
		// the network in clear, so the plain-HTTP listener refuses them.
		rq.ev.Outcome = audit.OutcomeDenied
		return jsonError("AccessDeniedException", http.StatusBadRequest, rq.op.jsonName()+" requests must use HTTPS; this endpoint is plain HTTP.")
	}
	body, err := readAll(rq)
	if err != nil {
		return err
	}
	if int64(len(body)) > kmsMaxBody {
		return jsonError("ValidationException", http.StatusRequestEntityTooLarge, "The request body is too large.")
	}
	rq.ev.RequestParameters = jsonParameters(body)
	req, err := svc.Requirement(r.Context(), op, body, rq.principal)
	if err != nil {
		return err
	}
	cond := h.conditionContext(r, rq)
	if req != nil {
		rq.ev.Resource = req.Resource
		all := make(map[string][]string, len(cond)+len(req.Conditions))
		for k, v := range cond {
			all[k] = v
		}
		for k, v := range req.Conditions {
			all[k] = v
		}
		d := h.cfg.Authorizer.Authorize(r.Context(), &authz.Request{
			Principal: rq.principal, Actions: req.Actions, Resource: req.Resource,
			ResourceOwner: rq.principal.AccountID, Conditions: all,
		})
		if !d.Allowed {
			rq.ev.Outcome = audit.OutcomeDenied
			return jsonAccessDenied(rq.principal, req, d)
		}
	}
	ctx := authz.WithCaller(r.Context(), &authz.Caller{Principal: rq.principal, Conditions: cond})
	res := svc.Serve(ctx, rq.principal, op, body, rq.id)
	if res.Resource != "" {
		rq.ev.Resource = res.Resource
	}
	rq.ev.ErrorCode = res.ErrorCode
	if res.ErrorCode != "" {
		var e struct{ Message string }
		_ = json.Unmarshal(res.Body, &e)
		rq.ev.ErrorMessage = e.Message
	}
	if res.Denied {
		rq.ev.Outcome = audit.OutcomeDenied
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", rq.id)
	w.Header().Set("Content-Length", strconv.Itoa(len(res.Body)))
	w.WriteHeader(res.Status)
	_, err = w.Write(res.Body)
	return err
}

func jsonAccessDenied(p *authn.Principal, req *QueryRequirement, d authz.Decision) *s3err.Error {
	action := d.Action
	if action == "" && len(req.Actions) > 0 {
		action = req.Actions[0]
	}
	msg := "User: " + p.ARN + " is not authorized to perform: " + action + " on resource: " + req.Resource
	if d.Why != "" {
		msg += " " + d.Why
	}
	return jsonError("AccessDeniedException", http.StatusBadRequest, msg)
}

func jsonError(code string, status int, msg string) *s3err.Error {
	return &s3err.Error{Code: code, Status: status, Message: msg}
}

// jsonWireCodes maps the pipeline's S3 error codes (authentication,
// limits) to the JSON protocol's exception names.
var jsonWireCodes = map[string]string{
	"InvalidAccessKeyId":                "UnrecognizedClientException",
	"InvalidToken":                      "UnrecognizedClientException",
	"SignatureDoesNotMatch":             "InvalidSignatureException",
	"RequestTimeTooSkewed":              "InvalidSignatureException",
	"AuthorizationHeaderMalformed":      "IncompleteSignatureException",
	"AuthorizationQueryParametersError": "IncompleteSignatureException",
	"ExpiredToken":                      "ExpiredTokenException",
	"AccessDenied":                      "AccessDeniedException",
	"MaxMessageLengthExceeded":          "ValidationException",
}

// jsonWireError turns an error of the pipeline into the JSON protocol's
// vocabulary. JSON services answer client errors with 400.
func jsonWireError(e *s3err.Error) *s3err.Error {
	if e.Status >= 500 {
		return jsonError("KMSInternalException", http.StatusInternalServerError, "We encountered an internal error. Please try again.")
	}
	if strings.HasSuffix(e.Code, "Exception") {
		return e
	}
	if e.Code == "InvalidAccessKeyId" {
		return jsonError("UnrecognizedClientException", http.StatusBadRequest, "The security token included in the request is invalid.")
	}
	code, ok := jsonWireCodes[e.Code]
	if !ok {
		code = "ValidationException"
	}
	return jsonError(code, http.StatusBadRequest, e.Message)
}

// encodeJSONError renders an error as the JSON protocol's error document.
func encodeJSONError(e *s3err.Error) []byte {
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message,omitempty"`
	}{e.Code, e.Message})
	return b
}
