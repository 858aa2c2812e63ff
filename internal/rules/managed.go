package rules

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/coffer-io/coffer/internal/configrec"
	"github.com/coffer-io/coffer/internal/policy"
)

// Managed is one AWS Config managed rule.
type Managed struct {
	Identifier string
	// Name is the rule's default name (the managed rule's own name).
	Name         string
	ResourceType string
	// Params lists the accepted input parameters with their defaults
	// ("" = optional without default).
	Params map[string]string
	// Periodic rules are also evaluated on the schedule (every rule is
	// evaluated on the schedule in Coffer; this is reported only).
	Periodic    bool
	Description string
	// Remediation names the safe fix, if any (see Remediation*).
	Remediation string
	eval        func(v *view, p map[string]string) (string, string)
	check       func(p map[string]string) string // the refusal message, "" if fine
}

// Remediations.
const (
	RemediationBlockPublicAccess = "block-public-access"
	RemediationDefaultEncryption = "default-encryption"
	RemediationSecureTransport   = "deny-insecure-transport"
)

// ManagedRules returns the catalog, by identifier.
func ManagedRules() map[string]*Managed { return catalog }

// Lookup returns a managed rule by identifier.
func Lookup(id string) (*Managed, bool) {
	m, ok := catalog[id]
	return m, ok
}

func boolParam(p map[string]string, k string) (bool, bool) {
	v, ok := p[k]
	if !ok || v == "" {
		return false, false
	}
	return strings.EqualFold(v, "true"), true
}

var catalog = map[string]*Managed{}

func register(m *Managed) {
	if m.ResourceType == "" {
		m.ResourceType = configrec.TypeBucket
	}
	if m.Params == nil {
		m.Params = map[string]string{}
	}
	catalog[m.Identifier] = m
}

// s3Actions is what action patterns in rule parameters are expanded
// against.
var s3Actions = []string{
	"s3:AbortMultipartUpload", "s3:BypassGovernanceRetention", "s3:CreateBucket", "s3:DeleteBucket", "s3:DeleteBucketPolicy",
	"s3:DeleteObject", "s3:DeleteObjectTagging", "s3:DeleteObjectVersion", "s3:DeleteObjectVersionTagging",
	"s3:GetAccelerateConfiguration", "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketLocation", "s3:GetBucketLogging",
	"s3:GetBucketObjectLockConfiguration", "s3:GetBucketOwnershipControls", "s3:GetBucketPolicy", "s3:GetBucketPolicyStatus",
	"s3:GetBucketPublicAccessBlock", "s3:GetBucketTagging", "s3:GetBucketVersioning", "s3:GetEncryptionConfiguration",
	"s3:GetLifecycleConfiguration", "s3:GetObject", "s3:GetObjectAcl", "s3:GetObjectAttributes", "s3:GetObjectLegalHold",
	"s3:GetObjectRetention", "s3:GetObjectTagging", "s3:GetObjectVersion", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging",
	"s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:ListBucketVersions", "s3:ListMultipartUploadParts",
	"s3:PutBucketAcl", "s3:PutBucketCORS", "s3:PutBucketLogging", "s3:PutBucketObjectLockConfiguration",
	"s3:PutBucketOwnershipControls", "s3:PutBucketPolicy", "s3:PutBucketPublicAccessBlock", "s3:PutBucketTagging",
	"s3:PutBucketVersioning", "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration", "s3:PutObject",
	"s3:PutObjectAcl", "s3:PutObjectLegalHold", "s3:PutObjectRetention", "s3:PutObjectTagging", "s3:PutObjectVersionAcl",
	"s3:PutObjectVersionTagging",
}

func expandActions(pattern string) []string {
	var out []string
	lp := strings.ToLower(pattern)
	for _, a := range s3Actions {
		if ok, _ := path.Match(lp, strings.ToLower(a)); ok {
			out = append(out, a)
		}
	}
	return out
}

// policyStatement is a statement as the grantee check reads it.
type policyStatement struct {
	Effect    string                                `json:"Effect"`
	Principal json.RawMessage                       `json:"Principal"`
	Condition map[string]map[string]json.RawMessage `json:"Condition"`
}

