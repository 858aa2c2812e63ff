// Package blob defines the interface to Coffer's object-data store: opaque,
// immutable blobs named by random ids. Object metadata refers to blobs; a
// blob is never visible to readers until its writer commits it, and a blob
// is never changed after commit. The embedded backend is blob/localfs; the
// conformance suite every backend must pass is blob/blobtest.
package blob

import (
	"context"
	"errors"
	"io"
	"time"
)

// Errors.
var (
	ErrNotFound = errors.New("blob: not found")
	// ErrInvalidID reports an id the backend could not have generated
	// (wrong length, non-hex, path syntax); nothing is touched.
	ErrInvalidID = errors.New("blob: invalid id")
	// ErrNoSpace reports that the backend is out of space; the write left
	// nothing behind.
	ErrNoSpace = errors.New("blob: no space left")
)

// Writer receives a new blob's bytes. Exactly one of Commit or Abort must be
// called. Nothing written is visible (Open fails) until Commit returns nil,
// and after Commit returns nil the blob is durable. A Writer is not safe for
// concurrent use. After a failed Write the writer is dead: later Writes and
// Commit return the error, and nothing of it is left behind.
type Writer interface {
	io.Writer
	// ID is the blob's id, fixed when the writer is created.
	ID() string
	// Commit makes the blob durable and visible; it returns the size.
	Commit() (int64, error)
	// Abort discards the blob. It is safe to call after a failed Commit,
	// twice, or after a successful Commit (where it does nothing), so
	// `defer w.Abort()` is the usual pattern.
	Abort() error
}

// Reader reads a committed blob. ReadAt may be called concurrently.
type Reader interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// Info describes a stored blob, for garbage collection.
type Info struct {
	ID      string
	ModTime time.Time
	// Temp is set for an uncommitted leftover (a crashed writer).
	Temp bool
}

// Store stores blobs. Implementations are safe for concurrent use.
type Store interface {
	// Create starts a new blob with a fresh random id.
	Create(ctx context.Context) (Writer, error)
	Open(ctx context.Context, id string) (Reader, error)
	// Delete removes a blob; deleting a missing blob is not an error.
	Delete(ctx context.Context, id string) error
	// Walk calls fn for every blob and uncommitted leftover. The temp data
	// of writers still in progress is reported too (Temp set): a collector
	// should only remove leftovers whose ModTime is old. Walk stops at the
	// first error from fn or ctx and returns it.
	Walk(ctx context.Context, fn func(Info) error) error
	// RemoveTemp removes an uncommitted leftover reported by Walk; a missing
	// one is not an error, and a committed blob of that id is left alone. A
	// writer whose temp data was removed fails to Commit.
	RemoveTemp(ctx context.Context, id string) error
	Close() error
}
