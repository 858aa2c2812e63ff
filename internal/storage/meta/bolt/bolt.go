// Package bolt is Coffer's embedded metadata backend: a meta.Store kept in
// one bbolt database file (a copy-on-write B+tree with fsynced commits).
//
// # Layout
//
// Top-level bbolt buckets:
//
//	sys       "format" → format version (decimal ASCII)
//	accounts  account id → Account
//	accnames  account name → account id
//	keys      access key id → AccessKey
//	buckets   bucket name → Bucket
//	owners    owner id 0x00 bucket name → empty (ListBuckets by owner)
//	data      one nested bbolt bucket per S3 bucket, each holding:
//	  cur     key → latest version, present only if it is not a delete marker
//	  ver     key 0x00 ^seq → version or delete marker (all versions)
//	  vid     key 0x00 version id → seq
//	  upl     key 0x00 initiated upload id → Upload
//	  uid     upload id → its upl key
//	  prt     upload id 0x00 part number → Part
//
// seq is a per-bucket counter (bbolt's bucket sequence) stored big-endian
// and inverted, so a key's versions sort newest first right after the key;
// "initiated" is the upload's start time as 8 sortable bytes.
//
// cur duplicates the latest live version of each key so that GET of the
// latest version is one lookup and ListObjects is one cursor scan that
// never visits old versions or delete markers. With a delimiter, listings
// jump over a whole common prefix with one cursor Seek.
//
// The indexes use NUL to end the object key, which keeps every key's
// entries contiguous and in the same order as the keys themselves. This
// relies on object keys never containing NUL (the S3 layer rejects them;
// this package refuses them too). Upload ids, which this server makes,
// must not contain NUL either.
//
// # Writes
//
// Writes go through bbolt's Batch, so concurrent writers share one commit
// and one fsync (group commit). Every acknowledged write has been fsynced.
// Batch may run a write function more than once, so write functions keep
// their results in variables reset at each run and never touch outside
// state; that is also why meta's callbacks may be called more than once.
package bolt

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/coffer-io/coffer/internal/clock"
)

// FormatVersion is the on-disk format this code reads and writes. Bump it
// (and add a migration in Open) when the layout or encoding changes.
const FormatVersion = 1

// Errors.
var (
	// ErrLocked reports that another process (or another Store in this
	// process) has the database open.
	ErrLocked = errors.New("bolt: metadata database is in use by another process")
	// ErrFormat reports a database this code cannot use: not a Coffer
	// metadata database, or one written by a newer version.
	ErrFormat = errors.New("bolt: unsupported metadata format")
)

// Defaults for Options' zero values.
const (
	DefaultTimeout       = 500 * time.Millisecond
	DefaultMaxBatchDelay = 2 * time.Millisecond
	DefaultMaxBatchSize  = 1000
)

// Options configure Open. The zero value is ready to use.
type Options struct {
	// Timeout bounds how long Open waits for the exclusive file lock
	// before failing with ErrLocked (DefaultTimeout if zero). It is
	// short because the lock is only held by a live process: the kernel
	// releases it when the holder exits.
	Timeout time.Duration
	// MaxBatchDelay is how long a write waits for others to share its
	// commit (DefaultMaxBatchDelay if zero). Longer delays give bigger
	// groups under load but add latency to a lone write.
	MaxBatchDelay time.Duration
	// MaxBatchSize starts a commit early once that many writes wait
	// (DefaultMaxBatchSize if zero).
	MaxBatchSize int
	// ReadOnly opens the database with a shared lock for inspection
	// tools; it still fails while a writer holds the database.
	ReadOnly bool
	// Clock is the data-protection clock that Object Lock retention is
	// checked against (clock.Real if nil).
	Clock clock.Clock
}

// Store is a meta.Store on bbolt.
type Store struct {
	db    *bbolt.DB
	clock clock.Clock
}

// Top-level bucket names.
var (
	bSys      = []byte("sys")
	bAccounts = []byte("accounts")
	bAccNames = []byte("accnames")
	bKeys     = []byte("keys")
	bBuckets  = []byte("buckets")
	bOwners   = []byte("owners")
	bData     = []byte("data")

	topLevel = [][]byte{bSys, bAccounts, bAccNames, bKeys, bBuckets, bOwners, bData}
)

// Per-S3-bucket index names, nested in data/<bucket>.
var (
	bCur = []byte("cur")
	bVer = []byte("ver")
	bVid = []byte("vid")
	bUpl = []byte("upl")
	bUid = []byte("uid")
	bPrt = []byte("prt")
	bDat = []byte("dat")

	perBucket = [][]byte{bCur, bVer, bVid, bUpl, bUid, bPrt, bDat}
)