func statementsOf(text string) []policyStatement {
	var doc struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if json.Unmarshal([]byte(text), &doc) != nil {
		return nil
	}
	var list []policyStatement
	if json.Unmarshal(doc.Statement, &list) == nil {
		return list
	}
	var one policyStatement
	if json.Unmarshal(doc.Statement, &one) == nil {
		return []policyStatement{one}
	}
	return nil
}

func strList(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(raw, &many)
	return many
}

// principals returns a statement's principals by type ("*" as AWS "*").
func (s policyStatement) principals() map[string][]string {
	out := map[string][]string{}
	var star string
	if json.Unmarshal(s.Principal, &star) == nil {
		out["AWS"] = []string{star}
		return out
	}
	var m map[string]json.RawMessage
	_ = json.Unmarshal(s.Principal, &m)
	for k, v := range m {
		out[k] = strList(v)
	}
	return out
}

func init() {
	register(&Managed{Identifier: "S3_BUCKET_PUBLIC_READ_PROHIBITED", Name: "s3-bucket-public-read-prohibited", Periodic: true,
		Description: "Checks that buckets do not allow public read access through the bucket policy or ACL, as Block Public Access leaves them in force.",
		Remediation: RemediationBlockPublicAccess,
		eval: func(v *view, _ map[string]string) (string, string) {
			if v.publicPolicy(readActions) {
				return NonCompliant, "The bucket policy allows public read access."
			}
			if v.publicACL("Read") {
				return NonCompliant, "The bucket ACL allows public read access."
			}
			return Compliant, ""
		}})
	register(&Managed{Identifier: "S3_BUCKET_PUBLIC_WRITE_PROHIBITED", Name: "s3-bucket-public-write-prohibited", Periodic: true,
		Description: "Checks that buckets do not allow public write access through the bucket policy or ACL, as Block Public Access leaves them in force.",
		Remediation: RemediationBlockPublicAccess,
		eval: func(v *view, _ map[string]string) (string, string) {
			if v.publicPolicy(writeActions) {
				return NonCompliant, "The bucket policy allows public write access."
			}
			if v.publicACL("Write") {
				return NonCompliant, "The bucket ACL allows public write access."
			}
			return Compliant, ""
		}})
	register(&Managed{Identifier: "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED", Name: "s3-bucket-level-public-access-prohibited",
		Params:      map[string]string{"excludedPublicBuckets": ""},
		Description: "Checks that all four bucket-level Block Public Access settings are on.",
		Remediation: RemediationBlockPublicAccess,
		eval: func(v *view, p map[string]string) (string, string) {
			if contains(csv(p["excludedPublicBuckets"]), v.it.ResourceID) {
				return NotApplicable, ""
			}
			if v.pab == nil || !(v.pab.BlockPublicAcls && v.pab.IgnorePublicAcls && v.pab.BlockPublicPolicy && v.pab.RestrictPublicBuckets) {
				return NonCompliant, "Bucket-level Block Public Access settings are not all enabled."
			}
			return Compliant, ""
		}})
	accountPAB := func(v *view, p map[string]string) (string, string) {
		if v.accntPAB == nil {
			return InsufficientData, "The account has no Block Public Access configuration."
		}
		got := map[string]bool{"BlockPublicAcls": v.accntPAB.BlockPublicAcls, "IgnorePublicAcls": v.accntPAB.IgnorePublicAcls,
			"BlockPublicPolicy": v.accntPAB.BlockPublicPolicy, "RestrictPublicBuckets": v.accntPAB.RestrictPublicBuckets}
		var bad []string
		for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
			want := true
			if b, ok := boolParam(p, k); ok {
				want = b
			}
			if got[k] != want {
				bad = append(bad, k)
			}
		}
		if len(bad) > 0 {
			return NonCompliant, "Account-level setting differs: " + strings.Join(bad, ", ") + "."
		}
		return Compliant, ""
	}
	pabParams := map[string]string{"BlockPublicAcls": "True", "BlockPublicPolicy": "True", "IgnorePublicAcls": "True", "RestrictPublicBuckets": "True"}
	register(&Managed{Identifier: "S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS", Name: "s3-account-level-public-access-blocks",
		ResourceType: configrec.TypeAccountPAB, Params: pabParams, eval: accountPAB,
		Description: "Checks the account-level Block Public Access settings against the parameters."})
	register(&Managed{Identifier: "S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC", Name: "s3-account-level-public-access-blocks-periodic",
		ResourceType: configrec.TypeAccountPAB, Params: pabParams, eval: accountPAB, Periodic: true,
		Description: "Checks the account-level Block Public Access settings against the parameters, periodically."})
	register(&Managed{Identifier: "S3_BUCKET_SSL_REQUESTS_ONLY", Name: "s3-bucket-ssl-requests-only",
		Description: "Checks that the bucket policy explicitly denies requests that do not use TLS (aws:SecureTransport false).",
		Remediation: RemediationSecureTransport,
		eval: func(v *view, _ map[string]string) (string, string) {
			if v.policy == nil {
				return NonCompliant, "The bucket has no policy denying requests without TLS."
			}
			for _, a := range []string{"s3:GetObject", "s3:PutObject"} {
				d := policy.Evaluate(&policy.Input{Resource: v.policy}, &policy.Request{
					Principal: policy.Principal{Type: policy.Anonymous}, Action: a,
					Resource: "arn:aws:s3:::" + v.it.ResourceID + "/any", ResourceAccount: v.owner,
					Context: map[string][]string{"aws:securetransport": {"false"}},
				})
				if d.Reason != policy.ExplicitDeny {
					return NonCompliant, "The bucket policy does not deny " + a + " without TLS."
				}
			}
			return Compliant, ""
		}})
	register(&Managed{Identifier: "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED", Name: "s3-bucket-server-side-encryption-enabled",
		Description: "Checks that the bucket has default encryption (SSE-S3, SSE-KMS or DSSE-KMS).",
		Remediation: RemediationDefaultEncryption,
		eval: func(v *view, _ map[string]string) (string, string) {
			for _, r := range v.enc.Rules {
				switch r.ApplyServerSideEncryptionByDefault.SSEAlgorithm {
				case "AES256", "aws:kms", "aws:kms:dsse":
					return Compliant, ""
				}
			}
			return NonCompliant, "The bucket has no default encryption."
		}})
	register(&Managed{Identifier: "S3_DEFAULT_ENCRYPTION_KMS", Name: "s3-default-encryption-kms",
		Params:      map[string]string{"kmsKeyArns": ""},
		Description: "Checks that default encryption uses KMS, with one of the listed keys if any.",
		eval: func(v *view, p map[string]string) (string, string) {
			keys := csv(p["kmsKeyArns"])
			for _, r := range v.enc.Rules {
				d := r.ApplyServerSideEncryptionByDefault
				if d.SSEAlgorithm != "aws:kms" && d.SSEAlgorithm != "aws:kms:dsse" {
					continue
				}
				if len(keys) == 0 || d.KMSMasterKeyID != nil && contains(keys, *d.KMSMasterKeyID) {
					return Compliant, ""
				}
				return NonCompliant, "Default encryption uses a KMS key not in kmsKeyArns."
			}
			return NonCompliant, "Default encryption is not SSE-KMS."
		}})
	register(&Managed{Identifier: "S3_BUCKET_VERSIONING_ENABLED", Name: "s3-bucket-versioning-enabled", Periodic: true,
		Params:      map[string]string{"isMfaDeleteEnabled": ""},
		Description: "Checks that versioning is enabled (and MFA Delete, when isMfaDeleteEnabled is true).",
		eval: func(v *view, p map[string]string) (string, string) {
			if v.ver.Status != "Enabled" {
				return NonCompliant, "Versioning is " + v.ver.Status + "."
			}
			if want, ok := boolParam(p, "isMfaDeleteEnabled"); ok && want && (v.ver.IsMfaDeleteEnabled == nil || !*v.ver.IsMfaDeleteEnabled) {
				return NonCompliant, "MFA Delete is not enabled."
			}
			return Compliant, ""
		}})
	register(&Managed{Identifier: "S3_BUCKET_MFA_DELETE_ENABLED", Name: "s3-bucket-mfa-delete-enabled",
		Description: "Checks that MFA Delete is enabled in the versioning configuration.",
		eval: func(v *view, _ map[string]string) (string, string) {
			if v.ver.IsMfaDeleteEnabled == nil || !*v.ver.IsMfaDeleteEnabled {
				return NonCompliant, "MFA Delete is not enabled."
			}
			return Compliant, ""
		}})
	register(&Managed{Identifier: "S3_BUCKET_LOGGING_ENABLED", Name: "s3-bucket-logging-enabled",
		Params:      map[string]string{"targetBucket": "", "targetPrefix": ""},
		Description: "Checks that server access logging is enabled (to the given target, if any).",
		eval: func(v *view, p map[string]string) (string, string) {
			l := v.logging
			if l.DestinationBucketName == nil || *l.DestinationBucketName == "" {
				return NonCompliant, "Server access logging is not enabled."
			}
			if t := p["targetBucket"]; t != "" && t != *l.DestinationBucketName {
				return NonCompliant, "Logs go to a bucket other than targetBucket."
			}
			if t := p["targetPrefix"]; t != "" && (l.LogFilePrefix == nil || t != *l.LogFilePrefix) {
				return NonCompliant, "Logs use a prefix other than targetPrefix."
			}
			return Compliant, ""
		}})
	register(&Managed{Identifier: "S3_BUCKET_DEFAULT_LOCK_ENABLED", Name: "s3-bucket-default-lock-enabled",
		Params:      map[string]string{"mode": ""},
		Description: "Checks that Object Lock is enabled (with the given default retention mode, if any).",
		check: func(p map[string]string) string {
			if m := p["mode"]; m != "" && m != "GOVERNANCE" && m != "COMPLIANCE" {
				return "Value for mode parameter must be GOVERNANCE or COMPLIANCE."
			}
			return ""
		},
		eval: func(v *view, p map[string]string) (string, string) {
			if v.lock == nil || v.lock.ObjectLockEnabled != "Enabled" {
				return NonCompliant, "Object Lock is not enabled."
			}
			if m := p["mode"]; m != "" && (v.lock.Rule == nil || v.lock.Rule.DefaultRetention.Mode != m) {
				return NonCompliant, "The default retention mode is not " + m + "."
			}
			return Compliant, ""
		}})
	register(&Managed{Identifier: "S3_BUCKET_POLICY_GRANTEE_CHECK", Name: "s3-bucket-policy-grantee-check",
		Params:      map[string]string{"awsPrincipals": "", "servicePrincipals": "", "federatedUsers": "", "ipAddresses": "", "vpcIds": ""},
		Description: "Checks that the bucket policy grants access only to the listed principals, IP addresses and VPCs.",
		eval:        granteeCheck})
	register(&Managed{Identifier: "S3_BUCKET_POLICY_NOT_MORE_PERMISSIVE", Name: "s3-bucket-policy-not-more-permissive",
		Params:      map[string]string{"controlPolicy": ""},
		Description: "Checks that the bucket policy grants other accounts nothing the control policy does not.",
		check: func(p map[string]string) string {
			if _, err := policy.Parse([]byte(p["controlPolicy"]), policy.Resource); err != nil || len(p["controlPolicy"]) > 1024 {
				return "Value for controlPolicy parameter must be an Amazon S3 bucket policy."
			}
			return ""
		},
		eval: notMorePermissive})
	register(&Managed{Identifier: "S3_BUCKET_BLACKLISTED_ACTIONS_PROHIBITED", Name: "s3-bucket-blacklisted-actions-prohibited",
		Params:      map[string]string{"blacklistedActionPatterns": ""},
		Description: "Checks that the bucket policy does not allow the listed actions to principals of other accounts.",
		check: func(p map[string]string) string {
			if len(csv(p["blacklistedActionPatterns"])) == 0 {
				return "Value for blacklistedActionPatterns parameter is required."
			}
			return ""
		},
		eval: func(v *view, p map[string]string) (string, string) {
			if v.policy == nil {
				return Compliant, ""
			}
			for _, pat := range csv(p["blacklistedActionPatterns"]) {
				for _, a := range expandActions(pat) {
					if v.policy.CrossAccountAllows(v.owner, a) {
						return NonCompliant, "The bucket policy allows " + a + " to other accounts."
					}
				}
			}
			return Compliant, ""
		}})
	register(&Managed{Identifier: "S3_BUCKET_ACL_PROHIBITED", Name: "s3-bucket-acl-prohibited",
		Description: "Checks that the bucket ACL grants nothing beyond the owner's full control.",
		eval: func(v *view, _ map[string]string) (string, string) {
			for _, g := range v.acl.GrantList {
				m, ok := g.Grantee.(map[string]any)
				if !ok || m["id"] != v.acl.Owner.ID || g.Permission != "FullControl" {
					return NonCompliant, "The bucket ACL grants access beyond the owner."
				}
			}
			return Compliant, ""
		}})
	register(&Managed{Identifier: "S3_LIFECYCLE_POLICY_CHECK", Name: "s3-lifecycle-policy-check",
		Params:      map[string]string{"targetTransitionDays": "", "targetExpirationDays": "", "targetTransitionStorageClass": "", "targetPrefix": "", "bucketNames": ""},
		Description: "Checks that an enabled lifecycle rule exists (matching the given parameters).",
		check: func(p map[string]string) string {
			for _, k := range []string{"targetTransitionDays", "targetExpirationDays"} {
				if s := p[k]; s != "" {
					if n, err := strconv.Atoi(s); err != nil || n < 1 {
						return fmt.Sprintf("Value for %s parameter must be a positive integer.", k)
					}
				}
			}
			return ""
		},
		eval: func(v *view, p map[string]string) (string, string) {
			if names := csv(p["bucketNames"]); len(names) > 0 && !contains(names, v.it.ResourceID) {
				return NotApplicable, ""
			}
			if v.lc == nil {
				return NonCompliant, "The bucket has no lifecycle configuration."
			}
			for _, r := range v.lc.Rules {
				if r.Status != "Enabled" {
					continue
				}
				if t := p["targetPrefix"]; t != "" && r.Prefix != t {
					continue
				}
				if t := p["targetExpirationDays"]; t != "" && strconv.Itoa(r.ExpirationInDays) != t {
					continue
				}
				if p["targetTransitionDays"] != "" || p["targetTransitionStorageClass"] != "" {
					continue // no storage-class transitions in Coffer
				}
				return Compliant, ""
			}
			return NonCompliant, "No enabled lifecycle rule matches the parameters."
		}})
	register(&Managed{Identifier: "S3_VERSION_LIFECYCLE_POLICY_CHECK", Name: "s3-version-lifecycle-policy-check",
		Params:      map[string]string{"bucketNames": ""},
		Description: "Checks that versioned buckets have a lifecycle configuration.",
		eval: func(v *view, p map[string]string) (string, string) {
			if names := csv(p["bucketNames"]); len(names) > 0 && !contains(names, v.it.ResourceID) {
				return NotApplicable, ""
			}
			if v.ver.Status != "Enabled" && v.ver.Status != "Suspended" {
				return NotApplicable, ""
			}
			if v.lc == nil {
				return NonCompliant, "The versioned bucket has no lifecycle configuration."
			}
			return Compliant, ""
		}})
	register(&Managed{Identifier: "S3_BUCKET_REPLICATION_ENABLED", Name: "s3-bucket-replication-enabled",
		Params:      map[string]string{"ReplicationType": ""},
		Description: "Checks that replication is configured (Coffer has no replication: always non-compliant).",
		eval: func(*view, map[string]string) (string, string) {
			return NonCompliant, "The bucket has no replication configuration."
		}})
	register(&Managed{Identifier: "S3_EVENT_NOTIFICATIONS_ENABLED", Name: "s3-event-notifications-enabled",
		Params:      map[string]string{"destinationArn": "", "eventTypes": ""},
		Description: "Checks that event notifications are configured (Coffer has none: always non-compliant).",
		eval: func(*view, map[string]string) (string, string) {
			return NonCompliant, "The bucket has no event notification configuration."
		}})
}

