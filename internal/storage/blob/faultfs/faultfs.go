// Package faultfs wraps a blob.Store and injects failures, so that tests of
// higher layers can check how they handle a full disk or a failing backend
// without one. Without faults armed it passes everything through.
//
// Injected failures behave like a real backend's: a writer whose Write or
// Commit fails is aborted underneath, so it leaves nothing behind.
package faultfs

import (
	"context"
	"fmt"
	"sync"
	"syscall"

	"github.com/coffer-io/coffer/internal/storage/blob"
)

// Op names an operation faults can be attached to.
type Op int

// Operations. OpWrite and OpCommit are Writer methods; OpRead is
// Reader.ReadAt.
const (
	OpCreate Op = iota
	OpWrite
	OpCommit
	OpOpen
	OpRead
	OpDelete
	OpWalk
	OpRemoveTemp
	numOps
)

var opNames = [numOps]string{"Create", "Write", "Commit", "Open", "Read", "Delete", "Walk", "RemoveTemp"}

func (op Op) String() string {
	if op < 0 || op >= numOps {
		return fmt.Sprintf("Op(%d)", int(op))
	}
	return opNames[op]
}

// ErrNoSpace is what writes fail with once the NoSpaceAfter budget is
// spent: blob.ErrNoSpace wrapping ENOSPC, as a real full disk reports it.
var ErrNoSpace = fmt.Errorf("faultfs: %w: %w", blob.ErrNoSpace, syscall.ENOSPC)

// fault fails calls of one op: the nth from when it was armed (once), or
// every call when nth is 0.
type fault struct {
	op    Op
	nth   int
	seen  int
	err   error
	spent bool
}

// Store is a blob.Store that forwards to another and fails where told. It
// is safe for concurrent use, including arming faults while in use.
type Store struct {
	inner blob.Store

	mu     sync.Mutex
	faults []*fault
	calls  [numOps]int
	budget int64 // bytes writable before ErrNoSpace; <0 means unlimited
}

var _ blob.Store = (*Store)(nil)

// New wraps inner. Closing the Store closes inner.
func New(inner blob.Store) *Store {
	return &Store{inner: inner, budget: -1}
}

// FailNth makes the nth call of op from now on (1 = the next one) fail
// with err, once.
func (s *Store) FailNth(op Op, n int, err error) {
	if n < 1 {
		panic("faultfs: FailNth needs n >= 1")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{op: op, nth: n, err: err})
}

// FailAlways makes every call of op fail with err until Reset.
func (s *Store) FailAlways(op Op, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{op: op, err: err})
}

// NoSpaceAfter lets n more bytes be written, summed over all writers; the
// Write that would exceed it stores what fits and fails with ErrNoSpace,
// as do all later Writes, until Reset. Deletes do not give space back.
func (s *Store) NoSpaceAfter(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.budget = max(n, 0)
}

// Reset disarms every fault and the space budget. Call counts are kept.
func (s *Store) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	s.budget = -1
}

// Calls reports how many calls of op the Store has seen, failed or not.
func (s *Store) Calls(op Op) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// hit counts a call of op and returns the error to inject, if any.
func (s *Store) hit(op Op) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	var inject error
	for _, f := range s.faults {
		if f.op != op || f.spent {
			continue
		}
		f.seen++
		if f.nth != 0 && f.seen != f.nth {
			continue
		}
		f.spent = f.nth != 0
		if inject == nil {
			inject = f.err
		}
	}
	return inject
}

// reserve takes up to n bytes from the space budget and reports how many
// may be written.
func (s *Store) reserve(n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.budget < 0 {
		return n
	}
	m := int(min(int64(n), s.budget))
	s.budget -= int64(m)
	return m
}

func (s *Store) Create(ctx context.Context) (blob.Writer, error) {
	if err := s.hit(OpCreate); err != nil {
		return nil, err
	}
	w, err := s.inner.Create(ctx)
	if err != nil {
		return nil, err
	}
	return &writer{s: s, w: w}, nil
}

func (s *Store) Open(ctx context.Context, id string) (blob.Reader, error) {
	if err := s.hit(OpOpen); err != nil {
		return nil, err
	}
	r, err := s.inner.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	return &reader{s: s, Reader: r}, nil
}

func (s *Store) Delete(ctx context.Context, id string) error {
	if err := s.hit(OpDelete); err != nil {
		return err
	}
	return s.inner.Delete(ctx, id)
}

func (s *Store) Walk(ctx context.Context, fn func(blob.Info) error) error {
	if err := s.hit(OpWalk); err != nil {
		return err
	}
	return s.inner.Walk(ctx, fn)
}

func (s *Store) RemoveTemp(ctx context.Context, id string) error {
	if err := s.hit(OpRemoveTemp); err != nil {
		return err
	}
	return s.inner.RemoveTemp(ctx, id)
}

func (s *Store) Close() error { return s.inner.Close() }

// writer forwards to the inner writer until a fault, then aborts it and
// keeps failing with the fault's error.
type writer struct {
	s   *Store
	w   blob.Writer
	err error
}

func (w *writer) ID() string { return w.w.ID() }

func (w *writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if err := w.s.hit(OpWrite); err != nil {
		return 0, w.fail(err)
	}
	allowed := w.s.reserve(len(p))
	n, err := w.w.Write(p[:allowed])
	if err != nil {
		return n, err
	}
	if allowed < len(p) {
		return n, w.fail(ErrNoSpace)
	}
	return n, nil
}

func (w *writer) Commit() (int64, error) {
	if w.err != nil {
		return 0, w.err
	}
	if err := w.s.hit(OpCommit); err != nil {
		return 0, w.fail(err)
	}
	return w.w.Commit()
}

func (w *writer) Abort() error {
	if w.err != nil {
		return nil // already aborted underneath
	}
	return w.w.Abort()
}

func (w *writer) fail(err error) error {
	w.err = err
	w.w.Abort()
	return err
}

type reader struct {
	blob.Reader
	s *Store
}

func (r *reader) ReadAt(p []byte, off int64) (int, error) {
	if err := r.s.hit(OpRead); err != nil {
		return 0, err
	}
	return r.Reader.ReadAt(p, off)
}
