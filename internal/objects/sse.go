package objects

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/coffer-io/coffer/internal/authz"
	"github.com/coffer-io/coffer/internal/crypto/stream"
	"github.com/coffer-io/coffer/internal/kms"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// SSE-KMS and SSE-C, next to SSE-S3 (encryption.go).
//
// SSE-KMS asks the KMS for a data key under the chosen key, bound to the
// object's ARN and the caller's context, on the requester's behalf (the
// request's authz.Caller travels in the context, so key policies apply).
// With a bucket key, S3 instead asks the KMS for a bucket-level key bound
// to the bucket's ARN, keeps it for a short while, and seals each object's
// data key under it locally: many writes, one KMS call.
//
// SSE-C never stores the customer's key. A data key is sealed (AES-GCM,
// bound to the object and its identity) under a key derived from the
// customer key and a per-object secret that the KMS protects under the
// bucket owner's aws/s3 key. Whoever reads the metadata store alone can
// therefore not even test guesses of the customer key: that needs the
// server's root key too. A wrong key fails the GCM check and is reported
// as such, with no data.

// Errors for SSE-C reads and writes.
var (
	// ErrCustomerKeyMismatch: the SSE-C key does not open the object.
	ErrCustomerKeyMismatch = errors.New("objects: SSE-C key does not match the object's")
	// ErrCustomerKeyRequired: an SSE-C object read without its key.
	ErrCustomerKeyRequired = errors.New("objects: SSE-C object read without a key")
	// ErrCustomerKeyNotApplicable: an SSE-C key given for another mode.
	ErrCustomerKeyNotApplicable = errors.New("objects: SSE-C key given for an object not encrypted with SSE-C")
)

// CustomerKeySize is the length of an SSE-C key.
const CustomerKeySize = 32

// BucketKeyTTL bounds how long a bucket key is used (and cached) before
// the KMS is asked for a new one.
const BucketKeyTTL = 5 * time.Minute

// maxBucketKeys bounds the bucket-key caches.
const maxBucketKeys = 4096

// SSE is how a write is encrypted. The zero value (or nil) is SSE-S3.
type SSE struct {
	Mode string // meta.SSES3 (or ""), meta.SSEKMS, meta.SSEC
	// SSE-KMS: the key as requested (key ID, key ARN, alias name or alias
	// ARN; "" for the requester's aws/s3 key), the caller's additional
	// encryption context, and whether to use a bucket key.
	KMSKeyID  string
	Context   map[string]string
	BucketKey bool
	// Requester is the account that names the KMS key (aliases and bare
	// IDs resolve in it) and on whose behalf the KMS is called.
	Requester string
	// CustomerKey is the SSE-C key (32 bytes).
	CustomerKey []byte
	// uploadSecret is the SSE-C secret of the upload a part belongs to
	// (see PartSSE); nil for single writes, which get their own.
	uploadSecret *meta.Encryption
}

func (s *SSE) mode() string {
	if s == nil || s.Mode == "" {
		return meta.SSES3
	}
	return s.Mode
}

// ReadKeys is what reading needs beyond the record: the SSE-C key, and
// the account on whose behalf SSE-KMS keys are used.
type ReadKeys struct {
	CustomerKey []byte
	Requester   string
}

// internal strips the requester from ctx: SSE-S3's and SSE-C's KMS calls
// are the service's own, under the AWS-managed key, and not subject to
// key policies.
func internal(ctx context.Context) context.Context {
	if authz.CallerFrom(ctx) == nil {
		return ctx
	}
	return authz.WithCaller(ctx, nil)
}

// kmsContext is the encryption context of an SSE-KMS key: the caller's
// pairs plus aws:s3:arn (the object's ARN, or the bucket's for a bucket
// key).
func kmsContext(user map[string]string, arn string) map[string]string {
	c := make(map[string]string, len(user)+1)
	for k, v := range user {
		c[k] = v
	}
	c["aws:s3:arn"] = arn
	return c
}

// EncryptionContext returns the full SSE-KMS encryption context of an
// envelope written for bucket/key, as S3 reports it.
func EncryptionContext(env *meta.Encryption, bucket, key string) (map[string]string, error) {
	user, err := decodeContext(env.Context)
	if err != nil {
		return nil, err
	}
	arn := "arn:aws:s3:::" + bucket + "/" + key
	if env.BucketKey {
		arn = "arn:aws:s3:::" + bucket
	}
	return kmsContext(user, arn), nil
}

