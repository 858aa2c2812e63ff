package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The built-in conformance pack: the CIS AWS Foundations Benchmark and
// Security Hub S3 controls that AWS Config managed rules implement
// (spec §8.4, §8.5).

// BuiltinPack is the template name that selects the built-in pack
// (PutConformancePack --template-body, or `coffer compliance pack`).
const BuiltinPack = "coffer:cis-securityhub-s3"

// PackRule is one rule of the pack and the controls it implements.
type PackRule struct {
	Identifier string
	Params     map[string]string
	Controls   []string
	Severity   string
}

// PackRules lists the built-in pack's rules.
var PackRules = []PackRule{
	{"S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC", nil, []string{"SecurityHub S3.1", "CIS v3.0.0 2.1.4", "CIS v1.4.0 2.1.5"}, "MEDIUM"},
	{"S3_BUCKET_PUBLIC_READ_PROHIBITED", nil, []string{"SecurityHub S3.2"}, "CRITICAL"},
	{"S3_BUCKET_PUBLIC_WRITE_PROHIBITED", nil, []string{"SecurityHub S3.3"}, "CRITICAL"},
	{"S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED", nil, []string{"SecurityHub S3.4", "CIS v1.4.0 2.1.1"}, "MEDIUM"},
	{"S3_BUCKET_SSL_REQUESTS_ONLY", nil, []string{"SecurityHub S3.5", "CIS v1.4.0 2.1.2", "CIS v3.0.0 2.1.1"}, "MEDIUM"},
	{"S3_BUCKET_BLACKLISTED_ACTIONS_PROHIBITED", map[string]string{"blacklistedActionPatterns": "s3:DeleteBucketPolicy,s3:PutBucketAcl,s3:PutBucketPolicy,s3:PutEncryptionConfiguration,s3:PutObjectAcl"}, []string{"SecurityHub S3.6"}, "HIGH"},
	{"S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED", nil, []string{"SecurityHub S3.8", "CIS v1.4.0 2.1.5"}, "HIGH"},
	{"S3_BUCKET_LOGGING_ENABLED", nil, []string{"SecurityHub S3.9"}, "MEDIUM"},
	{"S3_BUCKET_ACL_PROHIBITED", nil, []string{"SecurityHub S3.12"}, "MEDIUM"},
	{"S3_LIFECYCLE_POLICY_CHECK", nil, []string{"SecurityHub S3.13"}, "LOW"},
	{"S3_BUCKET_VERSIONING_ENABLED", nil, []string{"SecurityHub S3.14"}, "LOW"},
	{"S3_BUCKET_DEFAULT_LOCK_ENABLED", nil, []string{"SecurityHub S3.15"}, "MEDIUM"},
	{"S3_DEFAULT_ENCRYPTION_KMS", nil, []string{"SecurityHub S3.17"}, "MEDIUM"},
	{"S3_BUCKET_MFA_DELETE_ENABLED", nil, []string{"SecurityHub S3.20", "CIS v1.4.0 2.1.3", "CIS v3.0.0 2.1.2"}, "LOW"},
}

// Pack is an installed conformance pack.
type Pack struct {
	Name    string   `json:"name"`
	ID      string   `json:"id"`
	ARN     string   `json:"arn"`
	Rules   []string `json:"rules"`
	Created string   `json:"created"`
}

const docPack = "pack"

// ErrUnknownTemplate refuses a template other than the built-in one.
var ErrUnknownTemplate = errors.New("rules: unknown conformance pack template")

// PutPack installs the built-in pack under name: one rule per control,
// named after the managed rule, evaluated at once.
func (e *Engine) PutPack(ctx context.Context, account, name, template string) (*Pack, error) {
	if strings.TrimSpace(template) != BuiltinPack {
		return nil, ErrUnknownTemplate
	}
	p := &Pack{Name: name, ID: "conformance-pack-" + randomID(), Created: e.now().Format("2006-01-02T15:04:05Z")}
	if old, _ := e.GetPack(ctx, account, name); old != nil {
		p.ID, p.Created = old.ID, old.Created
	}
	p.ARN = fmt.Sprintf("arn:aws:config:%s:%s:conformance-pack/%s/%s", e.Region, account, name, p.ID)
	var names []string
	for _, pr := range PackRules {
		m, _ := Lookup(pr.Identifier)
		params := map[string]string{}
		for k, v := range pr.Params {
			params[k] = v
		}
		raw, _ := json.Marshal(params)
		r := &Rule{Name: m.Name, Owner: OwnerAWS, Identifier: pr.Identifier, Params: params, RawParams: string(raw),
			Description: m.Description + " (" + strings.Join(pr.Controls, ", ") + ")", Pack: name, CreatedBy: "config-conforms.amazonaws.com"}
		if _, err := e.storeRule(ctx, account, r); err != nil {
			return nil, err
		}
		names = append(names, r.Name)
	}
	p.Rules = names
	raw, _ := json.Marshal(p)
	if err := e.Store.PutDoc(ctx, docPack, account+"/"+name, raw); err != nil {
		return nil, err
	}
	return p, e.EvaluateRules(ctx, account, names)
}

// GetPack returns an installed pack (nil if none).
func (e *Engine) GetPack(ctx context.Context, account, name string) (*Pack, error) {
	raw, err := e.Store.GetDoc(ctx, docPack, account+"/"+name)
	if err != nil || raw == nil {
		return nil, err
	}
	var p Pack
	return &p, json.Unmarshal(raw, &p)
}

// Packs lists an account's packs.
func (e *Engine) Packs(ctx context.Context, account string) ([]*Pack, error) {
	docs, err := e.Store.ListDocs(ctx, docPack, account+"/")
	if err != nil {
		return nil, err
	}
	var out []*Pack
	for _, d := range docs {
		var p Pack
		if err := json.Unmarshal(d.Value, &p); err != nil {
			return nil, err
		}
		out = append(out, &p)
	}
	return out, nil
}

// DeletePack removes a pack and the rules it created.
func (e *Engine) DeletePack(ctx context.Context, account, name string) error {
	p, err := e.GetPack(ctx, account, name)
	if err != nil {
		return err
	}
	if p == nil {
		return ErrNoSuchPack
	}
	for _, r := range p.Rules {
		if rule, err := e.GetRule(ctx, account, r); err == nil && rule.Pack == name {
			if err := e.DeleteRule(ctx, account, r); err != nil {
				return err
			}
		}
	}
	return e.Store.DeleteDoc(ctx, docPack, account+"/"+name)
}

// ErrNoSuchPack is returned for a pack the account does not have.
var ErrNoSuchPack = errors.New("rules: no such conformance pack")