func granteeCheck(v *view, p map[string]string) (string, string) {
	if v.polText == "" {
		return Compliant, ""
	}
	allowed := map[string][]string{
		"AWS": csv(p["awsPrincipals"]), "Service": csv(p["servicePrincipals"]), "Federated": csv(p["federatedUsers"]),
	}
	ips, vpcs := csv(p["ipAddresses"]), csv(p["vpcIds"])
	for _, s := range statementsOf(v.polText) {
		if s.Effect != "Allow" {
			continue
		}
		for typ, list := range s.principals() {
			for _, who := range list {
				if typ == "AWS" && awsPrincipalListed(who, allowed["AWS"]) || typ != "AWS" && contains(allowed[typ], who) {
					continue
				}
				return NonCompliant, "The bucket policy grants access to " + who + "."
			}
		}
		for _, vals := range s.Condition {
			for k, raw := range vals {
				switch strings.ToLower(k) {
				case "aws:sourceip":
					for _, x := range strList(raw) {
						if !contains(ips, x) {
							return NonCompliant, "The bucket policy grants access from " + x + "."
						}
					}
				case "aws:sourcevpc":
					for _, x := range strList(raw) {
						if !contains(vpcs, x) {
							return NonCompliant, "The bucket policy grants access from " + x + "."
						}
					}
				}
			}
		}
	}
	return Compliant, ""
}

