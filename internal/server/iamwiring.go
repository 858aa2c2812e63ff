package server

import (
	"context"
	"errors"

	"github.com/coffer-io/coffer/internal/iam"
	"github.com/coffer-io/coffer/internal/policy"
)

// validatePolicy checks IAM policy documents with the policy language's
// strict parser, so IAM stores nothing the authorizer could not evaluate.
func validatePolicy(doc []byte, kind iam.PolicyKind) error {
	pk := policy.Identity
	switch kind {
	case iam.Managed:
		pk = policy.Managed
	case iam.Trust:
		pk = policy.Trust
	case iam.Boundary:
		pk = policy.Boundary
	}
	if _, err := policy.Parse(doc, pk); err != nil {
		var pe *policy.Error
		if errors.As(err, &pe) {
			return iam.Errorf(iam.ErrMalformedPolicyDocument, "%s", pe.Message)
		}
		return err
	}
	return nil
}

// iamDirectory adapts the IAM service to what authentication and
// authorization need from it.
type iamDirectory struct{ svc *iam.Service }

// LookupUser gives an IAM user's ARN (with its path), unique id and tags.
func (d iamDirectory) LookupUser(ctx context.Context, account, name string) (string, string, map[string]string, error) {
	u, err := d.svc.GetUser(ctx, account, name)
	if err != nil {
		return "", "", nil, err
	}
	var tags map[string]string
	if len(u.Tags) > 0 {
		tags = make(map[string]string, len(u.Tags))
		for _, t := range u.Tags {
			tags[t.Key] = t.Value
		}
	}
	return u.ARN(account), u.UserID, tags, nil
}

// UserPolicies returns the user's identity policies and boundary.
func (d iamDirectory) UserPolicies(ctx context.Context, account, user string) ([][]byte, []byte, error) {
	return d.svc.PrincipalPolicies(ctx, account, user)
}

// rootMFA checks an account root's MFA codes for S3 MFA Delete. A code
// that does not verify (wrong, reused, or of a device that is not the
// root's) is a refusal; anything else is a failure to check.
type rootMFA struct{ svc *iam.Service }

func (m rootMFA) VerifyRootMFA(ctx context.Context, account, serial, code string) (bool, error) {
	err := m.svc.VerifyUserMFA(ctx, account, iam.RootUserName, serial, code)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, iam.ErrInvalidAuthenticationCode), errors.Is(err, iam.ErrNoSuchEntity), errors.Is(err, iam.ErrValidation):
		return false, nil
	}
	return false, err
}
