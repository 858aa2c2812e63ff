// Package localfs is Coffer's embedded blob.Store: one file per blob in a
// local directory.
//
// Layout under the directory:
//
//	tmp/<id>           blob being written (or left by a crashed writer)
//	ab/cd/abcd<...>    committed blob; fan-out by the first two id bytes
//
// Every file access goes through an os.Root opened on the directory, so no
// id and no symlink planted in the tree can reach outside it; ids are also
// validated strictly (32 lowercase hex digits) before anything is touched.
//
// Commit is durable: the temp file is fsynced, renamed into place and the
// destination directory fsynced (and a fan-out directory's parent when that
// directory was just created). Concurrent Commits into one directory share
// a directory fsync. A crash before Commit leaves only a temp file, which
// Walk reports and Open sweeps away when it predates the process.
//
// One process owns a directory; several Stores of one process may share it.
package localfs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coffer-io/coffer/internal/storage/blob"
)

const (
	tmpDir   = "tmp"
	idLen    = 32 // 128 bits, hex
	filePerm = 0o640
	dirPerm  = 0o750
)

// processStart approximates the process start: temp files older than it
// cannot belong to a live writer of this process.
var processStart = time.Now()

// sweepMargin guards against coarse filesystem timestamps making a file
// created just after start look older than the process; a leftover missed
// by the sweep is still reported by Walk.
const sweepMargin = time.Second

// Options tune a Store; the zero value is the production setting.
type Options struct {
	// KeepTemp disables the startup sweep that removes temp files left by
	// writers of an earlier process. Walk reports them either way.
	KeepTemp bool
	// NoBatchDirSync makes every Commit fsync its directory on its own
	// instead of sharing one fsync with concurrent Commits into the same
	// directory. It exists to measure the batching.
	NoBatchDirSync bool
}

// Store is a blob.Store on a local directory. It is safe for concurrent use.
type Store struct {
	root   *os.Root
	opts   Options
	closed atomic.Bool

	mu   sync.Mutex
	dirs map[string]*dirNode // by slash path relative to root ("." for root)

	// newID makes ids; tests replace it to steer blobs into one directory.
	newID func() string
	// dirSyncs counts directory fsyncs actually issued (for benchmarks).
	dirSyncs atomic.Int64
}

var _ blob.Store = (*Store)(nil)

var errClosed = errors.New("localfs: store closed")

// Open opens (creating if needed) a store in dir. Unless opts.KeepTemp is
// set, temp files older than the process are removed.
func Open(dir string, opts Options) (*Store, error) {
	if dir == "" {
		return nil, errors.New("localfs: empty directory name")
	}
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return nil, fmt.Errorf("localfs: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("localfs: %w", err)
	}
	s := &Store{
		root:  root,
		opts:  opts,
		dirs:  make(map[string]*dirNode),
		newID: randomID,
	}
	s.node(".").ready.Store(true)
	if err := s.ensureDir(tmpDir); err != nil {
		root.Close()
		return nil, fmt.Errorf("localfs: %w", mapErr(err))
	}
	if !opts.KeepTemp {
		if err := s.sweepTemp(processStart.Add(-sweepMargin)); err != nil {
			root.Close()
			return nil, err
		}
	}
	return s, nil
}

// Close releases the directory. Writers and readers still open keep their
// files but can no longer commit.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return s.root.Close()
}

func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return errClosed
	}
	return ctx.Err()
}

// randomID returns 128 random bits in lowercase hex.
func randomID() string {
	var b [idLen / 2]byte
	rand.Read(b[:]) // never fails (crypto/rand aborts the process instead)
	return hex.EncodeToString(b[:])
}

// validID reports whether id could have been made by randomID. Being this
// strict is what keeps ids from carrying path syntax of any kind.
func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	return isHex(id)
}

// isHex reports whether s is all lowercase hex digits. Upper case is
// refused so that no two ids name one file on a case-insensitive disk.
func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func checkID(id string) error {
	if !validID(id) {
		return fmt.Errorf("%w: %q", blob.ErrInvalidID, id)
	}
	return nil
}

// blobDir is the fan-out directory of a valid id.
func blobDir(id string) string { return id[0:2] + "/" + id[2:4] }

func blobPath(id string) string { return blobDir(id) + "/" + id }

func tmpPath(id string) string { return tmpDir + "/" + id }

