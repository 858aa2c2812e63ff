// Package session seals and opens the session tokens of Coffer's STS
// credentials (GetSessionToken, AssumeRole).
//
// A token is self-contained: everything authentication and authorization
// need about the session (account, principal, role, session policies,
// MFA facts, issue and expiry times, and the session's secret key) is in
// the token itself, encrypted and authenticated with AES-256-GCM under a
// server key. Issuing credentials therefore writes nothing, and verifying
// a request needs no database read for the session: the server opens the
// token the client sends, checks that the access key id in the signature
// is the one sealed inside, and verifies the signature with the sealed
// secret. A client can read nothing of a token and change nothing in it.
//
// The price of statelessness is that a session cannot be revoked one by
// one before it expires; rotating the server key revokes all of them.
// (AWS has the same property: a role session lives until expiry unless a
// policy denies on aws:TokenIssueTime.)
package session

import (
	"bytes"
	"compress/flate"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"
)

// KeySize is the size of a server key in bytes (AES-256).
const KeySize = 32

// Principal kinds of a session.
const (
	KindRoot = "root" // GetSessionToken by the account root
	KindUser = "user" // GetSessionToken by an IAM user
	KindRole = "role" // AssumeRole
)

// Token is what a session token carries.
type Token struct {
	AccessKeyID string `json:"k"`
	Secret      string `json:"s"`
	Account     string `json:"a"`
	Kind        string `json:"t"`
	// UserName is the IAM user of a KindUser session.
	UserName string `json:"u,omitempty"`
	// Role sessions: the role's name, path and unique id (AROA…), and
	// the session name.
	RoleName    string `json:"r,omitempty"`
	RolePath    string `json:"rp,omitempty"`
	RoleID      string `json:"ri,omitempty"`
	SessionName string `json:"n,omitempty"`
	// Policies are the session policies' documents (inline and managed,
	// resolved when the session was issued); none: no session policy.
	Policies []string `json:"p,omitempty"`
	// MFA is set when the session was issued after a successful MFA
	// check, at MFATime (Unix seconds).
	MFA     bool  `json:"m,omitempty"`
	MFATime int64 `json:"mt,omitempty"`
	// Issued and Expires are Unix seconds.
	Issued         int64  `json:"i"`
	Expires        int64  `json:"e"`
	SourceIdentity string `json:"si,omitempty"`
}

// IssuedAt returns the issue time.
func (t *Token) IssuedAt() time.Time { return time.Unix(t.Issued, 0).UTC() }

// Expiration returns the expiry time.
func (t *Token) Expiration() time.Time { return time.Unix(t.Expires, 0).UTC() }

// Expired reports whether the session has expired at now.
func (t *Token) Expired(now time.Time) bool { return !now.Before(t.Expiration()) }

// Errors of Open.
var (
	// ErrInvalid is a token this server did not issue (or issued under a
	// key since replaced), or that was altered.
	ErrInvalid = errors.New("session: invalid token")
)

// prefix versions the token format; the associated data binds it too.
const prefix = "CFS1"

// Sealer seals and opens tokens with one server key.
type Sealer struct{ aead cipher.AEAD }

// NewSealer returns a Sealer for a KeySize-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, errors.New("session: key must be 32 bytes")
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: a}, nil
}

// Seal returns the token string for t. Session policies can make a token
// long, so its JSON is deflated before encryption (the content is the
// server's own, so compression leaks nothing an attacker controls).
func (s *Sealer) Seal(t *Token) (string, error) {
	js, err := json.Marshal(t)
	if err != nil {
		return "", err
	}
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.BestCompression)
	w.Write(js)
	if err := w.Close(); err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := s.aead.Seal(nonce, nonce, z.Bytes(), []byte(prefix))
	return prefix + base64.RawURLEncoding.EncodeToString(out), nil
}

// maxToken bounds what Open will decode and inflate.
const maxToken = 64 << 10

// Open returns the token a string seals, or ErrInvalid. It does not
// check expiry: the caller decides with its own clock.
func (s *Sealer) Open(token string) (*Token, error) {
	rest, ok := strings.CutPrefix(token, prefix)
	if !ok || len(rest) > maxToken {
		return nil, ErrInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(raw) < s.aead.NonceSize()+s.aead.Overhead() {
		return nil, ErrInvalid
	}
	n := s.aead.NonceSize()
	z, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(prefix))
	if err != nil {
		return nil, ErrInvalid
	}
	js, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(z)), 4*maxToken))
	if err != nil {
		return nil, ErrInvalid
	}
	t := new(Token)
	if err := json.Unmarshal(js, t); err != nil || t.AccessKeyID == "" || t.Account == "" {
		return nil, ErrInvalid
	}
	return t, nil
}

// NewCredentials returns a fresh temporary access key id (ASIA and 16
// characters of IAM's id alphabet) and secret (40 characters), from r.
func NewCredentials(r io.Reader) (id, secret string, err error) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, 16+30)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", "", err
	}
	idb := make([]byte, 16)
	for i := range idb {
		idb[i] = alphabet[b[i]&31]
	}
	return "ASIA" + string(idb), base64.StdEncoding.EncodeToString(b[16:]), nil
}
