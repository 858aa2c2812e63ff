// Package rules evaluates configuration items against compliance rules:
// the AWS Config managed rules for S3 (by their identifiers and
// parameters), custom rules written in CEL over the configuration item,
// and the CIS / Security Hub conformance pack built from them. Results are
// kept with their history; rules are evaluated when a resource's
// configuration changes and periodically; for a few rules a safe
// remediation can be applied automatically.
package rules

import (
	"encoding/json"
	"strings"

	"github.com/coffer-io/coffer/internal/configrec"
	"github.com/coffer-io/coffer/internal/policy"
)

// Compliance types (AWS Config's).
const (
	Compliant        = "COMPLIANT"
	NonCompliant     = "NON_COMPLIANT"
	NotApplicable    = "NOT_APPLICABLE"
	InsufficientData = "INSUFFICIENT_DATA"
)

// view is a bucket's configuration item, decoded for the rules.
type view struct {
	it       *configrec.Item
	owner    string // account id
	pab      *configrec.PABConfig
	policy   *policy.Policy // nil: none (or unparseable: badPolicy)
	polText  string
	badPol   bool
	acl      configrec.ACLConfig
	enc      configrec.EncryptionConfig
	ver      configrec.VersioningConfig
	logging  configrec.LoggingConfig
	lock     *configrec.LockConfig
	lc       *configrec.LifecycleConfig
	accntPAB *configrec.PABConfig // account items only
}

func decode(it *configrec.Item) *view {
	v := &view{it: it, owner: it.AccountID}
	sup := it.SupplementaryConfiguration
	get := func(k string, dst any) bool {
		raw, ok := sup[k]
		return ok && json.Unmarshal([]byte(raw), dst) == nil
	}
	if it.ResourceType == configrec.TypeAccountPAB {
		var p configrec.PABConfig
		if json.Unmarshal([]byte(it.Configuration), &p) == nil {
			v.accntPAB = &p
		}
		return v
	}
	var p configrec.PABConfig
	if get(configrec.SupPAB, &p) {
		v.pab = &p
	}
	var pc configrec.PolicyConfig
	if get(configrec.SupPolicy, &pc) && pc.PolicyText != nil && *pc.PolicyText != "" {
		v.polText = *pc.PolicyText
		if pol, err := policy.Parse([]byte(v.polText), policy.Resource); err == nil {
			v.policy = pol
		} else {
			v.badPol = true
		}
	}
	var aclJSON string
	if get(configrec.SupACL, &aclJSON) {
		_ = json.Unmarshal([]byte(aclJSON), &v.acl)
	}
	get(configrec.SupEncryption, &v.enc)
	get(configrec.SupVersioning, &v.ver)
	get(configrec.SupLogging, &v.logging)
	var lk configrec.LockConfig
	if get(configrec.SupLock, &lk) {
		v.lock = &lk
	}
	var lc configrec.LifecycleConfig
	if get(configrec.SupLifecycle, &lc) {
		v.lc = &lc
	}
	return v
}

var (
	readActions  = []string{"s3:GetObject", "s3:ListBucket", "s3:GetObjectVersion"}
	writeActions = []string{"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectAcl"}
)

// publicPolicy reports whether the bucket policy, as Block Public Access
// leaves it in force, allows one of actions to everyone.
func (v *view) publicPolicy(actions []string) bool {
	if v.policy == nil || !v.policy.IsPublic() || v.pab != nil && v.pab.RestrictPublicBuckets {
		return false
	}
	for _, a := range actions {
		if v.policy.PublicAllows(a) {
			return true
		}
	}
	return false
}

// publicACL reports whether the ACL, as Block Public Access leaves it in
// force, grants one of perms to AllUsers or AuthenticatedUsers.
func (v *view) publicACL(perms ...string) bool {
	if v.pab != nil && v.pab.IgnorePublicAcls {
		return false
	}
	for _, g := range v.acl.GrantList {
		if s, ok := g.Grantee.(string); ok && (s == "AllUsers" || s == "AuthenticatedUsers") {
			for _, p := range perms {
				if g.Permission == p || g.Permission == "FullControl" {
					return true
				}
			}
		}
	}
	return false
}

// PublicRead and PublicWrite report a bucket item's public access as the
// managed rules see it.
func PublicRead(it *configrec.Item) bool {
	v := decode(it)
	return v.publicPolicy(readActions) || v.publicACL("Read")
}

// PublicWrite reports public write access (see PublicRead).
func PublicWrite(it *configrec.Item) bool {
	v := decode(it)
	return v.publicPolicy(writeActions) || v.publicACL("Write")
}

// csv splits a comma-separated parameter, trimming blanks.
func csv(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
