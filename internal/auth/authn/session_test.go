package authn

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/auth/session"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// accountStore knows one account; nothing else of meta.Store is used.
type accountStore struct{ meta.Store }

func (accountStore) GetAccount(_ context.Context, id string) (*meta.Account, error) {
	return &meta.Account{ID: id, CanonicalID: "canon"}, nil
}

func TestLookupSession(t *testing.T) {
	key := make([]byte, session.KeySize)
	rand.Read(key)
	s, _ := session.NewSealer(key)
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	r := &Resolver{Store: accountStore{}, Sessions: s, Now: func() time.Time { return now }}
	id, secret, _ := session.NewCredentials(rand.Reader)
	tok, err := s.Seal(&session.Token{AccessKeyID: id, Secret: secret, Account: "111122223333", Kind: session.KindRole,
		RoleName: "reader", RolePath: "/app/", RoleID: "AROAEXAMPLE", SessionName: "s1", Policies: []string{"{}"},
		MFA: true, MFATime: now.Unix(), Issued: now.Unix(), Expires: now.Add(15 * time.Minute).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	got, p, err := r.LookupSession(ctx, id, tok)
	if err != nil || got != secret {
		t.Fatal(got, err)
	}
	if p.Type != TypeAssumedRole || p.ARN != "arn:aws:sts::111122223333:assumed-role/reader/s1" || p.UserID != "AROAEXAMPLE:s1" ||
		p.Session.RoleARN != "arn:aws:iam::111122223333:role/app/reader" || !p.Session.MFA || len(p.Session.Policies) != 1 {
		t.Errorf("principal %+v session %+v", p, p.Session)
	}
	// Another key id with this token, garbage, or no sealer: invalid.
	if _, _, err := r.LookupSession(ctx, "ASIAOTHEROTHEROTHER0", tok); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("other key id: %v", err)
	}
	if _, _, err := r.LookupSession(ctx, id, "garbage"); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("garbage: %v", err)
	}
	if _, _, err := (&Resolver{Store: accountStore{}}).LookupSession(ctx, id, tok); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("no sealer: %v", err)
	}
	// At the expiry instant the session is over.
	now = now.Add(15*time.Minute - time.Second)
	if _, _, err := r.LookupSession(ctx, id, tok); err != nil {
		t.Errorf("a second before expiry: %v", err)
	}
	now = now.Add(time.Second)
	if _, _, err := r.LookupSession(ctx, id, tok); !errors.Is(err, ErrExpiredToken) {
		t.Errorf("at expiry: %v", err)
	}
}