func encodeContext(c map[string]string) (string, error) {
	if len(c) == 0 {
		return "", nil
	}
	b, err := json.Marshal(c) // keys sorted: canonical
	return string(b), err
}

func decodeContext(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	var c map[string]string
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return nil, fmt.Errorf("%w: encryption context: %w", ErrDataCorrupt, err)
	}
	return c, nil
}

// sealAAD binds a locally sealed key to its mode, the data's identity and
// the object's name.
func sealAAD(mode string, identity []byte, bucket, key string) []byte {
	b := make([]byte, 0, 64+len(bucket)+len(key))
	b = append(b, "coffer/sse/v1\x00"...)
	b = append(b, mode...)
	b = append(b, 0)
	b = append(b, identity...)
	b = append(b, bucket...)
	b = append(b, '/')
	return append(b, key...)
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealLocal encrypts pt under kek: nonce ‖ ciphertext ‖ tag.
func sealLocal(kek, pt, aad []byte) ([]byte, error) {
	a, err := newAEAD(kek)
	if err != nil {
		return nil, err
	}
	out := make([]byte, a.NonceSize(), a.NonceSize()+len(pt)+a.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	return a.Seal(out, out, pt, aad), nil
}

var errLocalOpen = errors.New("objects: locally sealed key did not open")

func openLocal(kek, sealed, aad []byte) ([]byte, error) {
	a, err := newAEAD(kek)
	if err != nil {
		return nil, err
	}
	if len(sealed) < a.NonceSize()+a.Overhead() {
		return nil, errLocalOpen
	}
	pt, err := a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], aad)
	if err != nil {
		return nil, errLocalOpen
	}
	return pt, nil
}

// customerKEK derives the key that seals an SSE-C data key from the
// customer's key and the object's server-side secret.
func customerKEK(secret, customerKey []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("coffer/sse-c/kek/v1\x00"))
	m.Write(customerKey)
	return m.Sum(nil)
}

// sealedETag is the ETag of SSE-KMS and SSE-C data: like AWS's, it is not
// the MD5 of the content (which would leak a fingerprint of encrypted
// data), but it is stable for the stored data and unique per write.
func sealedETag(dataKey, md5 []byte) string {
	m := hmac.New(sha256.New, dataKey)
	m.Write([]byte("coffer/etag/v1\x00"))
	m.Write(md5)
	return `"` + hex.EncodeToString(m.Sum(nil)[:16]) + `"`
}

func newIdentity() ([]byte, error) {
	id := make([]byte, identitySize)
	_, err := rand.Read(id)
	return id, err
}

// bucketKey is a cached bucket key.
type bucketKey struct {
	plain   []byte
	blob    []byte
	keyARN  string
	expires time.Time
}

// bucketKeys caches bucket keys per requester: for writes by (requester,
// KMS key, bucket, context), for reads by (requester, sealed blob). Keying
// by requester keeps the KMS's view (key policies, audit) per principal,
// as AWS does.
type bucketKeys struct {
	mu    sync.Mutex
	write map[string]*bucketKey
	read  map[string]*bucketKey
	now   func() time.Time
}

func (c *bucketKeys) get(m map[string]*bucketKey, k string) *bucketKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := m[k]
	if e == nil || !c.now().Before(e.expires) {
		return nil
	}
	return e
}

func (c *bucketKeys) put(m map[string]*bucketKey, k string, e *bucketKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(m) >= maxBucketKeys {
		now := c.now()
		for k, old := range m {
			if !now.Before(old.expires) {
				delete(m, k)
			}
		}
		if len(m) >= maxBucketKeys {
			clear(m)
		}
	}
	m[k] = e
}

// unsealErr reports a KMS refusal to unseal stored data. A ciphertext the
// KMS does not accept (wrong context, altered blob) means the record was
// tampered with or moved: data corruption, never a client error. Other
// KMS errors (a disabled key, a denial) pass through for the client.
func unsealErr(what string, err error) error {
	if kms.ErrorCode(err) == kms.CodeInvalidCiphertext {
		return fmt.Errorf("%w: %s: %v", ErrDataCorrupt, what, err)
	}
	return fmt.Errorf("objects: %s: %w", what, err)
}

func principalOf(ctx context.Context) string {
	if c := authz.CallerFrom(ctx); c != nil && c.Principal != nil {
		return c.Principal.ARN
	}
	return ""
}

