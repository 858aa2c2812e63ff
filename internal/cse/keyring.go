package cse

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"strings"
)

// KMS is the part of the AWS KMS API the kms+context wrapping needs.
type KMS interface {
	// GenerateDataKey returns a fresh AES-256 data key and its ciphertext
	// blob, bound to the encryption context.
	GenerateDataKey(ctx context.Context, keyID string, encCtx map[string]string) (plaintext, blob []byte, err error)
	// Decrypt returns the plaintext of blob under the encryption context;
	// keyID may be empty (the blob names its key).
	Decrypt(ctx context.Context, keyID string, blob []byte, encCtx map[string]string) ([]byte, error)
}

// Keyring creates data keys for new objects and wraps them.
type Keyring interface {
	// NewDataKey returns a fresh data key, its wrapped form, the wrapping
	// algorithm and the material description to store.
	NewDataKey(ctx context.Context) (key, wrapped []byte, wrapAlg, matDesc string, err error)
}

// KMSKeyring wraps data keys with a KMS key ("kms+context").
type KMSKeyring struct {
	KMS     KMS
	KeyID   string
	Context map[string]string // user encryption context; may be nil
}

// NewDataKey asks the KMS for a data key bound to the user context plus
// aws:x-amz-cek-alg, which is also the stored material description.
func (k *KMSKeyring) NewDataKey(ctx context.Context) ([]byte, []byte, string, string, error) {
	if k.KeyID == "" {
		return nil, nil, "", "", errors.New("cse: a KMS key id is required")
	}
	if _, ok := k.Context[reservedContextKey]; ok {
		return nil, nil, "", "", fmt.Errorf("cse: encryption context key %s is reserved", reservedContextKey)
	}
	ec := maps.Clone(k.Context)
	if ec == nil {
		ec = map[string]string{}
	}
	ec[reservedContextKey] = CEKAESGCM
	plain, blob, err := k.KMS.GenerateDataKey(ctx, k.KeyID, ec)
	if err != nil {
		return nil, nil, "", "", err
	}
	if len(plain) != KeySize {
		return nil, nil, "", "", fmt.Errorf("cse: KMS returned a %d-byte data key, want %d", len(plain), KeySize)
	}
	return plain, blob, WrapKMSContext, encodeContext(ec), nil
}

// AESKeyring wraps data keys with a local 256-bit key ("AES/GCM").
type AESKeyring struct{ Key []byte }

// NewDataKey wraps a random data key as IV ‖ AES-GCM(kek, IV, key, AAD =
// the content algorithm name), the layout the AWS clients use.
func (k *AESKeyring) NewDataKey(context.Context) ([]byte, []byte, string, string, error) {
	g, err := aesGCM(k.Key)
	if err != nil {
		return nil, nil, "", "", err
	}
	key := make([]byte, KeySize)
	iv := make([]byte, IVSize)
	rand.Read(key)
	rand.Read(iv)
	return key, g.Seal(iv, iv, key, []byte(CEKAESGCM)), WrapAESGCM, "{}", nil
}

func aesGCM(kek []byte) (cipher.AEAD, error) {
	if len(kek) != KeySize {
		return nil, fmt.Errorf("cse: the AES wrapping key must be %d bytes, got %d", KeySize, len(kek))
	}
	b, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// RSAKeyring wraps data keys with an RSA public key ("RSA-OAEP-SHA1").
type RSAKeyring struct{ Public *rsa.PublicKey }

// NewDataKey wraps len(key) ‖ key ‖ content algorithm name with RSA-OAEP
// (SHA-1, MGF1-SHA-1), which binds the algorithm to the key as the AWS
// clients do.
func (k *RSAKeyring) NewDataKey(context.Context) ([]byte, []byte, string, string, error) {
	if k.Public == nil || k.Public.N.BitLen() < 2048 {
		return nil, nil, "", "", errors.New("cse: an RSA key of at least 2048 bits is required")
	}
	key := make([]byte, KeySize)
	rand.Read(key)
	pseudo := append(append([]byte{KeySize}, key...), CEKAESGCM...)
	wrapped, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, k.Public, pseudo, nil)
	if err != nil {
		return nil, nil, "", "", err
	}
	return key, wrapped, WrapRSAOAEP, "{}", nil
}

