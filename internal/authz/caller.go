package authz

import (
	"context"

	"github.com/coffer-io/coffer/internal/auth/authn"
)

// Caller is the principal on whose behalf a service makes a downstream
// call, carried in the context. S3 calls the KMS this way for SSE-KMS, so
// the key policy is evaluated for the requester, with kms:ViaService set,
// exactly as AWS does. A context without a Caller is an internal call
// (SSE-S3 under the AWS-managed key, background work) and is not
// subject to key policies.
type Caller struct {
	Principal *authn.Principal
	// Conditions are the request's global condition keys (aws:SourceIp,
	// aws:SecureTransport, aws:PrincipalArn, ...).
	Conditions map[string][]string
	// ViaService is the service making the call on the principal's behalf
	// ("s3.REGION.amazonaws.com"); empty for a direct call.
	ViaService string
}

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c *Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the Caller ctx carries, or nil for an internal call.
func CallerFrom(ctx context.Context) *Caller {
	c, _ := ctx.Value(callerKey{}).(*Caller)
	return c
}
