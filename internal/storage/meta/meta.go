// Package meta defines Coffer's metadata model (accounts, access keys,
// buckets, object versions, multipart uploads) and the Store interface that
// every metadata backend implements. The embedded backend lives in
// meta/bolt; a PostgreSQL backend can follow and must pass the same
// conformance suite (meta/metatest).
//
// The store owns the S3 versioning rules (which version a write replaces,
// when a delete leaves a marker) because they must be applied atomically
// with the write itself.
//
// Object keys never contain NUL: the S3 layer rejects them, and backends
// may rely on it (the bolt backend uses NUL as an index separator).
package meta

import (
	"context"
	"errors"
	"time"
)

// Domain errors. Callers compare with errors.Is.
var (
	ErrNotFound          = errors.New("meta: not found")
	ErrAccountExists     = errors.New("meta: account already exists")
	ErrBucketExists      = errors.New("meta: bucket already exists")
	ErrBucketNotFound    = errors.New("meta: no such bucket")
	ErrBucketNotEmpty    = errors.New("meta: bucket not empty")
	ErrObjectNotFound    = errors.New("meta: no such key")
	ErrVersionNotFound   = errors.New("meta: no such version")
	ErrUploadNotFound    = errors.New("meta: no such upload")
	ErrAccessKeyNotFound = errors.New("meta: no such access key")
	// ErrObjectLocked refuses removing or overwriting a version that
	// Object Lock protects, and weakening its protection.
	ErrObjectLocked = errors.New("meta: object version is protected by Object Lock")
)

// Object Lock retention modes.
const (
	LockGovernance = "GOVERNANCE"
	LockCompliance = "COMPLIANCE"
)

// Retention is a version's Object Lock retention: the version cannot be
// removed before Until (GOVERNANCE yields to an authorized bypass,
// COMPLIANCE to nobody).
type Retention struct {
	Mode  string    `json:"mode"`
	Until time.Time `json:"until"`
}

// DefaultRetention is a lock-enabled bucket's default retention, applied
// to new versions that name none: exactly one of Days and Years is set.
type DefaultRetention struct {
	Mode  string `json:"mode"`
	Days  int    `json:"days,omitempty"`
	Years int    `json:"years,omitempty"`
}

// NullVersion is the version id of an object written while versioning was
// never enabled or is suspended.
const NullVersion = "null"

// Versioning states of a bucket.
const (
	VersioningUnset     = ""
	VersioningEnabled   = "Enabled"
	VersioningSuspended = "Suspended"
)

