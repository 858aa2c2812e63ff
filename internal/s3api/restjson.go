package s3api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/coffer-io/coffer/internal/audit"
	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/authz"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
)

// AWS's REST-JSON services (Macie, credential scope service "macie2")
// name their operation by method and path rather than by X-Amz-Target;
// bodies and errors are JSON, and an error's status is the exception's
// own (404 ResourceNotFoundException, 409 ConflictException, …) with
// its name in X-Amzn-ErrorType.

// RESTService serves one REST-JSON API.
type RESTService interface {
	// Route names the operation of a call and what the pipeline
	// authorizes before Serve. An unknown method and path is an error
	// (*s3err.Error with the service's exception name and status).
	Route(ctx context.Context, method, path string, query url.Values, caller *authn.Principal) (op string, req *QueryRequirement, err error)
	// Serve handles an authenticated, authorized call.
	Serve(ctx context.Context, caller *authn.Principal, op, path string, query url.Values, body []byte, requestID string) JSONResult
}

// restMaxBody bounds a REST-JSON request: the largest Macie members are
// allow-list words and custom identifiers' keyword lists.
const restMaxBody = 512 << 10

func init() {
	opTable[OpMacie] = opInfo{name: "Macie", action: "macie2:*", scope: scopeService, maxBody: restMaxBody}
	handlers[OpMacie] = (*Handler).serveREST
}

// serveREST runs a REST-JSON call: the service names the operation and
// what the pipeline authorizes, then serves it.
func (h *Handler) serveREST(w http.ResponseWriter, r *http.Request, rq *request) error {
	svc := h.cfg.REST[rq.op.service()]
	if svc == nil {
		return jsonError("ResourceNotFoundException", http.StatusNotFound, "The requested service is not available.")
	}
	if rq.principal.IsAnonymous() {
		return jsonError("AccessDeniedException", http.StatusForbidden, "Missing Authentication Token")
	}
	if r.TLS == nil {
		// Findings and identifiers describe where sensitive data sits:
		// they do not cross the network in clear.
		rq.ev.Outcome = audit.OutcomeDenied
		return jsonError("AccessDeniedException", http.StatusForbidden, "Macie requests must use HTTPS; this endpoint is plain HTTP.")
	}
	op, req, err := svc.Route(r.Context(), r.Method, r.URL.Path, rq.q, rq.principal)
	if err != nil {
		return err
	}
	rq.ev.Operation = op
	body, err := readAll(rq)
	if err != nil {
		return err
	}
	if int64(len(body)) > restMaxBody {
		return jsonError("ValidationException", http.StatusBadRequest, "The request body is too large.")
	}
	if len(body) > 0 {
		rq.ev.RequestParameters = jsonParameters(body)
	}
	cond := h.conditionContext(r, rq)
	if req != nil && !req.Unauthorized {
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
			e := jsonAccessDenied(rq.principal, req, d)
			e.Status = http.StatusForbidden
			return e
		}
	}
	ctx := authz.WithCaller(r.Context(), &authz.Caller{Principal: rq.principal, Conditions: cond})
	res := svc.Serve(ctx, rq.principal, op, r.URL.Path, rq.q, body, rq.id)
	if res.Resource != "" {
		rq.ev.Resource = res.Resource
	}
	rq.ev.ErrorCode = res.ErrorCode
	if res.ErrorCode != "" {
		var e struct{ Message string }
		_ = json.Unmarshal(res.Body, &e)
		rq.ev.ErrorMessage = e.Message
		w.Header().Set("X-Amzn-Errortype", res.ErrorCode)
	}
	if res.Denied {
		rq.ev.Outcome = audit.OutcomeDenied
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", rq.id)
	w.Header().Set("Content-Length", strconv.Itoa(len(res.Body)))
	w.WriteHeader(res.Status)
	_, err = w.Write(res.Body)
	return err
}

// restWireError turns an error of the pipeline into the REST-JSON
// vocabulary, keeping the statuses Macie gives its exceptions.
func restWireError(e *s3err.Error) *s3err.Error {
	if e.Status >= 500 {
		return jsonError("InternalServerException", http.StatusInternalServerError, "We encountered an internal error. Please try again.")
	}
	if len(e.Code) > len("Exception") && e.Code[len(e.Code)-len("Exception"):] == "Exception" {
		return e
	}
	if code, ok := jsonWireCodes[e.Code]; ok && code != "ValidationException" {
		// Authentication failures: AWS's REST front ends answer 403.
		return jsonError(code, http.StatusForbidden, e.Message)
	}
	return jsonError("ValidationException", http.StatusBadRequest, e.Message)
}
