// Package iam is Coffer's IAM: the users, groups, roles, customer managed
// policies and access keys of each account, with AWS's names, ARNs, unique
// ids, limits and error codes, and the read path the authorizer uses to find
// the policies that apply to a principal.
//
// The Service enforces every IAM rule (validation, quotas, referential
// integrity such as "a user with access keys cannot be deleted"); a Store
// only keeps records, one account at a time, in transactions. Running each
// operation's checks and writes in one Store transaction is what keeps
// AWS's invariants under concurrency: two racing CreateAccessKey calls can
// never leave a user with three keys.
//
// The policy language is not interpreted here: documents are checked by an
// injected validator and handed back verbatim.
package iam

import (
	"strings"
	"time"
)

// Kind is the kind of an IAM record.
type Kind int

// Record kinds. Users, groups and roles carry policies (KindUser,
// KindGroup and KindRole are the "entities" of inline and attached
// policies); users and roles also carry a permissions boundary.
const (
	KindUser Kind = iota + 1
	KindGroup
	KindRole
	KindPolicy
)

// String returns the kind as it appears in ARNs ("user", "group", ...).
func (k Kind) String() string {
	switch k {
	case KindUser:
		return "user"
	case KindGroup:
		return "group"
	case KindRole:
		return "role"
	case KindPolicy:
		return "policy"
	}
	return "unknown"
}

// PolicyKind says what a policy document is for, so that the validator
// can apply the rules of its kind (a trust policy needs a Principal, an
// identity policy must not have one).
type PolicyKind int

// Policy kinds passed to Service.Validate.
const (
	// Identity: an inline policy of a user, group or role.
	Identity PolicyKind = iota + 1
	// Managed: a version of a customer managed policy. IAM holds these
	// to stricter rules than inline policies (Version 2012-10-17 is
	// required), hence a kind of its own.
	Managed
	// Trust: a role's assume-role policy.
	Trust
	// Boundary: a managed policy's default version when it is set as a
	// permissions boundary (it was validated as Managed when created).
	Boundary
)

// String names the kind.
func (k PolicyKind) String() string {
	switch k {
	case Identity:
		return "identity"
	case Managed:
		return "managed"
	case Trust:
		return "trust"
	case Boundary:
		return "boundary"
	}
	return "unknown"
}

// Access key statuses.
const (
	StatusActive   = "Active"
	StatusInactive = "Inactive"
)

// Tag is a key/value tag on a user, role or policy. Keys are unique
// case-insensitively, as in IAM.
type Tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// InlinePolicy is a policy embedded in one user, group or role.
type InlinePolicy struct {
	Name     string `json:"name"`
	Document string `json:"doc"`
}

// The JSON tags below are the persistent encoding used by stores that
// serialize records (meta/bolt); renaming one is a format change.

// User is an IAM user with everything attached to it.
type User struct {
	Path       string    `json:"path"`
	UserName   string    `json:"name"`
	UserID     string    `json:"id"`
	CreateDate time.Time `json:"created"`
	// PermissionsBoundary is the ARN of the managed policy capping the
	// user's permissions, or empty.
	PermissionsBoundary string         `json:"boundary,omitempty"`
	Tags                []Tag          `json:"tags,omitempty"`
	InlinePolicies      []InlinePolicy `json:"inline,omitempty"`
	// AttachedPolicies are managed policy ARNs, in attachment order.
	AttachedPolicies []string `json:"attached,omitempty"`
	// Groups are the names of the groups the user belongs to. Membership
	// is kept on the user only, because the authorizer reads it on every
	// request while listing a group's members is rare.
	Groups []string `json:"groups,omitempty"`
}

// ARN returns the user's ARN in account.
func (u *User) ARN(account string) string { return ARN(account, KindUser, u.Path, u.UserName) }

// Group is an IAM group. Its members are found through User.Groups.
type Group struct {
	Path             string         `json:"path"`
	GroupName        string         `json:"name"`
	GroupID          string         `json:"id"`
	CreateDate       time.Time      `json:"created"`
	InlinePolicies   []InlinePolicy `json:"inline,omitempty"`
	AttachedPolicies []string       `json:"attached,omitempty"`
}

// ARN returns the group's ARN in account.
func (g *Group) ARN(account string) string { return ARN(account, KindGroup, g.Path, g.GroupName) }