// bucketKeyFor returns a bucket key for writes.
func (e *encryptor) bucketKeyFor(ctx context.Context, requester, keyID, bucket string, user map[string]string, userJSON string) (*bucketKey, error) {
	ck := principalOf(ctx) + "\x00" + requester + "\x00" + keyID + "\x00" + bucket + "\x00" + userJSON
	ec := kmsContext(user, "arn:aws:s3:::"+bucket)
	if bk := e.bk.get(e.bk.write, ck); bk != nil {
		// The key's state and policy are decided now, not when the bucket
		// key was made; an alias moved meanwhile makes a new bucket key.
		arn, err := e.kms.CheckUse(ctx, "GenerateDataKey", requester, keyID, ec)
		if err != nil {
			return nil, fmt.Errorf("objects: bucket key: %w", err)
		}
		if arn == bk.keyARN {
			return bk, nil
		}
	}
	dk, err := e.kms.GenerateDataKey(ctx, requester, keyID, kms.DataKeyInput{KeySpec: kms.DataKeySpecAES256}, ec)
	if err != nil {
		return nil, fmt.Errorf("objects: bucket key: %w", err)
	}
	bk := &bucketKey{plain: dk.Plaintext, blob: dk.CiphertextBlob, keyARN: dk.KeyID, expires: e.bk.now().Add(BucketKeyTTL)}
	e.bk.put(e.bk.write, ck, bk)
	e.bk.put(e.bk.read, principalOf(ctx)+"\x00"+string(dk.CiphertextBlob), bk)
	return bk, nil
}

// openBucketKey unseals a bucket key for reads.
func (e *encryptor) openBucketKey(ctx context.Context, requester string, env *meta.Encryption, ec map[string]string) ([]byte, error) {
	ck := principalOf(ctx) + "\x00" + string(env.SealedKey)
	if bk := e.bk.get(e.bk.read, ck); bk != nil {
		// As for writes: the key's state and policy as they are now.
		if _, err := e.kms.CheckUse(ctx, "Decrypt", requester, bk.keyARN, ec); err != nil {
			return nil, err
		}
		return bk.plain, nil
	}
	out, err := e.kms.Decrypt(ctx, requester, env.SealedKey, "", ec)
	if err != nil {
		return nil, err
	}
	e.bk.put(e.bk.read, ck, &bucketKey{plain: out.Plaintext, blob: env.SealedKey, keyARN: out.KeyID, expires: e.bk.now().Add(BucketKeyTTL)})
	return out.Plaintext, nil
}

// newKMSEnvelope returns a data key and envelope for SSE-KMS.
func (e *encryptor) newKMSEnvelope(ctx context.Context, sse *SSE, bucket, key string) ([]byte, *meta.Encryption, error) {
	requester := sse.Requester
	keyID := sse.KMSKeyID
	if keyID == "" || keyID == kms.DefaultS3Alias {
		// The AWS-managed key is created on first use.
		arn, err := e.defaultKey(internal(ctx), requester)
		if err != nil {
			return nil, nil, fmt.Errorf("objects: default key of %s: %w", requester, err)
		}
		keyID = arn
	}
	userJSON, err := encodeContext(sse.Context)
	if err != nil {
		return nil, nil, err
	}
	id, err := newIdentity()
	if err != nil {
		return nil, nil, err
	}
	if sse.BucketKey {
		bk, err := e.bucketKeyFor(ctx, requester, keyID, bucket, sse.Context, userJSON)
		if err != nil {
			return nil, nil, err
		}
		dk := make([]byte, stream.KeySize)
		if _, err := rand.Read(dk); err != nil {
			return nil, nil, err
		}
		local, err := sealLocal(bk.plain, dk, sealAAD(meta.SSEKMS, id, bucket, key))
		if err != nil {
			return nil, nil, err
		}
		return dk, &meta.Encryption{Algorithm: meta.SSEKMS, KeyID: bk.keyARN, SealedKey: bk.blob, Identity: id,
			Context: userJSON, BucketKey: true, LocalKey: local}, nil
	}
	dk, err := e.kms.GenerateDataKey(ctx, requester, keyID, kms.DataKeyInput{KeySpec: kms.DataKeySpecAES256},
		kmsContext(sse.Context, "arn:aws:s3:::"+bucket+"/"+key))
	if err != nil {
		return nil, nil, fmt.Errorf("objects: data key: %w", err)
	}
	return dk.Plaintext, &meta.Encryption{Algorithm: meta.SSEKMS, KeyID: dk.KeyID, SealedKey: dk.CiphertextBlob, Identity: id, Context: userJSON}, nil
}

