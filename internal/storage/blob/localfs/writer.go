package localfs

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
)

// bufSize is the write buffer: small writes from an HTTP body become few
// large write syscalls, and writes at least this large bypass the copy.
const bufSize = 256 << 10

// Buffers are pooled and taken at the first Write, so that many concurrent
// small uploads, or idle writers, do not each pin 256 KiB.
var bufPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, bufSize) }}

var errDone = errors.New("localfs: writer already committed or aborted")

type writerState int

const (
	open writerState = iota
	committed
	discarded // aborted or failed; the temp file is gone
)

// writer writes tmp/<id> and renames it into place on Commit.
type writer struct {
	s     *Store
	id    string
	f     *os.File
	bw    *bufio.Writer // nil until the first Write
	size  int64
	state writerState
	err   error // sticky error of a failed Write or Commit
}

func (w *writer) ID() string { return w.id }

func (w *writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.state != open {
		return 0, errDone
	}
	if w.bw == nil {
		w.bw = bufPool.Get().(*bufio.Writer)
		w.bw.Reset(w.f)
	}
	n, err := w.bw.Write(p)
	w.size += int64(n)
	if err != nil {
		return n, w.fail("write", err)
	}
	return n, nil
}

// Commit flushes and fsyncs the temp file, renames it into its fan-out
// directory and fsyncs that directory. On any failure the blob is gone.
func (w *writer) Commit() (int64, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.state != open {
		return 0, errDone
	}
	if w.bw != nil {
		err := w.bw.Flush()
		w.releaseBuf()
		if err != nil {
			return 0, w.fail("write", err)
		}
	}
	if err := w.f.Sync(); err != nil {
		return 0, w.fail("sync", err)
	}
	// Close errors matter: some filesystems report deferred write errors
	// here.
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return 0, w.fail("close", err)
	}
	s := w.s
	if s.closed.Load() {
		return 0, w.fail("commit", errClosed)
	}
	dir := blobDir(w.id)
	if err := s.ensureDir(dir); err != nil {
		return 0, w.fail("mkdir", err)
	}
	if err := s.root.Rename(tmpPath(w.id), blobPath(w.id)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("temp file removed before commit: %w", err)
		}
		return 0, w.fail("rename", err)
	}
	if err := s.syncDir(dir); err != nil {
		// Not known durable, so not committed: take it back rather than
		// leave a visible blob that the caller believes failed.
		s.root.Remove(blobPath(w.id))
		w.state = discarded
		w.err = fmt.Errorf("localfs: commit %s: %w", w.id, mapErr(err))
		return 0, w.err
	}
	w.state = committed
	return w.size, nil
}

// Abort removes the temp file. It does nothing after Commit or a failure.
func (w *writer) Abort() error {
	if w.state != open {
		return nil
	}
	return w.discard()
}

// fail discards the blob and makes err (mapped to ErrNoSpace where it
// applies) the writer's sticky error. Removing the temp file right away
// also gives the space back on a full disk.
func (w *writer) fail(op string, err error) error {
	w.discard()
	w.err = fmt.Errorf("localfs: %s %s: %w", op, w.id, mapErr(err))
	return w.err
}

func (w *writer) discard() error {
	w.state = discarded
	w.releaseBuf()
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	if err := w.s.root.Remove(tmpPath(w.id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("localfs: abort %s: %w", w.id, err)
	}
	return nil
}

func (w *writer) releaseBuf() {
	if w.bw != nil {
		w.bw.Reset(nil)
		bufPool.Put(w.bw)
		w.bw = nil
	}
}
