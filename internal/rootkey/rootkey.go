// Package rootkey provides the KMS root key: the 32-byte key that seals
// every KMS key's material and so, through the data keys, all object data.
// A Provider knows where the key lives: a local file or variable (the
// default), or wrapped by an external KMS (HashiCorp Vault / OpenBao
// Transit), so that the data directory alone never holds it in clear. The
// package also computes the key's fingerprint and reads and writes escrow
// files (the key wrapped under an operator passphrase).
package rootkey

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Size is the size of the root key (AES-256).
const Size = 32

// ErrNotFound reports that a provider holds no root key yet.
var ErrNotFound = errors.New("no root key is stored there yet")

// ErrReadOnly reports a provider that cannot store a key (the key given
// in an environment variable).
var ErrReadOnly = errors.New("this root-key source cannot be written")

// Provider loads and stores the root key. Implementations must not cache
// the key beyond a call: the caller clears what it is given.
type Provider interface {
	// Describe names where the key lives, for messages; it holds no
	// secret.
	Describe() string
	// Load returns the root key, or an error wrapping ErrNotFound when
	// none is stored yet.
	Load(ctx context.Context) ([]byte, error)
	// Store keeps key so that later Loads return it, replacing any key
	// stored before.
	Store(ctx context.Context, key []byte) error
	// Generates reports whether a server may create the key itself when
	// it starts on a new data directory.
	Generates() bool
}

// Generate returns a new random root key.
func Generate() ([]byte, error) {
	key := make([]byte, Size)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return key, nil
}

// fingerprintLabel domain-separates the fingerprint from any other use of
// the key.
const fingerprintLabel = "coffer/root-key-fingerprint/v1"

// Fingerprint identifies a root key without revealing it: the first 16
// bytes of HMAC-SHA256(key, "coffer/root-key-fingerprint/v1"), in hex.
// It is safe to show, log and store next to the data.
func Fingerprint(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(fingerprintLabel))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Encode is the text form of a root key in files and COFFER_ROOT_KEY:
// standard base64.
func Encode(key []byte) string { return base64.StdEncoding.EncodeToString(key) }

// Decode parses the text form of a root key; from names its origin for
// the error message.
func Decode(s, from string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("root key from %s: not base64", from)
	}
	if len(key) != Size {
		return nil, fmt.Errorf("root key from %s: %d bytes, want %d", from, len(key), Size)
	}
	return key, nil
}
