package objects

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/coffer-io/coffer/internal/crypto/stream"
	"github.com/coffer-io/coffer/internal/kms"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// Encryption at rest (SSE-S3). Every write gets a fresh data key from the
// KMS, sealed under the owning account's aws/s3 key with the S3 encryption
// context, and a random identity; the data is stream-encrypted under both
// (crypto/stream), and the version or part record keeps the sealed key and
// the identity. The blob store is thereby untrusted: a modified, truncated
// or swapped blob fails authentication instead of being served.

// AlgorithmAES256 is the x-amz-server-side-encryption value of SSE-S3.
const AlgorithmAES256 = "AES256"

// identitySize is the length of the random object-or-part identity.
const identitySize = 16

// ErrDataCorrupt reports stored data that failed authentication (or does
// not have the size its record says): it was modified, truncated, or
// belongs to another object. It is never answered with data.
var ErrDataCorrupt = errors.New("objects: stored data failed authentication")

// encryptor holds what encryption needs; nil in a Service means data is
// written in clear (only for measuring the cost of encryption).
type encryptor struct {
	kms *kms.Service
	// keys caches account → ARN of its aws/s3 key: kms.DefaultKey is a
	// write transaction (it creates the key on first use), too costly
	// for every PUT, and the AWS-managed key cannot be deleted or
	// re-aliased, so the answer never changes.
	keys sync.Map
	// clearWrites writes new data unencrypted (benchmarks only); data
	// already encrypted still reads.
	clearWrites bool
	// bk caches SSE-KMS bucket keys (sse.go).
	bk bucketKeys
}

// EnableEncryption makes every later write encrypted at rest under keys
// from k. Reading encrypted data needs it too.
func (s *Service) EnableEncryption(k *kms.Service) {
	s.enc = &encryptor{kms: k, bk: bucketKeys{write: map[string]*bucketKey{}, read: map[string]*bucketKey{}, now: s.now}}
}

// DisableNewEncryption makes later writes unencrypted while encrypted data
// still reads. It exists only so benchmarks can measure what encryption
// costs.
func (s *Service) DisableNewEncryption() {
	if s.enc != nil {
		s.enc.clearWrites = true
	}
}

// Encrypting reports whether new writes are encrypted at rest.
func (s *Service) Encrypting() bool { return s.enc != nil && !s.enc.clearWrites }

// encryptionContext is the context S3 uses for a per-object data key
// (without a bucket key). Binding the sealed key to the object's name
// means a record copied to another name cannot unseal its key.
func encryptionContext(bucket, key string) map[string]string {
	return map[string]string{"aws:s3:arn": "arn:aws:s3:::" + bucket + "/" + key}
}

func (e *encryptor) defaultKey(ctx context.Context, account string) (string, error) {
	if arn, ok := e.keys.Load(account); ok {
		return arn.(string), nil
	}
	k, err := e.kms.DefaultKey(ctx, account)
	if err != nil {
		return "", err
	}
	e.keys.Store(account, k.ARN)
	return k.ARN, nil
}

// newEnvelope returns a fresh data key and the envelope to record for
// data written to bucket/key in account, encrypted as sse says.
func (e *encryptor) newEnvelope(ctx context.Context, account, bucket, key string, sse *SSE) ([]byte, *meta.Encryption, error) {
	if account == "" || bucket == "" {
		return nil, nil, errors.New("objects: encrypted write without an account and bucket")
	}
	switch sse.mode() {
	case meta.SSES3:
	case meta.SSEKMS:
		return e.newKMSEnvelope(ctx, sse, bucket, key)
	case meta.SSEC:
		if len(sse.CustomerKey) != CustomerKeySize {
			return nil, nil, errors.New("objects: SSE-C key of the wrong size")
		}
		if sse.uploadSecret != nil {
			secret, err := e.customerSecret(ctx, sse.uploadSecret, bucket, key)
			if err != nil {
				return nil, nil, err
			}
			defer clear(secret)
			return sealCustomer(secret, sse.CustomerKey, sse.uploadSecret, bucket, key)
		}
		secret, tmpl, err := e.newCustomerSecret(ctx, account, bucket, key)
		if err != nil {
			return nil, nil, err
		}
		defer clear(secret)
		return sealCustomer(secret, sse.CustomerKey, tmpl, bucket, key)
	default:
		return nil, nil, fmt.Errorf("objects: unknown encryption mode %q", sse.Mode)
	}
	ctx = internal(ctx)
	arn, err := e.defaultKey(ctx, account)
	if err != nil {
		return nil, nil, fmt.Errorf("objects: default key of %s: %w", account, err)
	}
	dk, err := e.kms.GenerateDataKey(ctx, account, arn, kms.DataKeyInput{KeySpec: kms.DataKeySpecAES256}, encryptionContext(bucket, key))
	if err != nil {
		return nil, nil, fmt.Errorf("objects: data key: %w", err)
	}
	id := make([]byte, identitySize)
	if _, err := rand.Read(id); err != nil {
		return nil, nil, err
	}
	return dk.Plaintext, &meta.Encryption{Algorithm: AlgorithmAES256, KeyID: dk.KeyID, SealedKey: dk.CiphertextBlob, Identity: id}, nil
}

