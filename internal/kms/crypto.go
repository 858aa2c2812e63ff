package kms

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"io"
	"slices"
)

const (
	blobVersion = 1
	nonceSize   = 12
	tagSize     = 16

	// MaxPlaintextSize is AWS's Encrypt limit; larger data is meant to be
	// encrypted under a data key (envelope encryption).
	MaxPlaintextSize = 4096
	// MaxDataKeyBytes is GenerateDataKey's NumberOfBytes limit.
	MaxDataKeyBytes = 1024
	// MaxCiphertextSize is AWS's CiphertextBlob limit; larger blobs are
	// rejected before any work is done.
	MaxCiphertextSize = 6144
)

// Data key specs accepted by GenerateDataKey.
const (
	DataKeySpecAES256 = "AES_256"
	DataKeySpecAES128 = "AES_128"
)

// canonicalContext serializes an encryption context deterministically
// (see the package documentation), so that equal maps give equal AAD.
func canonicalContext(ec map[string]string) []byte {
	keys := make([]string, 0, len(ec))
	for k := range ec {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b := binary.BigEndian.AppendUint32(nil, uint32(len(keys)))
	for _, k := range keys {
		b = binary.BigEndian.AppendUint32(b, uint32(len(k)))
		b = append(b, k...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(ec[k])))
		b = append(b, ec[k]...)
	}
	return b
}

// blobHeader is the authenticated, unencrypted part of a ciphertext blob.
type blobHeader struct {
	account string
	keyID   string
	version uint32
}

func (h blobHeader) marshal() []byte {
	b := []byte{blobVersion, byte(len(h.account))}
	b = append(b, h.account...)
	b = append(b, byte(len(h.keyID)))
	b = append(b, h.keyID...)
	return binary.BigEndian.AppendUint32(b, h.version)
}

func errBadBlob() error {
	return newErr(CodeInvalidCiphertext, "The ciphertext is invalid or was not produced by this KMS")
}

// parseBlob splits a blob into header, its raw bytes, nonce and sealed
// payload. Only structure is checked here; authenticity is checked by
// AES-GCM, which also covers the header.
func parseBlob(blob []byte) (h blobHeader, raw, nonce, sealed []byte, err error) {
	if len(blob) < 2 || blob[0] != blobVersion || len(blob) > MaxCiphertextSize {
		return h, nil, nil, nil, errBadBlob()
	}
	p := 1
	a := int(blob[p])
	p++
	if a == 0 || len(blob) < p+a+1 {
		return h, nil, nil, nil, errBadBlob()
	}
	h.account = string(blob[p : p+a])
	p += a
	k := int(blob[p])
	p++
	if k == 0 || len(blob) < p+k+4+nonceSize+tagSize {
		return h, nil, nil, nil, errBadBlob()
	}
	h.keyID = string(blob[p : p+k])
	p += k
	h.version = binary.BigEndian.Uint32(blob[p:])
	p += 4
	return h, blob[:p], blob[p : p+nonceSize], blob[p+nonceSize:], nil
}

// CiphertextKeyARN returns the ARN of the key a blob claims to be
// encrypted under, without decrypting it (the claim is verified only by
// Decrypt). The HTTP layer can use it to evaluate the key policy before
// calling Decrypt.
func (s *Service) CiphertextKeyARN(blob []byte) (string, error) {
	h, _, _, _, err := parseBlob(blob)
	if err != nil {
		return "", err
	}
	return s.keyARN(h.account, h.keyID), nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, internalErr(err)
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, internalErr(err)
	}
	return g, nil
}

// usable checks a key may be used for cryptography: Enabled, otherwise
// DisabledException (Disabled) or KMSInvalidStateException.
func usable(k *Key) error {
	if k.State != KeyStateEnabled {
		return errState(k, CodeDisabled)
	}
	return nil
}

