// Package authn describes who made a request: the authenticated principal
// and the facts about the request that authorization and audit need
// (source address, transport security, credential kind). It resolves access
// keys to principals; the signature itself is checked by package sigv4.
package authn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coffer-io/coffer/internal/auth/session"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// Principal types, named as CloudTrail names userIdentity types.
const (
	TypeRoot      = "Root"
	TypeIAMUser   = "IAMUser"
	TypeAnonymous = "AWSAccount" // CloudTrail records anonymous callers with type AWSAccount and principalId "anonymous"
	// TypeAssumedRole is a role session (AssumeRole credentials).
	TypeAssumedRole = "AssumedRole"
)

// Principal is the identity a request acts as.
type Principal struct {
	Type        string
	AccountID   string
	CanonicalID string
	UserName    string // empty for root and anonymous
	// UserID is the IAM unique id (AIDA…) of an IAM user, when known.
	UserID string
	// Tags are an IAM user's tags (aws:PrincipalTag/…).
	Tags        map[string]string
	AccessKeyID string
	ARN         string
	// Session describes temporary (STS) credentials; nil for long-term
	// keys. GetSessionToken sessions keep the Type of their user or root.
	Session *Session
}

// Session is what temporary credentials carry beyond the principal.
type Session struct {
	// MFA reports that the session was issued after an MFA check, at
	// MFATime (aws:MultiFactorAuthPresent, aws:MultiFactorAuthAge).
	MFA      bool
	MFATime  time.Time
	IssuedAt time.Time // aws:TokenIssueTime
	Expires  time.Time
	// Role sessions: the role's ARN (path included), name and unique id,
	// and the session name.
	RoleARN     string
	RoleName    string
	RoleID      string
	SessionName string
	// Policies are the session policies' documents (none: no session
	// policy).
	Policies       [][]byte
	SourceIdentity string
}

// Anonymous is the principal of unsigned requests.
var Anonymous = &Principal{Type: TypeAnonymous}

// IsAnonymous reports whether p is the anonymous principal.
func (p *Principal) IsAnonymous() bool { return p == nil || p.AccountID == "" }

// IsRoot reports whether p is an account root.
func (p *Principal) IsRoot() bool { return p != nil && p.Type == TypeRoot }

// ErrUnknownKey reports an access key that does not exist or is inactive.
var ErrUnknownKey = errors.New("authn: unknown or inactive access key")

// UserDirectory describes IAM users: their ARN (path included), unique id
// and tags.
type UserDirectory interface {
	LookupUser(ctx context.Context, account, name string) (arn, id string, tags map[string]string, err error)
}

// Resolver maps access key ids to secrets and principals.
type Resolver struct {
	Store meta.Store
	// Users completes IAM user principals (nil: ARN without path, no id).
	Users UserDirectory
	// Sessions opens session tokens; nil: temporary credentials are
	// refused (ErrInvalidToken).
	Sessions *session.Sealer
	// Now is the clock for session expiry (time.Now if nil).
	Now func() time.Time
}

// Lookup returns the secret and principal for an access key id.
func (r *Resolver) Lookup(ctx context.Context, keyID string) (string, *Principal, error) {
	k, err := r.Store.GetAccessKey(ctx, keyID)
	if err != nil {
		if errors.Is(err, meta.ErrAccessKeyNotFound) || errors.Is(err, meta.ErrNotFound) {
			return "", nil, ErrUnknownKey
		}
		return "", nil, err
	}
	if k.Status != "" && k.Status != "Active" {
		return "", nil, ErrUnknownKey
	}
	acct, err := r.Store.GetAccount(ctx, k.AccountID)
	if err != nil {
		return "", nil, fmt.Errorf("authn: account of key %s: %w", keyID, err)
	}
	p := &Principal{AccountID: acct.ID, CanonicalID: acct.CanonicalID, AccessKeyID: k.ID}
	if k.UserName == "" {
		p.Type = TypeRoot
		p.ARN = "arn:aws:iam::" + acct.ID + ":root"
	} else {
		p.Type = TypeIAMUser
		p.UserName = k.UserName
		p.ARN = "arn:aws:iam::" + acct.ID + ":user/" + k.UserName
		if r.Users != nil {
			arn, id, tags, err := r.Users.LookupUser(ctx, acct.ID, k.UserName)
			if err != nil {
				// A key whose user is gone must not authenticate.
				return "", nil, fmt.Errorf("authn: user of key %s: %w", keyID, err)
			}
			p.ARN, p.UserID, p.Tags = arn, id, tags
		}
	}
	return k.Secret, p, nil
}
