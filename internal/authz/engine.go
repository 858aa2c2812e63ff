package authz

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"sync"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/policy"
)

// IdentitySource supplies the policy documents that apply to an IAM user.
type IdentitySource interface {
	// UserPolicies returns the user's identity policies (inline and
	// managed, its own and its groups') and its permissions boundary (nil:
	// none).
	UserPolicies(ctx context.Context, account, user string) (identity [][]byte, boundary []byte, err error)
}

// Engine decides requests with the IAM policy language and AWS's
// evaluation logic (package policy): identity policies, permissions
// boundaries and the resource's policy, for every action a request needs.
type Engine struct {
	Identity IdentitySource
	Cache    *PolicyCache
	Log      *slog.Logger
}

// Authorize implements Authorizer. Every action must be allowed; a stored
// policy that no longer parses denies (fail closed) and is logged.
func (e *Engine) Authorize(ctx context.Context, r *Request) Decision {
	in := &policy.Input{}
	p := principalOf(r.Principal)
	if p.Type == policy.IAMUser || p.Type == policy.AssumedRole {
		if reason, ok := e.principalPolicies(ctx, in, r.Principal, p); !ok {
			return Decision{Reason: reason}
		}
	}
	if len(r.KeyPolicy) > 0 {
		pol, err := e.Cache.Parse(r.KeyPolicy, policy.KeyPolicy)
		if err != nil {
			e.log().Error("stored key policy does not parse; denying", "resource", r.Resource, "err", err)
			return Decision{Reason: "stored key policy invalid"}
		}
		in.Resource = pol
	} else if len(r.TrustPolicy) > 0 {
		pol, err := e.Cache.Parse(r.TrustPolicy, policy.Trust)
		if err != nil {
			e.log().Error("stored trust policy does not parse; denying", "resource", r.Resource, "err", err)
			return Decision{Reason: "stored trust policy invalid"}
		}
		in.Resource = pol
	} else if len(r.ResourcePolicy) > 0 {
		pol, err := e.Cache.Parse(r.ResourcePolicy, policy.Resource)
		if err != nil {
			e.log().Error("stored bucket policy does not parse; denying", "resource", r.Resource, "err", err)
			return Decision{Reason: "stored resource policy invalid"}
		}
		in.Resource = pol
	}
	owner := r.ResourceOwner
	if owner == "" {
		// Nothing owns the resource yet (a bucket being created, the
		// account's bucket list, its IAM entities): the requester's own
		// account decides.
		owner = p.Account
	}
	if len(r.Actions) == 0 {
		return Decision{Reason: "no action to authorize"}
	}
	in.RestrictPublicBuckets = r.RestrictPublicBuckets
	var last policy.Decision
	for _, a := range r.Actions {
		// ACL grants are per permission, so per action.
		in.ACL = policy.ACLNone
		if r.ACL != nil {
			in.ACL = r.ACL(a)
		}
		last = policy.Evaluate(in, &policy.Request{
			Principal: p, Action: a, Resource: r.Resource, ResourceAccount: owner, ObjectOwner: r.ObjectOwner, Context: r.Conditions,
		})
		if !last.Allowed {
			d := Decision{Reason: a + ": " + last.Reason.String() + statementNote(last), Action: a}
			if p.Account != "" && p.Account == owner {
				d.Why = denialReason(a, last)
			}
			return d
		}
	}
	return Decision{Allowed: true, Reason: last.Reason.String() + statementNote(last)}
}

// denialReason words why a request was denied, as AWS does.
func denialReason(action string, d policy.Decision) string {
	why := ""
	switch d.Reason {
	case policy.ExplicitDeny:
		switch d.Source {
		case policy.SourceResource:
			why = "with an explicit deny in a resource-based policy"
		case policy.SourceBoundary:
			why = "with an explicit deny in a permissions boundary"
		case policy.SourceSession:
			why = "with an explicit deny in a session policy"
		default:
			why = "with an explicit deny in an identity-based policy"
		}
	case policy.DeniedByBoundary:
		why = "because no permissions boundary allows the " + action + " action"
	case policy.DeniedBySession:
		why = "because no session policy allows the " + action + " action"
	case policy.DeniedByKeyPolicy:
		why = "because no resource-based policy allows the " + action + " action"
	default:
		why = "because no identity-based policy allows the " + action + " action"
	}
	return why
}

func statementNote(d policy.Decision) string {
	if d.Statement == "" {
		return ""
	}
	return " (" + d.Source.String() + " " + d.Statement + ")"
}

func (e *Engine) log() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.Default()
}

// principalOf maps an authenticated principal to the policy language's.
func principalOf(a *authn.Principal) policy.Principal {
	if a.IsAnonymous() {
		return policy.Principal{Type: policy.Anonymous}
	}
	p := policy.Principal{Account: a.AccountID, CanonicalID: a.CanonicalID, ARN: a.ARN, UserID: a.UserID, Tags: a.Tags}
	switch a.Type {
	case authn.TypeRoot:
		p.Type = policy.Root
	case authn.TypeIAMUser:
		p.Type = policy.IAMUser
	case authn.TypeAssumedRole:
		p.Type = policy.AssumedRole
		if a.Session != nil {
			p.RoleARN = a.Session.RoleARN
		}
	}
	return p
}

// PolicyCache keeps parsed policies by content, so a document is parsed
// once however many requests it decides, and a changed document is simply
// a different entry: nothing ever needs invalidating.
type PolicyCache struct {
	mu sync.RWMutex
	m  map[[32]byte]*policy.Policy
}

// maxCachedPolicies bounds the cache; past it, the cache starts over.
const maxCachedPolicies = 8192

// Parse returns the parsed policy for doc, parsing it on first sight.
func (c *PolicyCache) Parse(doc []byte, kind policy.Kind) (*policy.Policy, error) {
	h := sha256.New()
	h.Write([]byte{byte(kind)})
	h.Write(doc)
	var key [32]byte
	h.Sum(key[:0])
	c.mu.RLock()
	p, ok := c.m[key]
	c.mu.RUnlock()
	if ok {
		return p, nil
	}
	p, err := policy.Parse(doc, kind)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedPolicies {
		c.m = make(map[[32]byte]*policy.Policy)
	}
	c.m[key] = p
	c.mu.Unlock()
	return p, nil
}