// seal encrypts plaintext under r's current material.
func (s *Service) seal(r *KeyRecord, plaintext []byte, ec map[string]string) ([]byte, error) {
	h := blobHeader{account: r.Key.AccountID, keyID: r.Key.ID, version: r.Key.CurrentVersion}
	if len(h.account) > 255 || len(h.keyID) > 255 {
		return nil, internalErr(io.ErrShortBuffer)
	}
	mat, err := s.unseal(r, h.version)
	if err != nil {
		return nil, err
	}
	defer clear(mat)
	g, err := newGCM(mat)
	if err != nil {
		return nil, err
	}
	out := h.marshal()
	hdrLen := len(out)
	out = append(out, make([]byte, nonceSize)...)
	if _, err := io.ReadFull(s.cfg.Rand, out[hdrLen:]); err != nil {
		return nil, internalErr(err)
	}
	aad := append(out[:hdrLen:hdrLen], canonicalContext(ec)...)
	return g.Seal(out, out[hdrLen:], plaintext, aad), nil
}

// open decrypts a blob; the caller resolved r from the blob's header.
func (s *Service) open(r *KeyRecord, h blobHeader, raw, nonce, sealed []byte, ec map[string]string) ([]byte, error) {
	mat, err := s.unseal(r, h.version)
	if err != nil {
		return nil, err
	}
	defer clear(mat)
	g, err := newGCM(mat)
	if err != nil {
		return nil, err
	}
	aad := append(slices.Clip(raw), canonicalContext(ec)...)
	pt, err := g.Open(nil, nonce, sealed, aad)
	if err != nil {
		return nil, errBadBlob()
	}
	return pt, nil
}

// EncryptOutput is Encrypt's answer.
type EncryptOutput struct {
	CiphertextBlob []byte
	KeyID          string // key ARN
}

// Encrypt encrypts up to 4096 bytes under the key id names, binding ec.
func (s *Service) Encrypt(ctx context.Context, account, id string, plaintext []byte, ec map[string]string) (*EncryptOutput, error) {
	if len(plaintext) < 1 || len(plaintext) > MaxPlaintextSize {
		return nil, validationErr("1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length between 1 and %d", MaxPlaintextSize)
	}
	var out *EncryptOutput
	err := s.withKeyEC(ctx, "Encrypt", account, id, ec, false, true, func(_ Tx, r *KeyRecord) error {
		if err := usable(&r.Key); err != nil {
			return err
		}
		blob, err := s.seal(r, plaintext, ec)
		if err != nil {
			return err
		}
		out = &EncryptOutput{CiphertextBlob: blob, KeyID: r.Key.ARN}
		return nil
	})
	return out, err
}

// DecryptOutput is Decrypt's answer.
type DecryptOutput struct {
	Plaintext       []byte
	KeyID           string // key ARN
	MaterialVersion uint32
}

// Decrypt decrypts a blob from Encrypt, GenerateDataKey or ReEncrypt. The
// key comes from the blob; keyID, if not empty, must name that same key
// (IncorrectKeyException otherwise). ec must equal the context given at
// encryption. Blobs of keys in other accounts decrypt too (authorization
// is the caller's, see Config.Authorize and CiphertextKeyARN).
func (s *Service) Decrypt(ctx context.Context, account string, blob []byte, keyID string, ec map[string]string) (*DecryptOutput, error) {
	var out *DecryptOutput
	err := s.withBlobKey(ctx, "Decrypt", account, blob, keyID, ec, func(r *KeyRecord, h blobHeader, raw, nonce, sealed []byte) error {
		pt, err := s.open(r, h, raw, nonce, sealed, ec)
		if err != nil {
			return err
		}
		out = &DecryptOutput{Plaintext: pt, KeyID: r.Key.ARN, MaterialVersion: h.version}
		return nil
	})
	return out, err
}

