package authz

import (
	"context"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/policy"
)

// RoleSource supplies the policies of a role, for role sessions. An
// Engine whose Identity does not implement it denies role sessions.
type RoleSource interface {
	// RolePolicies returns the role's identity policies and its
	// permissions boundary (nil: none).
	RolePolicies(ctx context.Context, account, role string) (identity [][]byte, boundary []byte, err error)
}

// principalPolicies fills in the identity policies, boundary and session
// policies of the requester: an IAM user's own (also under
// GetSessionToken credentials), or for a role session its role's and the
// session's. ok is false (with the reason) when they cannot be had: the
// request is then denied.
func (e *Engine) principalPolicies(ctx context.Context, in *policy.Input, a *authn.Principal, p policy.Principal) (reason string, ok bool) {
	var docs [][]byte
	var boundary []byte
	var err error
	switch p.Type {
	case policy.IAMUser:
		docs, boundary, err = e.Identity.UserPolicies(ctx, p.Account, a.UserName)
	case policy.AssumedRole:
		rs, isRS := e.Identity.(RoleSource)
		if !isRS || a.Session == nil {
			return "role policies unavailable", false
		}
		docs, boundary, err = rs.RolePolicies(ctx, p.Account, a.Session.RoleName)
	}
	if err != nil {
		e.log().Error("loading identity policies failed; denying", "principal", p.ARN, "err", err)
		return "identity policies unavailable", false
	}
	for _, d := range docs {
		pol, err := e.Cache.Parse(d, policy.Identity)
		if err != nil {
			e.log().Error("stored identity policy does not parse; denying", "principal", p.ARN, "err", err)
			return "stored identity policy invalid", false
		}
		in.Identity = append(in.Identity, pol)
	}
	if boundary != nil {
		pol, err := e.Cache.Parse(boundary, policy.Boundary)
		if err != nil {
			e.log().Error("stored permissions boundary does not parse; denying", "principal", p.ARN, "err", err)
			return "stored boundary invalid", false
		}
		in.Boundary = pol
	}
	if a.Session != nil {
		for _, d := range a.Session.Policies {
			pol, err := e.Cache.Parse(d, policy.Session)
			if err != nil {
				e.log().Error("session policy does not parse; denying", "principal", p.ARN, "err", err)
				return "session policy invalid", false
			}
			in.Session = append(in.Session, pol)
		}
	}
	return "", true
}
