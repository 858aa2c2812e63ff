package kmsapi

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strings"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/authz"
	"github.com/coffer-io/coffer/internal/kms"
)

// KeyPolicyHook returns the kms.Config.Authorize hook that holds every
// operation on a key to AWS KMS's rules, decided by a (the policy
// engine): no applicable policy may deny, and the key policy must allow
// either the principal itself, or its account — the principal's identity
// policies must then allow too (the account's root needs nothing more).
//
// The principal comes from the context's authz.Caller: the KMS API's
// caller, or the requester S3 acts for (with ViaService set, so that
// kms:ViaService conditions, like the aws/s3 key's, can see it). A context
// without a Caller is an internal call (SSE-S3 data keys, rotation) and is
// not checked.
func KeyPolicyHook(a authz.Authorizer) func(context.Context, *kms.AuthzRequest) error {
	return func(ctx context.Context, r *kms.AuthzRequest) error {
		c := authz.CallerFrom(ctx)
		if c == nil {
			return nil
		}
		if c.Principal == nil || c.Principal.IsAnonymous() {
			return &kms.Error{Code: CodeAccessDenied, Message: "Anonymous requests cannot use KMS keys."}
		}
		action := "kms:" + r.Op
		if r.Op == "RetireGrant" && r.Grant != nil && mayRetire(c.Principal, r.Grant) {
			return nil
		}
		pol := r.Key.Policy
		if len(r.Grants) > 0 && !r.LockoutCheck {
			var err error
			if pol, err = withGrants(pol, r.Grants); err != nil {
				return err
			}
		}
		d := a.Authorize(ctx, &authz.Request{
			Principal:     c.Principal,
			Actions:       []string{action},
			Resource:      r.Key.ARN,
			ResourceOwner: r.Key.AccountID,
			Conditions:    keyConditions(c, r),
			KeyPolicy:     pol,
		})
		if d.Allowed {
			return nil
		}
		msg := "User: " + c.Principal.ARN + " is not authorized to perform: " + action + " on resource: " + r.Key.ARN
		if d.Why != "" {
			msg += " " + d.Why
		} else {
			msg += " because no resource-based policy allows the " + action + " action"
		}
		return &kms.Error{Code: CodeAccessDenied, Message: msg}
	}
}

// keyConditions is the condition-key context of an operation on a key:
// the request's global keys plus KMS's own.
func keyConditions(c *authz.Caller, r *kms.AuthzRequest) map[string][]string {
	cond := make(map[string][]string, len(c.Conditions)+8+len(r.EncryptionContext))
	for k, v := range c.Conditions {
		cond[k] = v
	}
	cond["kms:CallerAccount"] = []string{c.Principal.AccountID}
	cond["kms:KeyOrigin"] = []string{originAWSKMS}
	cond["kms:KeySpec"] = []string{keySpecSymmetric}
	cond["kms:KeyUsage"] = []string{keyUsageEncrypt}
	if c.ViaService != "" {
		cond["kms:ViaService"] = []string{c.ViaService}
		// S3 calls on the requester's behalf (a forward access session).
		cond["aws:ViaAWSService"] = []string{"true"}
	}
	switch r.Op {
	case "Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext":
		cond["kms:EncryptionAlgorithm"] = []string{encryptionSymmetric}
	}
	if len(r.EncryptionContext) > 0 {
		keys := make([]string, 0, len(r.EncryptionContext))
		for k, v := range r.EncryptionContext {
			keys = append(keys, k)
			cond["kms:EncryptionContext:"+k] = []string{v}
		}
		sort.Strings(keys)
		cond["kms:EncryptionContextKeys"] = keys
	}
	if r.Alias != "" {
		cond["kms:RequestAlias"] = []string{r.Alias}
	}
	if g := r.Grant; g != nil && r.Op == "CreateGrant" {
		cond["kms:GranteePrincipal"] = []string{g.GranteePrincipal}
		if g.RetiringPrincipal != "" {
			cond["kms:RetiringPrincipal"] = []string{g.RetiringPrincipal}
		}
		cond["kms:GrantOperations"] = append([]string(nil), g.Operations...)
		cond["kms:GrantIsForAWSResource"] = []string{"false"}
		switch {
		case g.EncryptionContextEquals != nil:
			cond["kms:GrantConstraintType"] = []string{"EncryptionContextEquals"}
		case g.EncryptionContextSubset != nil:
			cond["kms:GrantConstraintType"] = []string{"EncryptionContextSubset"}
		}
	}
	return cond
}

// mayRetire applies AWS's rule for RetireGrant, a permission only grants
// give: the retiring principal, the grantee of a grant that allows
// RetireGrant, and the account that created the grant may retire it.
func mayRetire(p *authn.Principal, g *kms.Grant) bool {
	arn := p.ARN
	if p.Session != nil && p.Session.RoleARN != "" {
		if arn == g.RetiringPrincipal || p.Session.RoleARN == g.RetiringPrincipal {
			return true
		}
		if slices.Contains(g.Operations, "RetireGrant") && (arn == g.GranteePrincipal || p.Session.RoleARN == g.GranteePrincipal) {
			return true
		}
	}
	switch {
	case arn == g.RetiringPrincipal:
		return true
	case arn == g.GranteePrincipal && slices.Contains(g.Operations, "RetireGrant"):
		return true
	case p.IsRoot() && arn == g.IssuingAccount:
		return true
	}
	return false
}

// withGrants returns the key policy with one Allow statement per grant:
// a grant then counts exactly as a key policy statement naming its grantee
// would (directly for a user or role, by delegation for an account), and
// an explicit deny anywhere still wins. Constraints become conditions on
// the encryption context.
func withGrants(policy []byte, grants []kms.Grant) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(policy, &doc); err != nil {
		return nil, err
	}
	stmts, ok := doc["Statement"].([]any)
	if !ok {
		stmts = []any{doc["Statement"]}
	}
	for _, g := range grants {
		acts := make([]string, len(g.Operations))
		for i, op := range g.Operations {
			acts[i] = "kms:" + op
		}
		st := map[string]any{
			"Sid": "Grant " + g.ID, "Effect": "Allow", "Principal": map[string]string{"AWS": g.GranteePrincipal},
			"Action": acts, "Resource": "*",
		}
		if strings.HasSuffix(g.GranteePrincipal, ".amazonaws.com") {
			st["Principal"] = map[string]string{"Service": g.GranteePrincipal}
		}
		cond := map[string]any{}
		ec := g.EncryptionContextSubset
		if g.EncryptionContextEquals != nil {
			ec = g.EncryptionContextEquals
			if len(ec) == 0 {
				cond["Null"] = map[string]string{"kms:EncryptionContextKeys": "true"}
			} else {
				keys := make([]string, 0, len(ec))
				for k := range ec {
					keys = append(keys, k)
				}
				cond["ForAllValues:StringEquals"] = map[string]any{"kms:EncryptionContextKeys": keys}
			}
		}
		if len(ec) > 0 {
			eq := map[string]string{}
			for k, v := range ec {
				eq["kms:EncryptionContext:"+k] = v
			}
			cond["StringEquals"] = eq
		}
		if len(cond) > 0 {
			st["Condition"] = cond
		}
		stmts = append(stmts, st)
	}
	doc["Statement"] = stmts
	return json.Marshal(doc)
}