// withBlobKey parses blob, resolves and checks its key (and the optional
// expected keyID) and runs fn in a read transaction of the key's account.
func (s *Service) withBlobKey(ctx context.Context, op, caller string, blob []byte, keyID string, ec map[string]string, fn func(r *KeyRecord, h blobHeader, raw, nonce, sealed []byte) error) error {
	if len(blob) == 0 {
		return validationErr("1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	h, raw, nonce, sealed, err := parseBlob(blob)
	if err != nil {
		return err
	}
	alias := ""
	if keyID != "" {
		// Resolve the expected key on its own (it may be an alias of the
		// caller's account) rather than inside the blob account's
		// transaction: nesting transactions could deadlock a Store.
		want, err := s.parseKeyID(caller, keyID)
		if err != nil {
			return err
		}
		alias = want.alias
		var wantAccount, wantID string
		err = s.cfg.Store.View(ctx, want.account, func(tx Tx) error {
			r, err := s.resolve(tx, want)
			if err != nil {
				return err
			}
			wantAccount, wantID = r.Key.AccountID, r.Key.ID
			return nil
		})
		if err != nil {
			return storeErr(err)
		}
		if wantAccount != h.account || wantID != h.keyID {
			return newErr(CodeIncorrectKey, "The key ID in the request does not identify a KMS key that can perform this operation.")
		}
	}
	return storeErr(s.cfg.Store.View(ctx, h.account, func(tx Tx) error {
		r, err := tx.Key(h.keyID)
		if err != nil {
			// A blob naming no key of ours is not one of our ciphertexts
			// (or its key was deleted): either way it cannot be decrypted.
			return errBadBlob()
		}
		if err := s.authorizeReq(ctx, &AuthzRequest{Op: op, Caller: caller, EncryptionContext: ec, Alias: alias}, r); err != nil {
			return err
		}
		if err := usable(&r.Key); err != nil {
			return err
		}
		return fn(r, h, raw, nonce, sealed)
	}))
}

// DataKeyInput selects a data key's size: exactly one of KeySpec
// (AES_256 or AES_128) and NumberOfBytes (1..1024).
type DataKeyInput struct {
	KeySpec       string
	NumberOfBytes int
}

func (in DataKeyInput) size() (int, error) {
	switch {
	case in.KeySpec != "" && in.NumberOfBytes != 0:
		return 0, validationErr("Please specify either number of bytes or key spec.")
	case in.KeySpec == DataKeySpecAES256:
		return 32, nil
	case in.KeySpec == DataKeySpecAES128:
		return 16, nil
	case in.KeySpec != "":
		return 0, validationErr("1 validation error detected: Value '%s' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]", in.KeySpec)
	case in.NumberOfBytes == 0:
		return 0, validationErr("Please specify either number of bytes or key spec.")
	case in.NumberOfBytes < 1 || in.NumberOfBytes > MaxDataKeyBytes:
		return 0, validationErr("1 validation error detected: Value '%d' at 'numberOfBytes' failed to satisfy constraint: Member must have value between 1 and %d", in.NumberOfBytes, MaxDataKeyBytes)
	}
	return in.NumberOfBytes, nil
}

// DataKeyOutput is GenerateDataKey's answer; Plaintext is nil from
// GenerateDataKeyWithoutPlaintext.
type DataKeyOutput struct {
	Plaintext      []byte
	CiphertextBlob []byte
	KeyID          string // key ARN
}

// GenerateDataKey returns a fresh random data key in clear and encrypted
// under the key id names (a blob Decrypt accepts, bound to ec).
func (s *Service) GenerateDataKey(ctx context.Context, account, id string, spec DataKeyInput, ec map[string]string) (*DataKeyOutput, error) {
	return s.generateDataKey(ctx, "GenerateDataKey", account, id, spec, ec, true)
}

// GenerateDataKeyWithoutPlaintext is GenerateDataKey without the
// plaintext copy, for callers that store the key for later use.
func (s *Service) GenerateDataKeyWithoutPlaintext(ctx context.Context, account, id string, spec DataKeyInput, ec map[string]string) (*DataKeyOutput, error) {
	return s.generateDataKey(ctx, "GenerateDataKeyWithoutPlaintext", account, id, spec, ec, false)
}

func (s *Service) generateDataKey(ctx context.Context, op, account, id string, spec DataKeyInput, ec map[string]string, withPlaintext bool) (*DataKeyOutput, error) {
	n, err := spec.size()
	if err != nil {
		return nil, err
	}
	var out *DataKeyOutput
	err = s.withKeyEC(ctx, op, account, id, ec, false, true, func(_ Tx, r *KeyRecord) error {
		if err := usable(&r.Key); err != nil {
			return err
		}
		dk := make([]byte, n)
		if _, err := io.ReadFull(s.cfg.Rand, dk); err != nil {
			return internalErr(err)
		}
		blob, err := s.seal(r, dk, ec)
		if err != nil {
			return err
		}
		out = &DataKeyOutput{CiphertextBlob: blob, KeyID: r.Key.ARN}
		if withPlaintext {
			out.Plaintext = dk
		} else {
			clear(dk)
		}
		return nil
	})
	return out, err
}

// ReEncryptInput is ReEncrypt's request.
type ReEncryptInput struct {
	CiphertextBlob               []byte
	SourceKeyID                  string // optional; must match the blob's key
	SourceEncryptionContext      map[string]string
	DestinationKeyID             string
	DestinationEncryptionContext map[string]string
}

// ReEncryptOutput is ReEncrypt's answer.
type ReEncryptOutput struct {
	CiphertextBlob []byte
	SourceKeyID    string // ARN
	KeyID          string // destination key ARN
}

// ReEncrypt decrypts a blob and encrypts the plaintext under another key
// (or the same key's current material, after rotation) and context,
// without the plaintext leaving the service.
func (s *Service) ReEncrypt(ctx context.Context, account string, in ReEncryptInput) (*ReEncryptOutput, error) {
	var pt []byte
	var srcARN string
	err := s.withBlobKey(ctx, "ReEncryptFrom", account, in.CiphertextBlob, in.SourceKeyID, in.SourceEncryptionContext, func(r *KeyRecord, h blobHeader, raw, nonce, sealed []byte) error {
		var err error
		pt, err = s.open(r, h, raw, nonce, sealed, in.SourceEncryptionContext)
		srcARN = r.Key.ARN
		return err
	})
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	var out *ReEncryptOutput
	err = s.withKeyEC(ctx, "ReEncryptTo", account, in.DestinationKeyID, in.DestinationEncryptionContext, false, true, func(_ Tx, r *KeyRecord) error {
		if err := usable(&r.Key); err != nil {
			return err
		}
		blob, err := s.seal(r, pt, in.DestinationEncryptionContext)
		if err != nil {
			return err
		}
		out = &ReEncryptOutput{CiphertextBlob: blob, SourceKeyID: srcARN, KeyID: r.Key.ARN}
		return nil
	})
	return out, err
}

// CheckUse decides, without touching key material, whether the caller in
// ctx may now perform op (Decrypt or GenerateDataKey) with the key id
// names (as account names it) under the encryption context ec, and
// whether the key's state allows it; it returns the key's ARN. S3 asks
// it before reusing a cached bucket key, so that a key disabled,
// scheduled for deletion or given a new policy since the key was cached
// takes effect at once, as it would on a call to the KMS.
func (s *Service) CheckUse(ctx context.Context, op, account, id string, ec map[string]string) (string, error) {
	if op != "Decrypt" && op != "GenerateDataKey" {
		return "", validationErr("CheckUse does not apply to %s", op)
	}
	var arn string
	err := s.withKeyEC(ctx, op, account, id, ec, false, true, func(_ Tx, r *KeyRecord) error {
		if err := usable(&r.Key); err != nil {
			return err
		}
		arn = r.Key.ARN
		return nil
	})
	return arn, err
}
