// Package objects is the bucket and object service behind the S3 front
// door: it owns the life cycle of object data (streaming bodies into blobs
// while hashing them, committing metadata, freeing replaced data) on top of
// the meta.Store and blob.Store interfaces. Handlers decode requests and
// call it; it never sees HTTP.
package objects

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/coffer-io/coffer/internal/checksum"
	"github.com/coffer-io/coffer/internal/crypto/stream"
	"github.com/coffer-io/coffer/internal/storage/blob"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// Errors returned by the service.
var (
	ErrTooLarge    = errors.New("objects: body larger than allowed")
	ErrIncomplete  = errors.New("objects: body shorter than declared")
	ErrBadDigest   = errors.New("objects: Content-MD5 mismatch")
	ErrBadChecksum = errors.New("objects: checksum mismatch")
)

// ChecksumMismatchError names the algorithm whose checksum did not match.
type ChecksumMismatchError struct{ Algorithm checksum.Algorithm }

func (e *ChecksumMismatchError) Error() string {
	return "objects: " + string(e.Algorithm) + " checksum mismatch"
}

// Unwrap makes errors.Is(err, ErrBadChecksum) true.
func (e *ChecksumMismatchError) Unwrap() error { return ErrBadChecksum }

// DefaultInlineMax is the largest object stored inline in the metadata
// store rather than as a blob. Small objects dominate many workloads; kept
// inline, a PUT costs one group-committed metadata write instead of a file
// create, a file fsync, a rename and a directory fsync.
const DefaultInlineMax = 32 << 10

// Service is the object service.
type Service struct {
	meta  meta.Store
	blobs blob.Store
	now   func() time.Time
	log   *slog.Logger
	// InlineMax is the largest body WriteBlob keeps inline (0: never).
	InlineMax int64
	// enc encrypts new writes; nil writes in clear (see EnableEncryption).
	enc *encryptor
}

// New returns a Service. now is the clock for object timestamps.
func New(m meta.Store, b blob.Store, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{meta: m, blobs: b, now: now, log: log, InlineMax: DefaultInlineMax}
}

// Meta returns the metadata store.
func (s *Service) Meta() meta.Store { return s.meta }

// Blobs returns the blob store.
func (s *Service) Blobs() blob.Store { return s.blobs }

// Now returns the service clock's time, truncated to what S3 reports.
func (s *Service) Now() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// NewVersionID returns a fresh, opaque version id.
func NewVersionID() string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// NewUploadID returns a fresh multipart upload id.
func NewUploadID() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// WriteInput describes a body to store as a blob.
type WriteInput struct {
	Body io.Reader
	// Size is the declared length, or -1 if unknown (aws-chunked without
	// a decoded length is refused earlier; -1 is for internal copies).
	Size int64
	// MaxSize bounds the body.
	MaxSize int64
	// Algorithms are checksums to compute besides MD5.
	Algorithms []checksum.Algorithm
	// Verify runs after the body was read completely and before the blob
	// is committed; an error discards the blob.
	Verify func(h *checksum.MultiHasher) error
	// AllowInline lets a body of known size up to the service's
	// InlineMax be returned inline instead of as a blob.
	AllowInline bool
	// Account, Bucket and Key name what the data is written for: the
	// account whose aws/s3 key seals the data key, and the object whose
	// name the sealed key is bound to. Required when encrypting.
	Account, Bucket, Key string
	// SSE chooses SSE-KMS or SSE-C (nil: SSE-S3).
	SSE *SSE
}

// WriteResult describes stored data: a committed blob, or inline bytes.
type WriteResult struct {
	Blob   meta.BlobRef // Size is the stored (ciphertext) size
	Inline []byte       // set (possibly empty) when the data is inline
	Hasher *checksum.MultiHasher
	// Encryption is the envelope to record with the data (nil: clear).
	Encryption *meta.Encryption
	inline     bool
	// etag overrides the MD5 ETag (SSE-KMS, SSE-C).
	etag string
}