// awsPrincipalListed accepts an account ID for its root ARN and the
// reverse, as AWS Config does.
func awsPrincipalListed(who string, list []string) bool {
	for _, x := range list {
		if x == who || "arn:aws:iam::"+x+":root" == who || "arn:aws:iam::"+who+":root" == x {
			return true
		}
	}
	return false
}

// notMorePermissive checks every (principal of another account, action)
// the bucket policy allows against the control policy, evaluated for that
// principal.
func notMorePermissive(v *view, p map[string]string) (string, string) {
	if v.policy == nil {
		return Compliant, ""
	}
	ctl, err := policy.Parse([]byte(p["controlPolicy"]), policy.Resource)
	if err != nil {
		return NotApplicable, "The control policy does not parse."
	}
	var accts []string
	if v.policy.IsPublic() {
		accts = append(accts, "*")
	}
	accts = append(accts, v.policy.GrantsCrossAccount(v.owner)...)
	sort.Strings(accts)
	for _, a := range accts {
		pr := policy.Principal{Type: policy.Root, Account: a, ARN: "arn:aws:iam::" + a + ":root"}
		if a == "*" {
			pr = policy.Principal{Type: policy.Anonymous}
		}
		for _, act := range s3Actions {
			res := "arn:aws:s3:::" + v.it.ResourceID + "/any"
			if strings.Contains(act, "Bucket") && !strings.Contains(act, "Object") {
				res = "arn:aws:s3:::" + v.it.ResourceID
			}
			req := &policy.Request{Principal: pr, Action: act, Resource: res, ResourceAccount: v.owner}
			if !resourceAllows(policy.Evaluate(&policy.Input{Resource: v.policy}, req)) {
				continue
			}
			if !resourceAllows(policy.Evaluate(&policy.Input{Resource: ctl}, req)) {
				who := a
				if a == "*" {
					who = "everyone"
				}
				return NonCompliant, "The bucket policy allows " + act + " to " + who + " beyond the control policy."
			}
		}
	}
	return Compliant, ""
}

// resourceAllows reports whether a resource policy evaluated alone
// allowed: for another account that is "needs both" (the identity side
// is not asked here).
func resourceAllows(d policy.Decision) bool {
	return d.Reason == policy.AllowedByResource || d.Reason == policy.CrossAccountNeedsBoth
}
