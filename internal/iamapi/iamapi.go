// Package iamapi is the AWS Query-protocol front door of IAM (API version
// 2010-05-08) and STS (2011-06-15): it decodes an already-authenticated,
// already-authorized request's form parameters, calls the iam.Service and
// encodes the result as the XML that AWS SDKs and the CLI parse, or the
// error as the Query error document.
//
// It knows nothing of HTTP routing, signatures or authorization
// decisions: the request pipeline authenticates the caller, asks
// Requirement (or ActionFor) what the request needs, has the authorizer
// decide, and then calls ServeIAM or ServeSTS. Handlers return errors;
// errorTable alone decides the code and status a client sees.
package iamapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/auth/session"
	"github.com/coffer-io/coffer/internal/authz"
	"github.com/coffer-io/coffer/internal/iam"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// Services, API versions and XML namespaces.
const (
	ServiceIAM   = "iam"
	ServiceSTS   = "sts"
	IAMVersion   = "2010-05-08"
	STSVersion   = "2011-06-15"
	IAMNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
	STSNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
)

func namespace(service string) string {
	if service == ServiceSTS {
		return STSNamespace
	}
	return IAMNamespace
}

// AccountLookup finds accounts (meta.Store satisfies it).
type AccountLookup interface {
	GetAccount(ctx context.Context, id string) (*meta.Account, error)
}

// Handler serves IAM and STS Query requests.
type Handler struct {
	IAM *iam.Service
	// Accounts, if set, gives the root's GetUser its account's creation
	// date.
	Accounts AccountLookup
	// Logger receives internal failures with their request id
	// (slog.Default() if nil).
	Logger *slog.Logger
	// Sessions seals the session tokens STS issues; nil: GetSessionToken
	// and AssumeRole fail.
	Sessions *session.Sealer
	// Authorizer decides AssumeRole against the role's trust policy and
	// the caller's identity policies (nil: AssumeRole is denied).
	Authorizer authz.Authorizer
	// Now is STS's clock (time.Now if nil); Rand the source of temporary
	// credentials (crypto/rand if nil).
	Now  func() time.Time
	Rand io.Reader
	// AccessHistory feeds the service last accessed data (nil: nothing
	// was ever accessed).
	AccessHistory AccessHistory
	lastAccessed  lastAccessedJobs
}

// call is one request on its way through a handler.
type call struct {
	ctx       context.Context
	caller    *authn.Principal
	account   string
	form      url.Values
	requestID string
}

type handlerFunc func(h *Handler, c *call) (result any, err error)

// ServeIAM handles one already-authenticated, already-authorized IAM
// request. form holds Action, Version and the parameters (from the POST
// body or the query string). The body is XML (Content-Type text/xml).
func (h *Handler) ServeIAM(ctx context.Context, caller *authn.Principal, form url.Values, requestID string) (status int, body []byte) {
	return h.serve(ctx, ServiceIAM, caller, form, requestID)
}

// ServeSTS handles one already-authenticated, already-authorized STS
// request. GetCallerIdentity, GetSessionToken and AssumeRole are
// implemented; the other STS operations answer NotImplemented.
func (h *Handler) ServeSTS(ctx context.Context, caller *authn.Principal, form url.Values, requestID string) (status int, body []byte) {
	return h.serve(ctx, ServiceSTS, caller, form, requestID)
}

func (h *Handler) serve(ctx context.Context, service string, caller *authn.Principal, form url.Values, requestID string) (int, []byte) {
	action := form.Get("Action")
	o, err := lookup(service, form)
	if err == nil && caller.IsAnonymous() {
		err = ErrMissingAuthenticationToken
	}
	if err == nil {
		err = sessionRestrictions(service, action, caller)
	}
	var result any
	if err == nil {
		c := &call{ctx: ctx, caller: caller, account: caller.AccountID, form: form, requestID: requestID}
		result, err = o.handle(h, c)
	}
	if err != nil {
		return h.fail(service, action, err, requestID)
	}
	body, err := encodeResponse(namespace(service), action, result, requestID)
	if err != nil {
		return h.fail(service, action, err, requestID)
	}
	return http.StatusOK, body
}

func (h *Handler) fail(service, action string, err error, requestID string) (int, []byte) {
	e, internal := toWire(service, err)
	if internal {
		log := h.Logger
		if log == nil {
			log = slog.Default()
		}
		log.Error("iam request failed", "service", service, "action", action, "request_id", requestID, "err", err)
	}
	return e.Status, errorBody(namespace(service), e, requestID)
}

// lookup finds the operation a form asks for.
func lookup(service string, form url.Values) (*op, error) {
	action, version := form.Get("Action"), form.Get("Version")
	if action == "" {
		return nil, errMissingAction
	}
	table, want := iamOps, IAMVersion
	if service == ServiceSTS {
		table, want = stsOps, STSVersion
	}
	o, ok := table[action]
	if !ok || version != want {
		return nil, invalidAction(action, version)
	}
	return o, nil
}

// Parameters.

func (c *call) get(name string) string { return c.form.Get(name) }

// int returns an integer parameter, 0 when absent.
func (c *call) int(name, field string) (int, error) {
	v := c.form.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, iam.Errorf(iam.ErrValidation, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be a number", v, field)
	}
	return n, nil
}

// bool returns a boolean parameter, false when absent.
func (c *call) bool(name, field string) (bool, error) {
	switch v := c.form.Get(name); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, iam.Errorf(iam.ErrValidation, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be a boolean", v, field)
	}
}

// list returns a list parameter, flattened as Name.member.1, .2, ...
func (c *call) list(name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := c.form[name+".member."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

// tags returns the Tags.member.N.Key / .Value parameters.
func (c *call) tags() []iam.Tag {
	return formTags(c.form)
}

func formTags(form url.Values) []iam.Tag {
	var out []iam.Tag
	for i := 1; ; i++ {
		p := "Tags.member." + strconv.Itoa(i)
		k, hasKey := form[p+".Key"]
		v, hasValue := form[p+".Value"]
		if !hasKey && !hasValue {
			return out
		}
		t := iam.Tag{}
		if hasKey {
			t.Key = k[0]
		}
		if hasValue {
			t.Value = v[0]
		}
		out = append(out, t)
	}
}

func (c *call) listOptions() (iam.ListOptions, error) {
	n, err := c.int("MaxItems", "maxItems")
	if err == nil && c.get("MaxItems") != "" && n < 1 {
		// The service reads 0 as "absent"; an explicit 0 is out of range.
		err = iam.Errorf(iam.ErrValidation, "1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1", c.get("MaxItems"))
	}
	return iam.ListOptions{PathPrefix: c.get("PathPrefix"), Marker: c.get("Marker"), MaxItems: n}, err
}

// userOrCaller is the UserName parameter of operations where it is
// optional: absent, it is the calling user, or "" for the account root.
func (c *call) userOrCaller() (string, error) {
	if n := c.get("UserName"); n != "" {
		return n, nil
	}
	switch {
	case c.caller.IsRoot():
		return "", nil
	case c.caller.Type == authn.TypeIAMUser:
		return c.caller.UserName, nil
	}
	return "", errNonUserCaller
}