// Size is the number of plaintext bytes written.
func (w *WriteResult) Size() int64 { return w.Hasher.Size() }

// Data returns what a version records: its blob list and inline bytes.
func (w *WriteResult) Data() ([]meta.BlobRef, []byte) {
	if w.inline {
		return nil, w.Inline
	}
	return []meta.BlobRef{w.Blob}, nil
}

// ETag returns the quoted hex MD5 of the written body; for SSE-KMS and
// SSE-C, as in AWS, an opaque value instead.
func (w *WriteResult) ETag() string {
	if w.etag != "" {
		return w.etag
	}
	return `"` + hex.EncodeToString(w.Hasher.MD5()) + `"`
}

// WriteBlob streams a body into a new, committed blob. On any error no blob
// remains.
func (s *Service) WriteBlob(ctx context.Context, in WriteInput) (*WriteResult, error) {
	h, err := checksum.NewMultiHasher(in.Algorithms...)
	if err != nil {
		return nil, err
	}
	var dataKey []byte
	var env *meta.Encryption
	if s.Encrypting() {
		// The identity and key are fixed before any data arrives, so a
		// retried or concurrent write of the same name never reuses them.
		if dataKey, env, err = s.enc.newEnvelope(ctx, in.Account, in.Bucket, in.Key, in.SSE); err != nil {
			return nil, err
		}
		defer clear(dataKey)
	} else if in.SSE.mode() != meta.SSES3 {
		return nil, errors.New("objects: SSE-KMS or SSE-C without encryption at rest")
	}
	res, err := s.writeBlob(ctx, in, h, dataKey, env)
	if err == nil && env != nil && env.Algorithm != AlgorithmAES256 {
		res.etag = sealedETag(dataKey, h.MD5())
	}
	return res, err
}

func (s *Service) writeBlob(ctx context.Context, in WriteInput, h *checksum.MultiHasher, dataKey []byte, env *meta.Encryption) (*WriteResult, error) {
	if in.AllowInline && in.Size >= 0 && in.Size <= s.InlineMax && in.Size <= in.MaxSize {
		return s.writeInline(in, h, dataKey, env)
	}
	w, err := s.blobs.Create(ctx)
	if err != nil {
		return nil, err
	}
	limit := in.MaxSize
	if in.Size >= 0 && in.Size < limit {
		limit = in.Size
	}
	var dst io.Writer = w
	var sw *stream.Writer
	if env != nil {
		if sw, err = stream.NewWriter(w, dataKey, env.Identity); err != nil {
			_ = w.Abort()
			return nil, err
		}
		dst = sw
	}
	// hashingCopy hashes what it reads, i.e. the plaintext: ETags and
	// checksums describe the object, not its stored form.
	n, err := hashingCopy(dst, h, in.Body, limit)
	if err == nil {
		switch {
		case in.Size >= 0 && n > in.Size:
			// More bytes than declared can only come from a broken
			// aws-chunked body; net/http bounds plain bodies itself.
			err = ErrIncomplete
		case n > in.MaxSize:
			err = ErrTooLarge
		case in.Size >= 0 && n < in.Size:
			err = ErrIncomplete
		}
	}
	if err == nil && sw != nil {
		err = sw.Close() // seals the final package
	}
	if err == nil && in.Verify != nil {
		err = in.Verify(h)
	}
	if err != nil {
		_ = w.Abort()
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: %w", ErrIncomplete, err)
		}
		return nil, err
	}
	size, err := w.Commit()
	if err != nil {
		_ = w.Abort()
		return nil, err
	}
	return &WriteResult{Blob: meta.BlobRef{ID: w.ID(), Size: size}, Hasher: h, Encryption: env}, nil
}

