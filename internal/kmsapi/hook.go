package kmsapi

import (
	"context"
	"sort"

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
		d := a.Authorize(ctx, &authz.Request{
			Principal:     c.Principal,
			Actions:       []string{action},
			Resource:      r.Key.ARN,
			ResourceOwner: r.Key.AccountID,
			Conditions:    keyConditions(c, r),
			KeyPolicy:     r.Key.Policy,
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
	return cond
}