// Unwrapper recovers data keys of existing objects with whatever key
// material it holds.
type Unwrapper struct {
	KMS      KMS
	KMSKeyID string // if set, the object's data key must be wrapped by this KMS key
	// Context, if non-nil, must equal the object's encryption context
	// (without the reserved aws:x-amz-cek-alg).
	Context map[string]string
	AESKey  []byte
	RSAKey  *rsa.PrivateKey
}

// ErrNoKey reports that the unwrapper holds no key for the object's
// wrapping algorithm.
var ErrNoKey = errors.New("cse: no key given for the object's key wrapping")

// ErrContextMismatch reports an object whose encryption context is not
// the expected one.
var ErrContextMismatch = errors.New("cse: the object's encryption context does not match the expected one")

// DataKey unwraps the data key named by the envelope.
func (u *Unwrapper) DataKey(ctx context.Context, e *Envelope) ([]byte, error) {
	if err := e.validate(); err != nil {
		return nil, err
	}
	wrapped, _ := e.wrappedKey()
	if u.KMSKeyID != "" && e.WrapAlg != WrapKMSContext {
		// The caller asked for objects under a KMS key; this one is not.
		return nil, fmt.Errorf("cse: the object's data key is wrapped with %s, not the required KMS key", e.WrapAlg)
	}
	var key []byte
	switch e.WrapAlg {
	case WrapKMSContext:
		if u.KMS == nil {
			return nil, fmt.Errorf("%w (%s)", ErrNoKey, e.WrapAlg)
		}
		ec, _ := e.matDesc()
		// The algorithm recorded in the context is authenticated by the
		// KMS; the one in the metadata must agree with it.
		if ec[reservedContextKey] != e.CEKAlg {
			return nil, fmt.Errorf("cse: %s in the encryption context does not match %s: the object may have been altered", reservedContextKey, MetaCEKAlg)
		}
		if u.Context != nil {
			user := maps.Clone(ec)
			delete(user, reservedContextKey)
			if !maps.Equal(user, u.Context) {
				return nil, ErrContextMismatch
			}
		}
		k, err := u.KMS.Decrypt(ctx, u.KMSKeyID, wrapped, ec)
		if err != nil {
			return nil, err
		}
		key = k
	case WrapAESGCM:
		if u.AESKey == nil {
			return nil, fmt.Errorf("%w (%s)", ErrNoKey, e.WrapAlg)
		}
		if len(u.Context) > 0 {
			return nil, errors.New("cse: an encryption context applies to KMS-wrapped objects only")
		}
		g, err := aesGCM(u.AESKey)
		if err != nil {
			return nil, err
		}
		if len(wrapped) < IVSize+g.Overhead() {
			return nil, ErrAuth
		}
		k, err := g.Open(nil, wrapped[:IVSize], wrapped[IVSize:], []byte(e.CEKAlg))
		if err != nil {
			return nil, ErrAuth
		}
		key = k
	case WrapRSAOAEP:
		if u.RSAKey == nil {
			return nil, fmt.Errorf("%w (%s)", ErrNoKey, e.WrapAlg)
		}
		if len(u.Context) > 0 {
			return nil, errors.New("cse: an encryption context applies to KMS-wrapped objects only")
		}
		pseudo, err := rsa.DecryptOAEP(sha1.New(), nil, u.RSAKey, wrapped, nil)
		if err != nil {
			return nil, ErrAuth
		}
		if len(pseudo) < 1 || int(pseudo[0]) != KeySize || len(pseudo) <= 1+KeySize {
			return nil, ErrAuth
		}
		if subtle.ConstantTimeCompare(pseudo[1+KeySize:], []byte(e.CEKAlg)) != 1 {
			return nil, fmt.Errorf("cse: the wrapped key names another content algorithm: the object may have been altered")
		}
		key = pseudo[1 : 1+KeySize]
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("cse: unwrapped data key has %d bytes, want %d", len(key), KeySize)
	}
	return key, nil
}

// ParseContext parses k=v pairs into an encryption context.
func ParseContext(pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("encryption context %q: want KEY=VALUE", p)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("encryption context key %q given twice", k)
		}
		if k == reservedContextKey {
			return nil, fmt.Errorf("encryption context key %s is reserved", reservedContextKey)
		}
		m[k] = v
	}
	return m, nil
}

var b64 = base64.StdEncoding