// writeInline reads a small body of known size into memory.
func (s *Service) writeInline(in WriteInput, h *checksum.MultiHasher, dataKey []byte, env *meta.Encryption) (*WriteResult, error) {
	buf := make([]byte, in.Size)
	if _, err := io.ReadFull(in.Body, buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: %w", ErrIncomplete, err)
		}
		return nil, err
	}
	// The body must end here: more bytes than declared is a broken
	// aws-chunked body, and reading to EOF runs the payload verifiers.
	var one [1]byte
	if n, err := io.ReadFull(in.Body, one[:]); n > 0 {
		return nil, ErrIncomplete
	} else if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	h.Write(buf)
	if in.Verify != nil {
		if err := in.Verify(h); err != nil {
			return nil, err
		}
	}
	if env != nil {
		var ct bytes.Buffer
		ct.Grow(int(stream.CiphertextSize(in.Size)))
		sw, err := stream.NewWriter(&ct, dataKey, env.Identity)
		if err != nil {
			return nil, err
		}
		if _, err := sw.Write(buf); err != nil {
			return nil, err
		}
		if err := sw.Close(); err != nil {
			return nil, err
		}
		clear(buf) // no stray plaintext copy outlives the request
		buf = ct.Bytes()
	}
	return &WriteResult{Inline: buf, Hasher: h, Encryption: env, inline: true}, nil
}

// Free deletes blobs no longer referenced by metadata. Failures are only
// logged: the background collector reclaims whatever is left.
func (s *Service) Free(ctx context.Context, refs []meta.BlobRef) {
	for _, r := range refs {
		if err := s.blobs.Delete(context.WithoutCancel(ctx), r.ID); err != nil {
			s.log.Warn("freeing blob failed; the collector will retry", "blob", r.ID, "err", err)
		}
	}
}

// PutVersion commits v (whose Blobs were written with WriteBlob) as the new
// latest version of its key. On failure the new blobs are freed.
func (s *Service) PutVersion(ctx context.Context, v *meta.ObjectVersion, pre meta.Precondition) (meta.PutResult, error) {
	res, err := s.meta.PutObject(ctx, v, NewVersionID(), pre)
	if err != nil {
		s.Free(ctx, v.Blobs)
		return res, err
	}
	v.VersionID = res.VersionID
	s.Free(ctx, res.Freed)
	return res, nil
}

// DeleteObject deletes a key or one version of it.
func (s *Service) DeleteObject(ctx context.Context, bucket, key, versionID string) (meta.DeleteResult, error) {
	res, err := s.meta.DeleteObject(ctx, bucket, key, versionID, NewVersionID(), nil)
	if err != nil {
		return res, err
	}
	s.Free(ctx, res.Freed)
	return res, nil
}

// Reader reads an object version's plaintext across its blobs (or from
// its inline bytes), decrypting what is encrypted.
type Reader struct {
	parts []*readerPart
	offs  []int64 // plaintext start offset of each part
	size  int64
}

// readerPart is one stored stream. Encrypted parts unseal their data key
// on first use, so a ranged read of a many-part object asks the KMS only
// for the parts it touches.
type readerPart struct {
	src    io.ReaderAt
	closer io.Closer
	stored int64 // stored bytes
	size   int64 // plaintext bytes

	// For encrypted parts:
	env    *meta.Encryption
	open   func() ([]byte, error) // unseals the data key
	once   sync.Once
	dec    *stream.ReaderAt
	decErr error
}

func (p *readerPart) readAt(b []byte, off int64) (int, error) {
	if p.env == nil {
		return p.src.ReadAt(b, off)
	}
	p.once.Do(func() {
		dk, err := p.open()
		if err != nil {
			// Not data corruption: a wrong SSE-C key, a KMS refusal.
			p.decErr = err
			return
		}
		defer clear(dk)
		p.dec, p.decErr = stream.NewReaderAt(p.src, p.stored, dk, p.env.Identity)
		if p.decErr == nil && p.dec.Size() != p.size {
			p.decErr = fmt.Errorf("plaintext of %d bytes, record says %d", p.dec.Size(), p.size)
		}
		if p.decErr != nil && !errors.Is(p.decErr, ErrDataCorrupt) && !errors.Is(p.decErr, ErrCustomerKeyMismatch) {
			p.decErr = fmt.Errorf("%w: %w", ErrDataCorrupt, p.decErr)
		}
	})
	if p.decErr != nil {
		return 0, p.decErr
	}
	n, err := p.dec.ReadAt(b, off)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("%w: %w", ErrDataCorrupt, err)
	}
	return n, err
}

