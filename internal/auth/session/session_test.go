package session

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSealOpen(t *testing.T) {
	key := make([]byte, KeySize)
	rand.Read(key)
	s, err := NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	id, secret, err := NewCredentials(rand.Reader)
	if err != nil || !strings.HasPrefix(id, "ASIA") || len(id) != 20 || len(secret) != 40 {
		t.Fatalf("credentials %q %q %v", id, secret, err)
	}
	now := time.Unix(1_750_000_000, 0)
	in := &Token{AccessKeyID: id, Secret: secret, Account: "111122223333", Kind: KindRole, RoleName: "r", RolePath: "/",
		RoleID: "AROAEXAMPLE", SessionName: "s", Policies: []string{`{"Version":"2012-10-17"}`}, MFA: true,
		MFATime: now.Unix(), Issued: now.Unix(), Expires: now.Add(time.Hour).Unix()}
	tok, err := s.Seal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Open(tok)
	if err != nil || out.RoleID != "AROAEXAMPLE" || out.Secret != secret || len(out.Policies) != 1 || !out.MFA {
		t.Fatalf("open: %+v %v", out, err)
	}
	if out.Expired(now.Add(59*time.Minute)) || !out.Expired(now.Add(time.Hour)) {
		t.Error("expiry")
	}
	// Any change to the token, or another server's key, is ErrInvalid.
	b := []byte(tok)
	b[len(b)/2] ^= 1
	if b[len(b)/2] == tok[len(b)/2] {
		t.Fatal("no change")
	}
	other, _ := NewSealer(make([]byte, KeySize))
	for _, bad := range []string{string(b), "", "garbage", prefix + "AAAA", tok[:len(tok)-2]} {
		if _, err := s.Open(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Open(%.20q) = %v", bad, err)
		}
	}
	if _, err := other.Open(tok); !errors.Is(err, ErrInvalid) {
		t.Errorf("other key: %v", err)
	}
}
