// Package objects is the bucket and object service behind the S3 front
// door: it owns the life cycle of object data (streaming bodies into blobs
// while hashing them, committing metadata, freeing replaced data) on top of
// the meta.Store and blob.Store interfaces. Handlers decode requests and
// call it; it never sees HTTP.
package objects

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/coffer-io/coffer/internal/checksum"
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
}

// WriteResult describes stored data: a committed blob, or inline bytes.
type WriteResult struct {
	Blob   meta.BlobRef
	Inline []byte // set (possibly empty) when the data is inline
	Hasher *checksum.MultiHasher
	inline bool
}

// Size is the number of bytes written.
func (w *WriteResult) Size() int64 { return w.Hasher.Size() }

// Data returns what a version records: its blob list and inline bytes.
func (w *WriteResult) Data() ([]meta.BlobRef, []byte) {
	if w.inline {
		return nil, w.Inline
	}
	return []meta.BlobRef{w.Blob}, nil
}

// ETag returns the quoted hex MD5 of the written body.
func (w *WriteResult) ETag() string { return `"` + hex.EncodeToString(w.Hasher.MD5()) + `"` }

// WriteBlob streams a body into a new, committed blob. On any error no blob
// remains.
func (s *Service) WriteBlob(ctx context.Context, in WriteInput) (*WriteResult, error) {
	h, err := checksum.NewMultiHasher(in.Algorithms...)
	if err != nil {
		return nil, err
	}
	if in.AllowInline && in.Size >= 0 && in.Size <= s.InlineMax && in.Size <= in.MaxSize {
		return s.writeInline(in, h)
	}
	w, err := s.blobs.Create(ctx)
	if err != nil {
		return nil, err
	}
	limit := in.MaxSize
	if in.Size >= 0 && in.Size < limit {
		limit = in.Size
	}
	n, err := hashingCopy(w, h, in.Body, limit)
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
	return &WriteResult{Blob: meta.BlobRef{ID: w.ID(), Size: size}, Hasher: h}, nil
}

// writeInline reads a small body of known size into memory.
func (s *Service) writeInline(in WriteInput, h *checksum.MultiHasher) (*WriteResult, error) {
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
	return &WriteResult{Inline: buf, Hasher: h, inline: true}, nil
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

// Reader reads an object version's data across its blobs (or from its
// inline bytes).
type Reader struct {
	parts  []blob.Reader
	offs   []int64 // start offset of each part
	size   int64
	inline []byte
}

// Open opens a version's data for reading.
func (s *Service) Open(ctx context.Context, v *meta.ObjectVersion) (*Reader, error) {
	if len(v.Blobs) == 0 {
		if int64(len(v.Inline)) != v.Size {
			return nil, fmt.Errorf("objects: %s/%s@%s has %d inline bytes, want %d", v.Bucket, v.Key, v.VersionID, len(v.Inline), v.Size)
		}
		return &Reader{inline: v.Inline, size: v.Size}, nil
	}
	r := &Reader{}
	for _, b := range v.Blobs {
		br, err := s.blobs.Open(ctx, b.ID)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("objects: open blob %s of %s/%s: %w", b.ID, v.Bucket, v.Key, err)
		}
		r.parts = append(r.parts, br)
		r.offs = append(r.offs, r.size)
		r.size += br.Size()
	}
	return r, nil
}

// Size is the object's length.
func (r *Reader) Size() int64 { return r.size }

// ReadAt implements io.ReaderAt across the parts.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	if r.parts == nil {
		n := copy(p, r.inline[off:])
		if n < len(p) {
			return n, io.EOF
		}
		return n, nil
	}
	total := 0
	for i := len(r.offs) - 1; i >= 0 && len(p) > 0; i-- {
		if r.offs[i] > off {
			continue
		}
		// Part i holds off; read forward through the following parts.
		for j := i; j < len(r.parts) && len(p) > 0; j++ {
			n, err := r.parts[j].ReadAt(p, off-r.offs[j])
			total += n
			p = p[n:]
			off += int64(n)
			if err != nil && !errors.Is(err, io.EOF) {
				return total, err
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
		p.Close()
	}
	return nil
}