// mapErr turns a full disk or exhausted quota into blob.ErrNoSpace, keeping
// the original error in the chain.
func mapErr(err error) error {
	if err == nil || errors.Is(err, blob.ErrNoSpace) {
		return err
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %w", blob.ErrNoSpace, err)
	}
	return err
}

// Create starts a new blob in tmp/.
func (s *Store) Create(ctx context.Context) (blob.Writer, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	id := s.newID()
	if !validID(id) {
		return nil, fmt.Errorf("localfs: made %w %q", blob.ErrInvalidID, id)
	}
	f, err := s.root.OpenFile(tmpPath(id), os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return nil, fmt.Errorf("localfs: create: %w", mapErr(err))
	}
	return &writer{s: s, id: id, f: f}, nil
}

// Open opens a committed blob. The file descriptor is shared by all ReadAt
// calls (pread), so concurrent range reads need no more descriptors.
func (s *Store) Open(ctx context.Context, id string) (blob.Reader, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	f, err := s.root.Open(blobPath(id))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("localfs: open %s: %w", id, blob.ErrNotFound)
		}
		return nil, fmt.Errorf("localfs: open %s: %w", id, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("localfs: open %s: %w", id, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("localfs: open %s: not a regular file", id)
	}
	return &reader{f: f, size: fi.Size()}, nil
}

// Delete removes a committed blob. The removal is not fsynced: a blob that
// reappears after a crash is unreferenced and the collector finds it again.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	if err := s.check(ctx); err != nil {
		return err
	}
	if err := s.root.Remove(blobPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("localfs: delete %s: %w", id, err)
	}
	return nil
}

// RemoveTemp removes tmp/<id>. Committed blobs live elsewhere, so they are
// never touched.
func (s *Store) RemoveTemp(ctx context.Context, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	if err := s.check(ctx); err != nil {
		return err
	}
	if err := s.root.Remove(tmpPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("localfs: remove temp %s: %w", id, err)
	}
	return nil
}

// Walk reports committed blobs, then temp files. Names that are not ids, or
// ids in the wrong fan-out directory, are skipped: Open could not reach
// them, so reporting them would only make a collector loop.
func (s *Store) Walk(ctx context.Context, fn func(blob.Info) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	tops, err := s.readDir(".")
	if err != nil {
		return err
	}
	for _, top := range tops {
		if !top.IsDir() || !validFanout(top.Name()) {
			continue
		}
		subs, err := s.readDir(top.Name())
		if err != nil {
			return err
		}
		for _, sub := range subs {
			if !sub.IsDir() || !validFanout(sub.Name()) {
				continue
			}
			dir := top.Name() + "/" + sub.Name()
			if err := s.walkFiles(ctx, dir, top.Name()+sub.Name(), false, fn); err != nil {
				return err
			}
		}
	}
	return s.walkFiles(ctx, tmpDir, "", true, fn)
}

func validFanout(name string) bool {
	return len(name) == 2 && isHex(name)
}

func (s *Store) walkFiles(ctx context.Context, dir, prefix string, temp bool, fn func(blob.Info) error) error {
	ents, err := s.readDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := e.Name()
		if !e.Type().IsRegular() || !validID(name) || name[:len(prefix)] != prefix {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted, committed or aborted meanwhile
		}
		if err != nil {
			return fmt.Errorf("localfs: walk: %w", err)
		}
		if err := fn(blob.Info{ID: name, ModTime: fi.ModTime(), Temp: temp}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) readDir(dir string) ([]fs.DirEntry, error) {
	f, err := s.root.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("localfs: walk: %w", err)
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if err != nil {
		return nil, fmt.Errorf("localfs: walk: %w", err)
	}
	return ents, nil
}

// sweepTemp removes temp files last modified before cutoff: their writers
// belonged to an earlier process and can never commit.
func (s *Store) sweepTemp(cutoff time.Time) error {
	ents, err := s.readDir(tmpDir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || !validID(e.Name()) {
			continue
		}
		fi, err := e.Info()
		if err != nil || !fi.ModTime().Before(cutoff) {
			continue
		}
		if err := s.root.Remove(path.Join(tmpDir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("localfs: sweep temp: %w", err)
		}
	}
	return nil
}

// reader reads a committed blob with pread on one descriptor.
type reader struct {
	f    *os.File
	size int64 // from fstat at open; blobs never change
}

func (r *reader) ReadAt(p []byte, off int64) (int, error) { return r.f.ReadAt(p, off) }
func (r *reader) Size() int64                             { return r.size }
func (r *reader) Close() error                            { return r.f.Close() }
