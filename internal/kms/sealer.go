package kms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// Sealer protects key material at rest with the server's root key. Open
// must fail if ciphertext or aad differ from what Seal was given. A
// Sealer must be safe for concurrent use. Implementations other than the
// local one (an HSM, an external KMS) can be plugged in by the server.
type Sealer interface {
	Seal(plaintext, aad []byte) ([]byte, error)
	Open(ciphertext, aad []byte) ([]byte, error)
}

// localSealVersion prefixes sealed values so the format (or root key
// scheme) can change later without ambiguity.
const localSealVersion = 1

type localSealer struct{ aead cipher.AEAD }

// NewLocalSealer returns a Sealer using AES-256-GCM under a 32-byte root
// key with random nonces. Sealed values are version(1) ‖ nonce(12) ‖
// ciphertext ‖ tag(16). The key is copied.
func NewLocalSealer(rootKey []byte) (Sealer, error) {
	if len(rootKey) != 32 {
		return nil, fmt.Errorf("kms: root key must be 32 bytes, got %d", len(rootKey))
	}
	block, err := aes.NewCipher(append([]byte(nil), rootKey...))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &localSealer{aead: aead}, nil
}

func (s *localSealer) Seal(plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	out[0] = localSealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return s.aead.Seal(out, out[1:], plaintext, aad), nil
}

var errSealed = errors.New("kms: sealed value is malformed or was not sealed with this root key")

func (s *localSealer) Open(ciphertext, aad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(ciphertext) < 1+n+s.aead.Overhead() || ciphertext[0] != localSealVersion {
		return nil, errSealed
	}
	pt, err := s.aead.Open(nil, ciphertext[1:1+n], ciphertext[1+n:], aad)
	if err != nil {
		return nil, errSealed
	}
	return pt, nil
}