// newCustomerSecret returns a fresh server-side secret for SSE-C data of
// bucket/key, and its KMS envelope (KeyID, SealedKey).
func (e *encryptor) newCustomerSecret(ctx context.Context, account, bucket, key string) ([]byte, *meta.Encryption, error) {
	ctx = internal(ctx)
	arn, err := e.defaultKey(ctx, account)
	if err != nil {
		return nil, nil, fmt.Errorf("objects: default key of %s: %w", account, err)
	}
	dk, err := e.kms.GenerateDataKey(ctx, account, arn, kms.DataKeyInput{KeySpec: kms.DataKeySpecAES256}, encryptionContext(bucket, key))
	if err != nil {
		return nil, nil, fmt.Errorf("objects: SSE-C secret: %w", err)
	}
	return dk.Plaintext, &meta.Encryption{Algorithm: meta.SSEC, KeyID: dk.KeyID, SealedKey: dk.CiphertextBlob}, nil
}

// customerSecret unseals the server-side secret of an SSE-C envelope.
func (e *encryptor) customerSecret(ctx context.Context, env *meta.Encryption, bucket, key string) ([]byte, error) {
	out, err := e.kms.Decrypt(internal(ctx), arnAccount(env.KeyID), env.SealedKey, "", encryptionContext(bucket, key))
	if err != nil {
		return nil, unsealErr("unseal SSE-C secret of "+bucket+"/"+key, err)
	}
	return out.Plaintext, nil
}

// sealCustomer seals a fresh data key for SSE-C data under secret and the
// customer key, with a fresh identity, into an envelope like tmpl.
func sealCustomer(secret, customerKey []byte, tmpl *meta.Encryption, bucket, key string) ([]byte, *meta.Encryption, error) {
	id, err := newIdentity()
	if err != nil {
		return nil, nil, err
	}
	dk := make([]byte, stream.KeySize)
	if _, err := rand.Read(dk); err != nil {
		return nil, nil, err
	}
	kek := customerKEK(secret, customerKey)
	defer clear(kek)
	local, err := sealLocal(kek, dk, sealAAD(meta.SSEC, id, bucket, key))
	if err != nil {
		return nil, nil, err
	}
	return dk, &meta.Encryption{Algorithm: meta.SSEC, KeyID: tmpl.KeyID, SealedKey: tmpl.SealedKey, Identity: id, LocalKey: local}, nil
}

// openCustomer opens an SSE-C envelope's data key with the customer key.
func openCustomer(secret, customerKey []byte, env *meta.Encryption, bucket, key string) ([]byte, error) {
	kek := customerKEK(secret, customerKey)
	defer clear(kek)
	dk, err := openLocal(kek, env.LocalKey, sealAAD(meta.SSEC, env.Identity, bucket, key))
	if err != nil {
		return nil, ErrCustomerKeyMismatch
	}
	return dk, nil
}

// NewUploadSSE fixes the encryption of a multipart upload of bucket/key
// owned by account. For SSE-KMS it asks the KMS for a data key once, as
// AWS does at CreateMultipartUpload (so an unusable key fails here), and
// records the resolved key ARN; for SSE-C it creates the secret every
// part reuses and a check value sealed under the customer key.
func (s *Service) NewUploadSSE(ctx context.Context, account, bucket, key string, sse *SSE) (*meta.UploadSSE, error) {
	if s.enc == nil || s.enc.clearWrites {
		if sse.mode() != meta.SSES3 {
			return nil, errors.New("objects: SSE-KMS or SSE-C without encryption at rest")
		}
		return nil, nil
	}
	switch sse.mode() {
	case meta.SSES3:
		return nil, nil
	case meta.SSEKMS:
		dk, env, err := s.enc.newKMSEnvelope(ctx, sse, bucket, key)
		if err != nil {
			return nil, err
		}
		clear(dk)
		return &meta.UploadSSE{Mode: meta.SSEKMS, KMSKeyID: env.KeyID, Context: env.Context, BucketKey: env.BucketKey}, nil
	case meta.SSEC:
		secret, tmpl, err := s.enc.newCustomerSecret(ctx, account, bucket, key)
		if err != nil {
			return nil, err
		}
		defer clear(secret)
		dk, env, err := sealCustomer(secret, sse.CustomerKey, tmpl, bucket, key)
		if err != nil {
			return nil, err
		}
		clear(dk)
		return &meta.UploadSSE{Mode: meta.SSEC, Secret: env}, nil
	}
	return nil, fmt.Errorf("objects: unknown encryption mode %q", sse.Mode)
}