// Role is an IAM role.
type Role struct {
	Path                     string         `json:"path"`
	RoleName                 string         `json:"name"`
	RoleID                   string         `json:"id"`
	CreateDate               time.Time      `json:"created"`
	AssumeRolePolicyDocument string         `json:"trust"`
	Description              string         `json:"desc,omitempty"`
	MaxSessionDuration       int            `json:"maxSession"` // seconds
	PermissionsBoundary      string         `json:"boundary,omitempty"`
	Tags                     []Tag          `json:"tags,omitempty"`
	InlinePolicies           []InlinePolicy `json:"inline,omitempty"`
	AttachedPolicies         []string       `json:"attached,omitempty"`
}

// ARN returns the role's ARN in account.
func (r *Role) ARN(account string) string { return ARN(account, KindRole, r.Path, r.RoleName) }

// Policy is a customer managed policy with all its versions.
type Policy struct {
	Path             string `json:"path"`
	PolicyName       string `json:"name"`
	PolicyID         string `json:"id"`
	Description      string `json:"desc,omitempty"`
	DefaultVersionID string `json:"default"`
	// AttachmentCount counts the users, groups and roles the policy is
	// attached to; PermissionsBoundaryUsageCount those it bounds.
	AttachmentCount               int       `json:"attachments"`
	PermissionsBoundaryUsageCount int       `json:"boundaryUses"`
	CreateDate                    time.Time `json:"created"`
	UpdateDate                    time.Time `json:"updated"`
	Tags                          []Tag     `json:"tags,omitempty"`
	// Versions, oldest first.
	Versions []PolicyVersion `json:"versions"`
	// NextVersion is the number of the next version id: IAM never reuses
	// a version id, even after the version is deleted.
	NextVersion int `json:"next"`
}

// ARN returns the policy's ARN in account.
func (p *Policy) ARN(account string) string { return ARN(account, KindPolicy, p.Path, p.PolicyName) }

// Version returns the version with id vid, or nil.
func (p *Policy) Version(vid string) *PolicyVersion {
	for i := range p.Versions {
		if p.Versions[i].VersionID == vid {
			return &p.Versions[i]
		}
	}
	return nil
}

// DefaultDocument returns the document of the default version.
func (p *Policy) DefaultDocument() string {
	if v := p.Version(p.DefaultVersionID); v != nil {
		return v.Document
	}
	return ""
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	VersionID  string    `json:"id"`
	Document   string    `json:"doc"`
	CreateDate time.Time `json:"created"`
	// IsDefaultVersion is derived from the policy's DefaultVersionID; it
	// is set on versions the Service returns and is not stored.
	IsDefaultVersion bool `json:"-"`
}

// AccessKey is a long-term access key of an IAM user, or of the account
// root when UserName is empty.
type AccessKey struct {
	AccessKeyID     string    `json:"id"`
	SecretAccessKey string    `json:"-"` // only ever returned by CreateAccessKey
	UserName        string    `json:"user,omitempty"`
	Status          string    `json:"status"`
	CreateDate      time.Time `json:"created"`
	// LastUsed is nil for a key never used.
	LastUsed *AccessKeyLastUsed `json:"lastUsed,omitempty"`
}

// AccessKeyLastUsed records the latest use of an access key.
type AccessKeyLastUsed struct {
	Date        time.Time `json:"date"`
	ServiceName string    `json:"service"` // "s3", "iam", "sts"
	Region      string    `json:"region"`
}

// AttachedPolicy names a managed policy attached to an entity.
type AttachedPolicy struct {
	PolicyName string
	PolicyARN  string
}

// ListOptions select a page of a listing. Marker continues a listing
// where a truncated page stopped (it is opaque); MaxItems caps the page
// (0 means IAM's default of 100; at most 1000). PathPrefix filters the
// listings of users, groups, roles, policies and attached policies.
type ListOptions struct {
	PathPrefix string
	Marker     string
	MaxItems   int
}

// Page is one page of a listing. Marker is set when IsTruncated is.
type Page[T any] struct {
	Items       []T
	IsTruncated bool
	Marker      string
}

// lower is the case-folded form under which names (ASCII, so lower-casing
// is exact) and tag keys are unique.
func lower(s string) string { return strings.ToLower(s) }