// dataKey unseals the data key of data stored for bucket/key.
func (e *encryptor) dataKey(ctx context.Context, env *meta.Encryption, bucket, key string, keys ReadKeys) ([]byte, error) {
	if e == nil {
		return nil, errors.New("objects: encrypted data, but encryption is not configured")
	}
	if len(env.Identity) != identitySize {
		return nil, fmt.Errorf("%w: identity of %d bytes", ErrDataCorrupt, len(env.Identity))
	}
	switch env.Algorithm {
	case AlgorithmAES256:
	case meta.SSEKMS:
		return e.kmsDataKey(ctx, env, bucket, key, keys)
	case meta.SSEC:
		if keys.CustomerKey == nil {
			return nil, ErrCustomerKeyRequired
		}
		secret, err := e.customerSecret(ctx, env, bucket, key)
		if err != nil {
			return nil, err
		}
		defer clear(secret)
		return openCustomer(secret, keys.CustomerKey, env, bucket, key)
	default:
		return nil, fmt.Errorf("objects: unknown encryption algorithm %q", env.Algorithm)
	}
	// The caller account only matters for authorization hooks; the key
	// and its account come from the sealed blob itself.
	out, err := e.kms.Decrypt(internal(ctx), arnAccount(env.KeyID), env.SealedKey, "", encryptionContext(bucket, key))
	if err != nil {
		return nil, unsealErr("unseal data key of "+bucket+"/"+key, err)
	}
	if len(out.Plaintext) != stream.KeySize {
		return nil, fmt.Errorf("objects: data key of %d bytes", len(out.Plaintext))
	}
	return out.Plaintext, nil
}

// kmsDataKey unseals an SSE-KMS data key on the requester's behalf.
func (e *encryptor) kmsDataKey(ctx context.Context, env *meta.Encryption, bucket, key string, keys ReadKeys) ([]byte, error) {
	ec, err := EncryptionContext(env, bucket, key)
	if err != nil {
		return nil, err
	}
	requester := keys.Requester
	if requester == "" {
		requester = arnAccount(env.KeyID)
	}
	if env.BucketKey {
		bk, err := e.openBucketKey(ctx, requester, env, ec)
		if err != nil {
			return nil, unsealErr("unseal bucket key of "+bucket, err)
		}
		dk, err := openLocal(bk, env.LocalKey, sealAAD(meta.SSEKMS, env.Identity, bucket, key))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrDataCorrupt, err)
		}
		return dk, nil
	}
	out, err := e.kms.Decrypt(ctx, requester, env.SealedKey, "", ec)
	if err != nil {
		return nil, unsealErr("unseal data key of "+bucket+"/"+key, err)
	}
	if len(out.Plaintext) != stream.KeySize {
		return nil, fmt.Errorf("objects: data key of %d bytes", len(out.Plaintext))
	}
	return out.Plaintext, nil
}

// arnAccount returns the account field of an ARN ("" if it has none).
func arnAccount(arn string) string {
	f := strings.SplitN(arn, ":", 6)
	if len(f) < 6 {
		return ""
	}
	return f[4]
}

// Encrypted reports whether all of v's data is encrypted at rest.
func Encrypted(v *meta.ObjectVersion) bool {
	if v.DeleteMarker {
		return false
	}
	if v.Encryption != nil {
		return true
	}
	if len(v.Parts) == 0 || len(v.Parts) != len(v.Blobs) {
		return false
	}
	for _, p := range v.Parts {
		if p.Encryption == nil {
			return false
		}
	}
	return true
}