// Open opens a version's data for reading (SSE-S3 or unencrypted).
func (s *Service) Open(ctx context.Context, v *meta.ObjectVersion) (*Reader, error) {
	return s.OpenWith(ctx, v, ReadKeys{})
}

// OpenWith opens a version's data for reading with keys (the SSE-C key,
// the requester of SSE-KMS).
func (s *Service) OpenWith(ctx context.Context, v *meta.ObjectVersion, keys ReadKeys) (*Reader, error) {
	// The data key is unsealed later, possibly after ctx's request moved
	// on to writing the body; cancellation still applies.
	unseal := func(env *meta.Encryption) func() ([]byte, error) {
		return func() ([]byte, error) { return s.enc.dataKey(ctx, env, v.Bucket, v.Key, keys) }
	}
	if len(v.Blobs) == 0 {
		p := &readerPart{src: bytes.NewReader(v.Inline), stored: int64(len(v.Inline)), size: v.Size, env: v.Encryption}
		if p.env != nil {
			p.open = unseal(p.env)
		} else if p.stored != v.Size {
			return nil, fmt.Errorf("objects: %s/%s@%s has %d inline bytes, want %d", v.Bucket, v.Key, v.VersionID, len(v.Inline), v.Size)
		}
		return &Reader{parts: []*readerPart{p}, offs: []int64{0}, size: v.Size}, nil
	}
	perPart := len(v.Parts) == len(v.Blobs)
	if v.Encryption != nil && len(v.Blobs) != 1 {
		return nil, fmt.Errorf("objects: %s/%s@%s has one envelope for %d blobs", v.Bucket, v.Key, v.VersionID, len(v.Blobs))
	}
	r := &Reader{}
	for i, b := range v.Blobs {
		br, err := s.blobs.Open(ctx, b.ID)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("objects: open blob %s of %s/%s: %w", b.ID, v.Bucket, v.Key, err)
		}
		p := &readerPart{src: br, closer: br, stored: br.Size(), size: br.Size(), env: v.Encryption}
		if perPart && v.Parts[i].Encryption != nil {
			p.env = v.Parts[i].Encryption
		}
		if p.env != nil {
			// The record, not the untrusted blob, says how long the
			// plaintext is.
			p.size = v.Size
			if perPart && v.Encryption == nil {
				p.size = v.Parts[i].Size
			}
			p.open = unseal(p.env)
		}
		r.parts = append(r.parts, p)
		r.offs = append(r.offs, r.size)
		r.size += p.size
	}
	return r, nil
}

// Size is the object's length.
func (r *Reader) Size() int64 { return r.size }

// ReadAt implements io.ReaderAt across the parts. Data that fails
// authentication is reported as ErrDataCorrupt and never returned.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	total := 0
	for i := len(r.offs) - 1; i >= 0 && len(p) > 0; i-- {
		if r.offs[i] > off {
			continue
		}
		// Part i holds off; read forward through the following parts.
		for j := i; j < len(r.parts) && len(p) > 0; j++ {
			want := min(int64(len(p)), r.parts[j].size-(off-r.offs[j]))
			if want <= 0 {
				continue
			}
			n, err := r.parts[j].readAt(p[:want], off-r.offs[j])
			total += n
			p = p[n:]
			off += int64(n)
			if err != nil && !errors.Is(err, io.EOF) {
				return total, err
			}
			if int64(n) < want {
				// A stored part shorter than its record says.
				return total, fmt.Errorf("%w: part %d is short", ErrDataCorrupt, j)
			}
		}
		break
	}
	if len(p) > 0 {
		return total, io.EOF
	}
	return total, nil
}

// Close releases the blobs.
func (r *Reader) Close() error {
	for _, p := range r.parts {
		if p.closer != nil {
			p.closer.Close()
		}
	}
	return nil
}
