package iamapi

import (
	"context"
	"net/url"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/s3api"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
)

// QueryAPI adapts the Handler to one Query-protocol API in the shape of
// the request pipeline's s3api.QueryService (Namespace, ActionFor, Serve),
// so the composition root can register h.IAMAPI() and h.STSAPI().
type QueryAPI struct {
	h       *Handler
	service string
}

// IAMAPI returns the Handler's IAM API.
func (h *Handler) IAMAPI() *QueryAPI { return &QueryAPI{h: h, service: ServiceIAM} }

// STSAPI returns the Handler's STS API.
func (h *Handler) STSAPI() *QueryAPI { return &QueryAPI{h: h, service: ServiceSTS} }

// Namespace is the XML namespace of the API's documents.
func (q *QueryAPI) Namespace() string { return namespace(q.service) }

// Requirement names what a call needs authorized (see
// Handler.Requirement). Errors are *s3err.Error with the Query code and
// status (InvalidAction, MissingAction, MissingAuthenticationToken, or
// ServiceFailure/InternalFailure wrapping an internal cause), which the
// pipeline renders as they are.
func (q *QueryAPI) Requirement(ctx context.Context, form url.Values, caller *authn.Principal) (*s3api.QueryRequirement, error) {
	req, err := q.h.Requirement(ctx, q.service, caller, form)
	if err != nil {
		e, internal := toWire(q.service, err)
		se := &s3err.Error{Code: e.Code, Message: e.Message, Status: e.Status}
		if internal {
			se = se.Wrap(err)
		}
		return nil, se
	}
	out := &s3api.QueryRequirement{Actions: req.Actions, Resource: req.Resource, Conditions: req.Conditions}
	// GetCallerIdentity needs no permission: AWS answers it even under
	// an explicit deny.
	// GetSessionToken needs none either (it is an authentication step);
	// AssumeRole is authorized by its handler, which weighs the role's
	// trust policy together with the caller's identity policies.
	if q.service == ServiceSTS {
		switch form.Get("Action") {
		case "GetCallerIdentity", "GetSessionToken", "AssumeRole":
			out.Unauthorized = true
		}
	}
	return out, nil
}

// Serve handles an authenticated, authorized call.
func (q *QueryAPI) Serve(ctx context.Context, caller *authn.Principal, form url.Values, requestID string) (status int, body []byte) {
	return q.h.serve(ctx, q.service, caller, form, requestID)
}