// PartSSE returns the SSE a part of an upload is written with, checking
// that an SSE-C part repeats the upload's key (customerKey; nil when the
// part request carried none).
func (s *Service) PartSSE(ctx context.Context, u *meta.Upload, requester string, customerKey []byte) (*SSE, error) {
	if u.SSE == nil || u.SSE.Mode == meta.SSES3 {
		if customerKey != nil {
			return nil, ErrCustomerKeyNotApplicable
		}
		return nil, nil
	}
	switch u.SSE.Mode {
	case meta.SSEKMS:
		if customerKey != nil {
			return nil, ErrCustomerKeyNotApplicable
		}
		c, err := decodeContext(u.SSE.Context)
		if err != nil {
			return nil, err
		}
		// AWS needs kms:Decrypt on the key for each part (S3 reads the
		// upload's data key); the part's own data key then needs
		// kms:GenerateDataKey as a PutObject would.
		if s.enc != nil {
			ec := kmsContext(c, "arn:aws:s3:::"+u.Bucket+"/"+u.Key)
			if u.SSE.BucketKey {
				ec = kmsContext(c, "arn:aws:s3:::"+u.Bucket)
			}
			if _, err := s.enc.kms.CheckUse(ctx, "Decrypt", requester, u.SSE.KMSKeyID, ec); err != nil {
				return nil, fmt.Errorf("objects: upload key: %w", err)
			}
		}
		return &SSE{Mode: meta.SSEKMS, KMSKeyID: u.SSE.KMSKeyID, Context: c, BucketKey: u.SSE.BucketKey, Requester: requester}, nil
	case meta.SSEC:
		if customerKey == nil {
			return nil, ErrCustomerKeyRequired
		}
		if u.SSE.Secret == nil || s.enc == nil {
			return nil, fmt.Errorf("%w: SSE-C upload without its secret", ErrDataCorrupt)
		}
		secret, err := s.enc.customerSecret(ctx, u.SSE.Secret, u.Bucket, u.Key)
		if err != nil {
			return nil, err
		}
		defer clear(secret)
		dk, err := openCustomer(secret, customerKey, u.SSE.Secret, u.Bucket, u.Key)
		if err != nil {
			return nil, err
		}
		clear(dk)
		return &SSE{Mode: meta.SSEC, CustomerKey: customerKey, uploadSecret: u.SSE.Secret}, nil
	}
	return nil, fmt.Errorf("objects: unknown upload encryption mode %q", u.SSE.Mode)
}

// Mode returns an object version's encryption mode: meta.SSES3,
// meta.SSEKMS or meta.SSEC, or "" if it is not encrypted.
func Mode(v *meta.ObjectVersion) string {
	if env := FirstEnvelope(v); env != nil && Encrypted(v) {
		return env.Algorithm
	}
	return ""
}

// FirstEnvelope returns the envelope that describes a version's
// encryption (its own, or its first part's); nil if none.
func FirstEnvelope(v *meta.ObjectVersion) *meta.Encryption {
	if v.Encryption != nil {
		return v.Encryption
	}
	if len(v.Parts) > 0 {
		return v.Parts[0].Encryption
	}
	return nil
}

// CheckReadKeys verifies, before any data is read, that keys open v: for
// SSE-C, that a key was given and is the object's (the first part's, for
// a multipart object); for other modes, that no SSE-C key was given.
func (s *Service) CheckReadKeys(ctx context.Context, v *meta.ObjectVersion, keys ReadKeys) error {
	env := FirstEnvelope(v)
	if env == nil || env.Algorithm != meta.SSEC {
		if keys.CustomerKey != nil {
			return ErrCustomerKeyNotApplicable
		}
		return nil
	}
	if keys.CustomerKey == nil {
		return ErrCustomerKeyRequired
	}
	if s.enc == nil {
		return errors.New("objects: encrypted data, but encryption is not configured")
	}
	secret, err := s.enc.customerSecret(ctx, env, v.Bucket, v.Key)
	if err != nil {
		return err
	}
	defer clear(secret)
	dk, err := openCustomer(secret, keys.CustomerKey, env, v.Bucket, v.Key)
	if err != nil {
		return err
	}
	clear(dk)
	return nil
}

// KeyARN resolves a KMS key identifier (ID, ARN, alias, alias ARN) as
// account names it to the key's ARN.
func (s *Service) KeyARN(ctx context.Context, account, id string) (string, error) {
	if s.enc == nil {
		return "", errors.New("objects: encryption is not configured")
	}
	k, err := s.enc.kms.DescribeKey(internal(ctx), account, id)
	if err != nil {
		return "", err
	}
	return k.ARN, nil
}
