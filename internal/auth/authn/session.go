package authn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coffer-io/coffer/internal/auth/session"
)

// Errors of LookupSession, for the wire codes of each protocol (S3:
// InvalidToken / ExpiredToken; STS and IAM: InvalidClientTokenId /
// ExpiredToken).
var (
	ErrInvalidToken = errors.New("authn: invalid session token")
	ErrExpiredToken = errors.New("authn: expired session token")
)

// LookupSession returns the secret and principal of temporary
// credentials: the access key id keyID presented with the session token
// token. The token is opened with the server key; it must be the one
// issued with keyID and not have expired. The principal of a
// GetSessionToken session is its user (or root) with Session set; that
// of an AssumeRole session is the role session.
func (r *Resolver) LookupSession(ctx context.Context, keyID, token string) (string, *Principal, error) {
	if r.Sessions == nil {
		return "", nil, ErrInvalidToken
	}
	t, err := r.Sessions.Open(token)
	if err != nil || t.AccessKeyID != keyID {
		return "", nil, ErrInvalidToken
	}
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	if t.Expired(now) {
		return "", nil, ErrExpiredToken
	}
	acct, err := r.Store.GetAccount(ctx, t.Account)
	if err != nil {
		return "", nil, fmt.Errorf("authn: account of session %s: %w", keyID, err)
	}
	s := &Session{MFA: t.MFA, IssuedAt: t.IssuedAt(), Expires: t.Expiration(), SourceIdentity: t.SourceIdentity}
	if t.MFA {
		s.MFATime = time.Unix(t.MFATime, 0).UTC()
	}
	for _, d := range t.Policies {
		s.Policies = append(s.Policies, []byte(d))
	}
	p := &Principal{AccountID: acct.ID, CanonicalID: acct.CanonicalID, AccessKeyID: keyID, Session: s}
	switch t.Kind {
	case session.KindRoot:
		p.Type = TypeRoot
		p.ARN = "arn:aws:iam::" + acct.ID + ":root"
	case session.KindUser:
		p.Type = TypeIAMUser
		p.UserName = t.UserName
		p.ARN = "arn:aws:iam::" + acct.ID + ":user/" + t.UserName
		if r.Users != nil {
			arn, id, tags, err := r.Users.LookupUser(ctx, acct.ID, t.UserName)
			if err != nil {
				// A session outlives neither its user nor a rename.
				return "", nil, ErrInvalidToken
			}
			p.ARN, p.UserID, p.Tags = arn, id, tags
		}
	case session.KindRole:
		p.Type = TypeAssumedRole
		p.ARN = "arn:aws:sts::" + acct.ID + ":assumed-role/" + t.RoleName + "/" + t.SessionName
		p.UserID = t.RoleID + ":" + t.SessionName
		s.RoleARN = "arn:aws:iam::" + acct.ID + ":role" + t.RolePath + t.RoleName
		s.RoleName, s.RoleID, s.SessionName = t.RoleName, t.RoleID, t.SessionName
	default:
		return "", nil, ErrInvalidToken
	}
	return t.Secret, p, nil
}
