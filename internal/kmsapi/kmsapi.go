// Package kmsapi is the AWS KMS JSON 1.1 front door (X-Amz-Target
// TrentService.<Operation>) over kms.Service, and the key-policy hook
// that service calls before every operation on a key.
//
// The request pipeline authenticates the caller and asks Requirement what
// it must authorize itself: the calls that act on no particular key
// (CreateKey, ListKeys, ListAliases, GenerateRandom) and the IAM-only
// permission on an alias. Everything done to a key is authorized by
// KeyPolicyHook against that key's policy, from inside kms.Service, once
// the key is resolved: that is also how S3 is held to key policies when
// it calls the KMS on a requester's behalf (authz.Caller in the context).
//
// Handlers return errors; toWire alone decides the exception name and
// status a client sees, and internal failures reach clients only as
// KMSInternalException.
package kmsapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/kms"
	"github.com/coffer-io/coffer/internal/s3api"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
)

// TargetPrefix is the X-Amz-Target prefix of KMS operations.
const TargetPrefix = "TrentService."

// Handler serves KMS JSON requests.
type Handler struct {
	KMS    *kms.Service
	Region string
	// Logger receives internal failures with their request id
	// (slog.Default() if nil).
	Logger *slog.Logger
	// Rand is GenerateRandom's source (crypto/rand if nil).
	Rand io.Reader
}

// call is one request on its way through a handler.
type call struct {
	ctx     context.Context
	caller  *authn.Principal
	account string
	body    []byte
	// resource is the key ARN acted on, for audit.
	resource string
}

type handlerFunc func(h *Handler, c *call) (any, error)

// scope says how the pipeline authorizes an operation before it is
// served.
type scope int

const (
	// scopeKey: on a key, decided by the key policy (KeyPolicyHook).
	scopeKey scope = iota
	// scopeAccount: on no particular key; IAM decides, resource "*".
	scopeAccount
	// scopeAlias: IAM decides on the alias; the key policy on the key.
	scopeAlias
	// scopeUnsupported: a KMS operation Coffer does not serve.
	scopeUnsupported
)

type opInfo struct {
	handle handlerFunc
	scope  scope
}

var ops map[string]opInfo

func init() {
	ops = map[string]opInfo{
		"CreateKey":                       {(*Handler).createKey, scopeAccount},
		"DescribeKey":                     {(*Handler).describeKey, scopeKey},
		"ListKeys":                        {(*Handler).listKeys, scopeAccount},
		"ListAliases":                     {(*Handler).listAliases, scopeAccount},
		"CreateAlias":                     {(*Handler).createAlias, scopeAlias},
		"UpdateAlias":                     {(*Handler).updateAlias, scopeAlias},
		"DeleteAlias":                     {(*Handler).deleteAlias, scopeAlias},
		"EnableKey":                       {(*Handler).enableKey, scopeKey},
		"DisableKey":                      {(*Handler).disableKey, scopeKey},
		"Encrypt":                         {(*Handler).encrypt, scopeKey},
		"Decrypt":                         {(*Handler).decrypt, scopeKey},
		"ReEncrypt":                       {(*Handler).reEncrypt, scopeKey},
		"GenerateDataKey":                 {(*Handler).generateDataKey, scopeKey},
		"GenerateDataKeyWithoutPlaintext": {(*Handler).generateDataKeyWithoutPlaintext, scopeKey},
		"GenerateRandom":                  {(*Handler).generateRandom, scopeAccount},
		"EnableKeyRotation":               {(*Handler).enableKeyRotation, scopeKey},
		"DisableKeyRotation":              {(*Handler).disableKeyRotation, scopeKey},
		"GetKeyRotationStatus":            {(*Handler).getKeyRotationStatus, scopeKey},
		"RotateKeyOnDemand":               {(*Handler).rotateKeyOnDemand, scopeKey},
		"ScheduleKeyDeletion":             {(*Handler).scheduleKeyDeletion, scopeKey},
		"CancelKeyDeletion":               {(*Handler).cancelKeyDeletion, scopeKey},
		"GetKeyPolicy":                    {(*Handler).getKeyPolicy, scopeKey},
		"PutKeyPolicy":                    {(*Handler).putKeyPolicy, scopeKey},
		"ListKeyPolicies":                 {(*Handler).listKeyPolicies, scopeKey},
		"CreateGrant":                     {(*Handler).createGrant, scopeKey},
		"ListGrants":                      {(*Handler).listGrants, scopeKey},
		"RetireGrant":                     {(*Handler).retireGrant, scopeKey},
		"RevokeGrant":                     {(*Handler).revokeGrant, scopeKey},
	}
	// AWS KMS operations Coffer does not serve: asymmetric and HMAC keys,
	// listing retirable grants, tags, custom key stores, multi-Region
	// keys, imported material.
	for _, name := range []string{
		"ListRetirableGrants",
		"TagResource", "UntagResource", "ListResourceTags", "UpdateKeyDescription",
		"Sign", "Verify", "GetPublicKey", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext",
		"GenerateMac", "VerifyMac", "DeriveSharedSecret", "ListKeyRotations",
		"GetParametersForImport", "ImportKeyMaterial", "DeleteImportedKeyMaterial",
		"CreateCustomKeyStore", "DescribeCustomKeyStores", "UpdateCustomKeyStore", "DeleteCustomKeyStore",
		"ConnectCustomKeyStore", "DisconnectCustomKeyStore", "ReplicateKey", "UpdatePrimaryRegion",
	} {
		ops[name] = opInfo{scope: scopeUnsupported}
	}
}