// Account is the unit of ownership, as in AWS.
type Account struct {
	ID          string    `json:"id"`          // 12 digits
	Name        string    `json:"name"`        // unique, human-readable
	CanonicalID string    `json:"canonicalId"` // 64 hex characters
	Email       string    `json:"email,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
}

// AccessKey is a long-term credential. In the core, every key belongs to an
// account root; IAM users come later (UserName set then).
type AccessKey struct {
	ID        string    `json:"id"`
	Secret    string    `json:"secret"`
	AccountID string    `json:"accountId"`
	UserName  string    `json:"userName,omitempty"` // empty: the account root
	Status    string    `json:"status"`             // Active | Inactive
	CreatedAt time.Time `json:"createdAt"`
}

// Bucket is a bucket's record. Subresource configurations (CORS, tagging,
// policy, lifecycle, ...) are kept as opaque documents in Configs, keyed by
// subresource name, so later features add configurations without schema
// changes.
type Bucket struct {
	Name              string    `json:"name"`
	Owner             string    `json:"owner"` // account id
	Region            string    `json:"region"`
	CreatedAt         time.Time `json:"createdAt"`
	Versioning        string    `json:"versioning,omitempty"`
	MFADelete         string    `json:"mfaDelete,omitempty"`
	ObjectLockEnabled bool      `json:"objectLockEnabled,omitempty"`
	// DefaultRetention applies to new versions of a lock-enabled bucket
	// (nil: none).
	DefaultRetention *DefaultRetention `json:"defaultRetention,omitempty"`
	Configs          map[string][]byte `json:"configs,omitempty"`
}

// AccountSettings holds an account's own configuration documents that
// belong to no bucket (the account-level S3 Block Public Access setting),
// keyed by name and opaque to the store, like Bucket.Configs.
type AccountSettings struct {
	Configs map[string][]byte `json:"configs,omitempty"`
}

// BlobRef names one stored blob and its size in bytes.
type BlobRef struct {
	ID   string `json:"id"`
	Size int64  `json:"size"`
}

// Checksum is an object's or a part's additional checksum.
type Checksum struct {
	Algorithm string `json:"alg,omitempty"`  // CRC32, CRC32C, CRC64NVME, SHA1, SHA256
	Value     string `json:"val,omitempty"`  // base64; composite values carry "-N"
	Type      string `json:"type,omitempty"` // FULL_OBJECT | COMPOSITE
}

// Encryption describes how one stream of stored data (an object's single
// blob or inline bytes, or one multipart part) is encrypted at rest: the
// data key sealed by the KMS (envelope encryption) and the random identity
// assigned when the write started, which binds the ciphertext to this
// record so stored data cannot be swapped between objects or parts.
//
// The mode decides what SealedKey holds:
//   - SSE-S3 (AES256) and SSE-KMS (aws:kms) without a bucket key: the KMS
//     ciphertext blob of the data key;
//   - SSE-KMS with a bucket key: the KMS blob of the bucket key, and
//     LocalKey is the data key sealed under it;
//   - SSE-C: the KMS blob (under the bucket owner's aws/s3 key) of a
//     server-side secret, and LocalKey is the data key sealed under a key
//     derived from that secret and the customer's key, which is never
//     stored.
type Encryption struct {
	Algorithm string `json:"alg"`          // AES256 (SSE-S3), aws:kms (SSE-KMS) or SSE-C
	KeyID     string `json:"kid"`          // ARN of the KMS key that sealed SealedKey
	SealedKey []byte `json:"sk"`           // KMS ciphertext blob (see above)
	Identity  []byte `json:"id,omitempty"` // 16 random bytes
	// Context is the caller's additional SSE-KMS encryption context as
	// canonical JSON (without the aws:s3:arn pair S3 adds); empty if none.
	Context string `json:"ctx,omitempty"`
	// BucketKey says SealedKey is an S3 bucket key (SSE-KMS).
	BucketKey bool `json:"bk,omitempty"`
	// LocalKey is the data key sealed locally (bucket key, SSE-C).
	LocalKey []byte `json:"lk,omitempty"`
}

// Encryption modes (Encryption.Algorithm).
const (
	SSES3  = "AES256"
	SSEKMS = "aws:kms"
	SSEC   = "SSE-C"
)

// PartInfo describes one part of a completed multipart object.
type PartInfo struct {
	Number   int      `json:"n"`
	Size     int64    `json:"size"` // plaintext bytes
	ETag     string   `json:"etag"`
	Checksum Checksum `json:"ck,omitempty"`
	// Encryption is the part's own envelope (nil: stored in clear).
	Encryption *Encryption `json:"enc,omitempty"`
}

// ObjectVersion is one version of an object, or a delete marker.
type ObjectVersion struct {
	Bucket       string            `json:"-"`
	Key          string            `json:"key"`
	VersionID    string            `json:"vid"`
	DeleteMarker bool              `json:"dm,omitempty"`
	IsLatest     bool              `json:"-"` // filled on read
	Owner        string            `json:"owner"`
	Size         int64             `json:"size"`
	ETag         string            `json:"etag,omitempty"` // quoted
	LastModified time.Time         `json:"mtime"`
	StorageClass string            `json:"sc,omitempty"`
	Headers      map[string]string `json:"hdr,omitempty"`  // system metadata: Content-Type, Cache-Control, ...
	UserMeta     map[string]string `json:"meta,omitempty"` // x-amz-meta-* without the prefix, lower-case names
	Tags         map[string]string `json:"tags,omitempty"`
	Checksum     Checksum          `json:"ck,omitempty"`
	Parts        []PartInfo        `json:"parts,omitempty"` // set for multipart objects
	// Blobs is the data, in order. Their sizes are what is stored (the
	// ciphertext size when encrypted); Size is always the plaintext size.
	Blobs []BlobRef `json:"blobs,omitempty"`
	// Encryption is the envelope of a single-blob or inline object (nil:
	// stored in clear, or a multipart object whose parts carry their own).
	Encryption *Encryption `json:"enc,omitempty"`
	// Inline holds the data of a small object kept in the metadata store
	// itself instead of in blobs (Blobs is then empty): one group-committed
	// metadata write makes such a PUT durable, with no file to create and
	// sync. Stores keep it apart from the record so listings never load
	// it; only GetObject returns it, and it goes with its version.
	Inline []byte `json:"-"`
	// ACL is the version's access control list as the S3 layer encodes
	// it (nil: the default, owner FULL_CONTROL). The store keeps it
	// opaque, like Bucket.Configs.
	ACL []byte `json:"acl,omitempty"`
	// Retention and LegalHold are the version's Object Lock protection.
	// Stores refuse to remove a protected version (see package protect).
	Retention *Retention `json:"ret,omitempty"`
	LegalHold bool       `json:"lh,omitempty"`
}

// Upload is an in-progress multipart upload.
type Upload struct {
	Bucket    string            `json:"-"`
	Key       string            `json:"key"`
	UploadID  string            `json:"id"`
	Owner     string            `json:"owner"`
	Initiated time.Time         `json:"initiated"`
	Headers   map[string]string `json:"hdr,omitempty"`
	UserMeta  map[string]string `json:"meta,omitempty"`
	Tags      map[string]string `json:"tags,omitempty"`
	// ChecksumAlgorithm and ChecksumType are fixed at creation.
	ChecksumAlgorithm string `json:"ckAlg,omitempty"`
	ChecksumType      string `json:"ckType,omitempty"`
	StorageClass      string `json:"sc,omitempty"`
	// ACL is the ACL the completed object gets (see ObjectVersion.ACL).
	ACL []byte `json:"acl,omitempty"`
	// Retention and LegalHold are the completed object's Object Lock
	// settings, as requested at creation.
	Retention *Retention `json:"ret,omitempty"`
	LegalHold bool       `json:"lh,omitempty"`
	// SSE is the encryption chosen when the upload was created, applied
	// to every part (nil: SSE-S3).
	SSE *UploadSSE `json:"sse,omitempty"`
}

// UploadSSE is a multipart upload's encryption setting. For SSE-C,
// Secret is the envelope (KeyID, SealedKey, Identity and a LocalKey
// sealed under the customer key) every part reuses and that recognises
// the customer key each part must repeat.
type UploadSSE struct {
	Mode      string      `json:"mode"`          // SSES3, SSEKMS or SSEC
	KMSKeyID  string      `json:"kid,omitempty"` // SSE-KMS: resolved key ARN
	Context   string      `json:"ctx,omitempty"` // SSE-KMS: caller's context, canonical JSON
	BucketKey bool        `json:"bk,omitempty"`
	Secret    *Encryption `json:"sec,omitempty"`
}

// Part is an uploaded part of a multipart upload.
type Part struct {
	Number       int       `json:"n"`
	Size         int64     `json:"size"`
	ETag         string    `json:"etag"`
	LastModified time.Time `json:"mtime"`
	Checksum     Checksum  `json:"ck,omitempty"`
	Blob         BlobRef   `json:"blob"`
	// Encryption is the part's envelope; Size is its plaintext size.
	Encryption *Encryption `json:"enc,omitempty"`
}

// Precondition is evaluated inside the write transaction against the
// current latest version of the key (nil when there is none; a latest
// delete marker is passed as such). Returning an error aborts the write,
// leaving the store unchanged, and the method returns that error as is.
//
// Like every callback passed to a Store method (UpdateBucket's fn,
// DeleteBucket's check, UpdateObject's fn), it may be called more than
// once for one method call (backends retry transactions to group commits),
// so it must have no side effects outside its argument; the value passed
// is the store's own copy.
type Precondition func(current *ObjectVersion) error

// ListOptions select a page of ListObjects or ListObjectVersions.
//
// With a Delimiter, keys sharing the part of the key up to the first
// delimiter after Prefix are rolled up into one common prefix, which counts
// as one entry towards MaxKeys, as in S3.
type ListOptions struct {
	Prefix    string
	Delimiter string
	// Marker: list keys strictly after this key (start-after / marker /
	// continuation). If Marker falls inside a common prefix, that prefix
	// is skipped (it was returned on an earlier page). For versions,
	// VersionIDMarker refines it: with both set, listing continues after
	// that version of that key (if the version no longer exists, with the
	// key's remaining versions from the newest); VersionIDMarker without
	// Marker is ignored.
	Marker          string
	VersionIDMarker string
	// MaxKeys caps the entries returned; zero or less returns an empty,
	// untruncated page. Callers apply S3's default and limit.
	MaxKeys int
}

// ListResult is one page of a listing. Objects holds latest non-deleted
// versions (ListObjects) or all versions and delete markers (ListVersions),
// in key order (versions newest first within a key).
type ListResult struct {
	Objects        []*ObjectVersion
	CommonPrefixes []string
	IsTruncated    bool
	// NextMarker is the last key (or common prefix) returned when truncated.
	NextMarker          string
	NextVersionIDMarker string
}

// UploadListOptions select a page of ListMultipartUploads. Uploads are
// ordered by key, then initiation time (then upload id). KeyMarker alone
// continues with keys strictly after it; with UploadIDMarker, after that
// upload of that key (if the upload no longer exists, with all of the key's
// uploads); UploadIDMarker without KeyMarker is ignored. Delimiter and
// MaxUploads work as in ListOptions.
type UploadListOptions struct {
	Prefix         string
	Delimiter      string
	KeyMarker      string
	UploadIDMarker string
	MaxUploads     int
}

// UploadListResult is one page of ListMultipartUploads.
type UploadListResult struct {
	Uploads            []*Upload
	CommonPrefixes     []string
	IsTruncated        bool
	NextKeyMarker      string
	NextUploadIDMarker string
}

// PutResult reports what a write did.
type PutResult struct {
	VersionID string // the new version's id ("null" unless versioning is Enabled)
	// Freed lists blobs no longer referenced (a replaced null version,
	// unused parts), never one the new version itself uses; the caller
	// deletes them after the commit.
	Freed []BlobRef
}

// DeleteResult reports what a delete did. Deleting a missing key from a
// bucket whose versioning is unset leaves the result empty.
type DeleteResult struct {
	VersionID    string // the version removed, or the marker created
	DeleteMarker bool   // a delete marker was created or removed
	Freed        []BlobRef
}

// Store is the metadata store. All methods are safe for concurrent use and
// each is atomic.
//
// Object Lock is enforced by the store itself, with package protect,
// inside the transaction of every write: removing or replacing a version
// (DeleteObject with a versionID, a null version replaced by PutObject,
// CompleteUpload or an unversioned delete) asks protect.CheckRemoval,
// UpdateObject asks protect.CheckChange and never changes a version's data
// in place, UpdateBucket asks protect.CheckBucketChange, and new versions
// get the bucket's default retention (protect.ApplyDefault). Refusals wrap
// ErrObjectLocked. The checks read the time from the store's
// data-protection clock and an authorized governance bypass from ctx. Methods never retain or modify the values passed to them
// and return fresh values the caller may modify.
//
// Methods taking a bucket name return ErrBucketNotFound when the bucket
// does not exist.
type Store interface {
	// Accounts and access keys. CreateAccount fails with ErrAccountExists
	// if the id or the name is taken; key (optional) is stored with it, its
	// AccountID defaulting to a.ID. Missing accounts are ErrNotFound,
	// missing keys ErrAccessKeyNotFound. ListAccounts orders by id.
	// PutAccessKey creates or replaces a key of an existing account.
	CreateAccount(ctx context.Context, a *Account, key *AccessKey) error
	GetAccount(ctx context.Context, id string) (*Account, error)
	GetAccountByName(ctx context.Context, name string) (*Account, error)
	ListAccounts(ctx context.Context) ([]*Account, error)
	PutAccessKey(ctx context.Context, k *AccessKey) error
	GetAccessKey(ctx context.Context, id string) (*AccessKey, error)
	DeleteAccessKey(ctx context.Context, id string) error
	// GetAccountSettings returns an account's settings (empty if none were
	// ever stored); UpdateAccountSettings applies fn to them inside a
	// transaction, fn's error aborting and being returned as is. Both fail
	// with ErrNotFound for a missing account.
	GetAccountSettings(ctx context.Context, accountID string) (*AccountSettings, error)
	UpdateAccountSettings(ctx context.Context, accountID string, fn func(s *AccountSettings) error) error

	// Buckets. CreateBucket fails with ErrBucketExists whoever owns it.
	CreateBucket(ctx context.Context, b *Bucket) error
	GetBucket(ctx context.Context, name string) (*Bucket, error)
	// UpdateBucket applies fn to the bucket inside a transaction; an error
	// from fn aborts and is returned as is. The name cannot be changed.
	UpdateBucket(ctx context.Context, name string, fn func(b *Bucket) error) error
	// DeleteBucket fails with ErrBucketNotEmpty while any version, delete
	// marker or multipart upload remains; check (optional) runs inside the
	// transaction first, and its error aborts and is returned as is.
	DeleteBucket(ctx context.Context, name string, check func(b *Bucket) error) error
	// ListBuckets lists the buckets owned by an account ("" for all), by name.
	ListBuckets(ctx context.Context, owner string) ([]*Bucket, error)

	// Objects. PutObject stores v as the new latest version of its key,
	// following the bucket's versioning state: Enabled assigns v a new
	// version id; otherwise v becomes the null version, replacing any
	// previous null version. newVersionID is used when a new id is needed.
	PutObject(ctx context.Context, v *ObjectVersion, newVersionID string, pre Precondition) (PutResult, error)
	// GetObject returns a version; versionID "" means the latest. A latest
	// that is a delete marker is returned as such (callers answer 404).
	// IsLatest is set. A key without versions is ErrObjectNotFound; a
	// versionID the key does not have is ErrVersionNotFound.
	GetObject(ctx context.Context, bucket, key, versionID string) (*ObjectVersion, error)
	// UpdateObject changes a stored version's tags or metadata in place
	// (versionID "" means the latest, which may be a delete marker: fn
	// sees DeleteMarker and may refuse). fn cannot change the version's
	// identity (Bucket, Key, VersionID, DeleteMarker); its error aborts.
	// Missing versions are reported as by GetObject.
	UpdateObject(ctx context.Context, bucket, key, versionID string, fn func(v *ObjectVersion) error) error
	// DeleteObject without a versionID follows the versioning state: unset
	// removes the null version (a missing key is no error); Enabled adds a
	// delete marker with newVersionID; Suspended adds a delete marker with
	// version id "null", replacing any null version. check (optional) runs
	// inside the transaction on the current latest version (nil if none).
	// With a versionID it removes exactly that version or marker (check
	// sees it), and the next newest becomes the latest; a missing version
	// is ErrVersionNotFound. Markers created are owned by the bucket owner.
	DeleteObject(ctx context.Context, bucket, key, versionID, newVersionID string, check Precondition) (DeleteResult, error)
	ListObjects(ctx context.Context, bucket string, opts ListOptions) (ListResult, error)
	ListVersions(ctx context.Context, bucket string, opts ListOptions) (ListResult, error)

	// Multipart uploads. GetUpload, PutPart, ListParts, CompleteUpload and
	// AbortUpload fail with ErrUploadNotFound if the upload does not exist
	// or belongs to another key (a completed or aborted upload no longer
	// exists).
	CreateUpload(ctx context.Context, u *Upload) error
	GetUpload(ctx context.Context, bucket, key, uploadID string) (*Upload, error)
	// PutPart stores a part; a part with the same number is replaced and
	// its blob returned for freeing.
	PutPart(ctx context.Context, bucket, key, uploadID string, p *Part) (freed []BlobRef, err error)
	// ListParts lists parts with numbers > marker, up to max (zero or less
	// returns none), in number order; truncated reports more parts.
	ListParts(ctx context.Context, bucket, key, uploadID string, marker, max int) (parts []*Part, truncated bool, err error)
	ListUploads(ctx context.Context, bucket string, opts UploadListOptions) (UploadListResult, error)
	// CompleteUpload atomically removes the upload and stores v (built by
	// the caller from the chosen parts) as with PutObject; the upload must
	// belong to v.Bucket and v.Key. Blobs of parts not used by v, and of a
	// replaced null version, are returned in Freed.
	CompleteUpload(ctx context.Context, uploadID string, v *ObjectVersion, newVersionID string, pre Precondition) (PutResult, error)
	AbortUpload(ctx context.Context, bucket, key, uploadID string) (freed []BlobRef, err error)

	// Blob references, for garbage collection and fsck: calls fn for
	// every blob id referenced by any version or part, from one consistent
	// snapshot. An error from fn stops the walk and is returned.
	ForEachBlobRef(ctx context.Context, fn func(id string) error) error

	Close() error
}
