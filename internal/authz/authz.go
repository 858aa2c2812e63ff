// Package authz decides whether a request may proceed. The Authorizer
// interface is the single point every request passes through after
// authentication; the core ships OwnerOnly, which the policy engine
// replaces without touching the request pipeline.
package authz

import (
	"context"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/policy"
)

// Request is everything an authorization decision may depend on.
type Request struct {
	Principal *authn.Principal
	// Action is the IAM action, e.g. "s3:GetObject". Some operations need
	// several actions; each is authorized.
	Actions []string
	// Resource is the ARN acted on: arn:aws:s3:::bucket or
	// arn:aws:s3:::bucket/key; "*" for service-level operations.
	Resource string
	// ResourceOwner is the account owning the bucket ("" when the bucket
	// does not exist or for service-level operations).
	ResourceOwner string
	// Conditions holds condition-key values (aws:SourceIp,
	// aws:SecureTransport, s3:prefix, ...).
	Conditions map[string][]string
	// ResourcePolicy is the resource's policy document (the bucket
	// policy), nil when it has none.
	ResourcePolicy []byte
	// TrustPolicy is the role's trust policy when the request is
	// sts:AssumeRole (it then takes the place of ResourcePolicy).
	TrustPolicy []byte
	// KeyPolicy is the KMS key's policy when the request acts on a key
	// (it then takes the place of ResourcePolicy): the key's sole
	// authority, which IAM policies only add to where it delegates to
	// the account.
	KeyPolicy []byte
	// ObjectOwner is the account owning the object acted on when ACLs are
	// enabled and it is not the bucket owner: the bucket policy can then
	// only deny, and the object ACL must grant (S3's object context).
	ObjectOwner string
	// ACL reports what the applicable S3 ACL grants the principal for an
	// action: the bucket ACL for bucket-level permissions, the object ACL
	// for object-level ones. Nil when no ACL is in force (ACLs disabled by
	// BucketOwnerEnforced, or not an S3 resource). Public grants ignored
	// under IgnorePublicAcls are already left out by the caller.
	ACL func(action string) policy.ACLGrant
	// RestrictPublicBuckets is the effective Block Public Access setting
	// (account OR bucket): when the bucket policy is public, only the
	// owner account's principals and service principals benefit from it.
	RestrictPublicBuckets bool
}

// Decision is the outcome of an authorization.
type Decision struct {
	Allowed bool
	// Reason explains the decision for logs and audit, never for clients.
	Reason string
	// Action is the action a denial is about (the first one refused).
	Action string
	// Why, when set, is the client-visible explanation of a denial, worded
	// as AWS words it ("because no identity-based policy allows the …
	// action", "with an explicit deny in a resource-based policy"). AWS
	// explains denials only to callers of the resource owner's account.
	Why string
}

// Authorizer decides requests.
type Authorizer interface {
	Authorize(ctx context.Context, r *Request) Decision
}

// OwnerOnly allows an account root everything on resources its account
// owns, and on resources that do not exist yet (so that it can create them
// or learn they are missing); it denies everything else, including every
// anonymous request.
type OwnerOnly struct{}

// Authorize implements Authorizer.
func (OwnerOnly) Authorize(_ context.Context, r *Request) Decision {
	p := r.Principal
	switch {
	case p.IsAnonymous():
		return Decision{Reason: "anonymous requests are denied"}
	case !p.IsRoot():
		return Decision{Reason: "only account roots are authorized"}
	case r.ResourceOwner != "" && r.ResourceOwner != p.AccountID:
		return Decision{Reason: "resource belongs to another account"}
	}
	return Decision{Allowed: true, Reason: "account root on its own resource"}
}