// API adapts the Handler to the pipeline's s3api.JSONService.
func (h *Handler) API() s3api.JSONService { return api{h} }

type api struct{ h *Handler }

func (api) TargetPrefix() string { return TargetPrefix }

// Requirement names what the pipeline authorizes before Serve: nil for
// operations on a key (the key policy decides, in KeyPolicyHook).
func (a api) Requirement(_ context.Context, op string, body []byte, caller *authn.Principal) (*s3api.QueryRequirement, error) {
	info, ok := ops[op]
	if !ok {
		return nil, wireErr(errUnknownOperation)
	}
	switch info.scope {
	case scopeAccount:
		req := &s3api.QueryRequirement{Actions: []string{"kms:" + op}, Resource: "*",
			Conditions: map[string][]string{"kms:CallerAccount": {caller.AccountID}}}
		if op == "CreateKey" {
			var in createKeyInput
			if err := decode(body, &in); err != nil {
				return nil, wireErr(err)
			}
			req.Conditions["kms:KeyOrigin"] = []string{"AWS_KMS"}
			req.Conditions["kms:KeySpec"] = []string{orDefault(in.KeySpec, "SYMMETRIC_DEFAULT")}
			req.Conditions["kms:KeyUsage"] = []string{orDefault(in.KeyUsage, "ENCRYPT_DECRYPT")}
			req.Conditions["kms:BypassPolicyLockoutSafetyCheck"] = []string{fmt.Sprint(in.BypassPolicyLockoutSafetyCheck)}
		}
		return req, nil
	case scopeAlias:
		var in struct {
			AliasName string
		}
		// Invalid bodies and names are reported by the handler, after
		// authorization, as AWS does; an unparsable name is authorized
		// as it stands.
		_ = json.Unmarshal(body, &in)
		return &s3api.QueryRequirement{
			Actions:    []string{"kms:" + op},
			Resource:   "arn:aws:kms:" + a.h.Region + ":" + caller.AccountID + ":" + in.AliasName,
			Conditions: map[string][]string{"kms:CallerAccount": {caller.AccountID}},
		}, nil
	}
	return nil, nil
}

// Serve handles an authenticated call; ctx carries the caller (see
// KeyPolicyHook).
func (a api) Serve(ctx context.Context, caller *authn.Principal, op string, body []byte, requestID string) s3api.JSONResult {
	return a.h.Serve(ctx, caller, op, body, requestID)
}

