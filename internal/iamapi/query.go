package iamapi

import (
	"context"
	"net/url"

	"github.com/coffer-io/coffer/internal/auth/authn"
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

// ActionFor names the action and resource a call needs, exactly (see
// Handler.Requirement; the implied extra actions and condition keys it
// also computes do not fit this signature). Errors are *s3err.Error with
// the Query code and status (InvalidAction, MissingAction,
// MissingAuthenticationToken, or ServiceFailure/InternalFailure wrapping
// an internal cause), which the pipeline renders as they are.
func (q *QueryAPI) ActionFor(form url.Values, caller *authn.Principal) (action, resource string, err error) {
	// The interface carries no context; the lookups are local reads.
	req, err := q.h.Requirement(context.Background(), q.service, caller, form)
	if err != nil {
		e, internal := toWire(q.service, err)
		se := &s3err.Error{Code: e.Code, Message: e.Message, Status: e.Status}
		if internal {
			se = se.Wrap(err)
		}
		return "", "", se
	}
	return req.Actions[0], req.Resource, nil
}

// Serve handles an authenticated, authorized call.
func (q *QueryAPI) Serve(ctx context.Context, caller *authn.Principal, form url.Values, requestID string) (status int, body []byte) {
	return q.h.serve(ctx, q.service, caller, form, requestID)
}