var keyFormat = []byte("format")

// Open opens or creates the database at path. It fails with ErrLocked if
// another process holds it, and with ErrFormat if it was written by a
// newer version of Coffer.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout:  opts.Timeout,
		ReadOnly: opts.ReadOnly,
		// The hashmap freelist keeps allocation fast in large files; it
		// does not change the file format.
		FreelistType: bbolt.FreelistMapType,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	db.MaxBatchDelay = opts.MaxBatchDelay
	if db.MaxBatchDelay <= 0 {
		db.MaxBatchDelay = DefaultMaxBatchDelay
	}
	db.MaxBatchSize = opts.MaxBatchSize
	if db.MaxBatchSize <= 0 {
		db.MaxBatchSize = DefaultMaxBatchSize
	}
	if opts.ReadOnly {
		err = db.View(func(tx *bbolt.Tx) error { return checkFormat(tx, path) })
	} else {
		err = db.Update(func(tx *bbolt.Tx) error { return initFormat(tx, path) })
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real
	}
	return &Store{db: db, clock: opts.Clock}, nil
}

// initFormat creates the layout in a new database, or checks an existing
// one's format version.
func initFormat(tx *bbolt.Tx, path string) error {
	if tx.Bucket(bSys) != nil {
		return checkFormat(tx, path)
	}
	// A file with buckets but no sys bucket is something else; do not
	// write into it.
	foreign := tx.ForEach(func([]byte, *bbolt.Bucket) error { return ErrFormat })
	if foreign != nil {
		return fmt.Errorf("%w: %s is not a Coffer metadata database", ErrFormat, path)
	}
	for _, name := range topLevel {
		if _, err := tx.CreateBucket(name); err != nil {
			return err
		}
	}
	return tx.Bucket(bSys).Put(keyFormat, []byte(strconv.Itoa(FormatVersion)))
}

func checkFormat(tx *bbolt.Tx, path string) error {
	sys := tx.Bucket(bSys)
	if sys == nil {
		return fmt.Errorf("%w: %s is not a Coffer metadata database", ErrFormat, path)
	}
	v, err := strconv.Atoi(string(sys.Get(keyFormat)))
	if err != nil {
		return fmt.Errorf("%w: %s has an unreadable format version %q", ErrFormat, path, sys.Get(keyFormat))
	}
	if v > FormatVersion {
		return fmt.Errorf("%w: %s has metadata format version %d, newer than version %d supported by this build",
			ErrFormat, path, v, FormatVersion)
	}
	if v < FormatVersion {
		// No older formats exist yet; migrations go here.
		return fmt.Errorf("%w: %s has metadata format version %d, and this build cannot upgrade it to %d",
			ErrFormat, path, v, FormatVersion)
	}
	return nil
}

// Close closes the database, releasing the file lock.
func (s *Store) Close() error { return s.db.Close() }

// wtx is a write transaction that remembers whether anything was written.
// Every mutation goes through its methods.
type wtx struct {
	tx    *bbolt.Tx
	dirty bool
	// ctx and now are what the protection checks (package protect) see:
	// the request's context (an authorized governance bypass travels in
	// it) and the data-protection clock's time.
	ctx context.Context
	now time.Time
}

func (w *wtx) put(b *bbolt.Bucket, k, v []byte) error {
	w.dirty = true
	return b.Put(k, v)
}

func (w *wtx) del(b *bbolt.Bucket, k []byte) error {
	w.dirty = true
	return b.Delete(k)
}

func (w *wtx) nextSeq(b *bbolt.Bucket) (uint64, error) {
	w.dirty = true
	return b.NextSequence()
}

// update runs fn in a batched write transaction. fn may run several times
// (see the package comment).
//
// An error from fn before it wrote anything (a missing bucket, a failed
// precondition) is reported without failing the transaction: bbolt would
// otherwise roll back the whole batch and re-run every other write in it.
// An error after a write rolls back as usual.
func (s *Store) update(ctx context.Context, fn func(w *wtx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var refused error
	err := s.db.Batch(func(tx *bbolt.Tx) error {
		refused = nil
		w := &wtx{tx: tx, ctx: ctx, now: s.clock.Now()}
		err := fn(w)
		if err != nil && !w.dirty {
			refused = err
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	return refused
}

// view runs fn in a read transaction.
func (s *Store) view(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}