// Serve handles one KMS call.
func (h *Handler) Serve(ctx context.Context, caller *authn.Principal, op string, body []byte, requestID string) s3api.JSONResult {
	c := &call{ctx: ctx, caller: caller, account: caller.AccountID, body: body}
	info, ok := ops[op]
	var out any
	var err error
	switch {
	case !ok:
		err = errUnknownOperation
	case info.scope == scopeUnsupported:
		err = &kms.Error{Code: kms.CodeUnsupportedOperation, Message: op + " is not supported by this KMS."}
	default:
		out, err = info.handle(h, c)
	}
	if err != nil {
		if c.resource == "" {
			// A refused or failed call is audited with the key it named.
			var named struct{ KeyId string }
			_ = json.Unmarshal(body, &named)
			c.resource = named.KeyId
		}
		e := toWire(err)
		if e.Status >= 500 {
			h.log().Error("KMS request failed", "request_id", requestID, "op", op, "err", err)
		}
		return s3api.JSONResult{Status: e.Status, Body: errorBody(e.Code, e.Message), ErrorCode: e.Code,
			Denied: e.Code == CodeAccessDenied, Resource: c.resource}
	}
	if out == nil {
		out = struct{}{}
	}
	b, err := json.Marshal(out)
	if err != nil {
		h.log().Error("KMS response encoding failed", "request_id", requestID, "op", op, "err", err)
		return s3api.JSONResult{Status: 500, Body: errorBody(kms.CodeInternal, "internal error"), ErrorCode: kms.CodeInternal}
	}
	return s3api.JSONResult{Status: http.StatusOK, Body: b, Resource: c.resource}
}

func (h *Handler) log() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func (h *Handler) rand() io.Reader {
	if h.Rand != nil {
		return h.Rand
	}
	return rand.Reader
}

// Error codes of this front door beyond kms's own.
const (
	CodeAccessDenied     = "AccessDeniedException"
	CodeUnknownOperation = "UnknownOperationException"
	CodeSerialization    = "SerializationException"
)

var errUnknownOperation = &kms.Error{Code: CodeUnknownOperation}

// wireError is an error as sent: exception name, status, message.
type wireError struct {
	Code    string
	Status  int
	Message string
}

// toWire is the one place deciding what a client sees of an error:
// *kms.Error keeps its code (and message, except for internal errors);
// anything else is KMSInternalException.
func toWire(err error) wireError {
	var ke *kms.Error
	if errors.As(err, &ke) {
		if ke.Code == kms.CodeInternal {
			return wireError{kms.CodeInternal, http.StatusInternalServerError, "We encountered an internal error. Please try again."}
		}
		return wireError{ke.Code, ke.HTTPStatus(), ke.Message}
	}
	return wireError{kms.CodeInternal, http.StatusInternalServerError, "We encountered an internal error. Please try again."}
}

// wireErr is toWire for the pipeline, which renders *s3err.Error.
func wireErr(err error) error {
	e := toWire(err)
	se := &s3err.Error{Code: e.Code, Status: e.Status, Message: e.Message}
	if e.Status >= 500 {
		se = se.Wrap(err)
	}
	return se
}

func errorBody(code, msg string) []byte {
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message,omitempty"`
	}{code, msg})
	return b
}

// decode parses a request body strictly: members Coffer does not know
// are refused rather than ignored, as one might change what the call
// means. An empty body is an empty request.
func decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		switch {
		case errors.As(err, &ute):
			return &kms.Error{Code: CodeSerialization, Message: "Unexpected value type for member " + ute.Field}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return &kms.Error{Code: kms.CodeValidation, Message: "Unsupported request member " + strings.TrimPrefix(err.Error(), "json: unknown field ")}
		}
		return &kms.Error{Code: CodeSerialization, Message: "The request body is not valid JSON."}
	}
	if d.More() {
		return &kms.Error{Code: CodeSerialization, Message: "The request body is not valid JSON."}
	}
	return nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
