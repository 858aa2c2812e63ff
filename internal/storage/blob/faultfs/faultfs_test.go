package faultfs_test

import (
	"context"
	"errors"
	"syscall"
	"testing"

	"github.com/coffer-io/coffer/internal/storage/blob"
	"github.com/coffer-io/coffer/internal/storage/blob/blobtest"
	"github.com/coffer-io/coffer/internal/storage/blob/faultfs"
	"github.com/coffer-io/coffer/internal/storage/blob/localfs"
)

func newStore(t *testing.T) *faultfs.Store {
	t.Helper()
	inner, err := localfs.Open(t.TempDir(), localfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return faultfs.New(inner)
}

// Unarmed, the wrapper must be a conforming store.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the suite runs against localfs already")
	}
	blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t) })
}

var errBoom = errors.New("boom")

// write creates a blob, writes the chunks and commits, returning the id
// and the first error.
func write(s blob.Store, chunks ...[]byte) (string, int, error) {
	w, err := s.Create(context.Background())
	if err != nil {
		return "", 0, err
	}
	defer w.Abort()
	total := 0
	for _, c := range chunks {
		n, err := w.Write(c)
		total += n
		if err != nil {
			return w.ID(), total, err
		}
	}
	_, err = w.Commit()
	return w.ID(), total, err
}

func TestWriterFaults(t *testing.T) {
	chunk := make([]byte, 4096)
	tests := []struct {
		name      string
		arm       func(s *faultfs.Store)
		wantErr   error
		wantBytes int // written before the failure
	}{
		{"second write", func(s *faultfs.Store) { s.FailNth(faultfs.OpWrite, 2, errBoom) }, errBoom, 4096},
		{"commit", func(s *faultfs.Store) { s.FailNth(faultfs.OpCommit, 1, blob.ErrNoSpace) }, blob.ErrNoSpace, 3 * 4096},
		{"every write", func(s *faultfs.Store) { s.FailAlways(faultfs.OpWrite, errBoom) }, errBoom, 0},
		{"space mid-write", func(s *faultfs.Store) { s.NoSpaceAfter(10000) }, syscall.ENOSPC, 10000},
		{"no space at all", func(s *faultfs.Store) { s.NoSpaceAfter(0) }, blob.ErrNoSpace, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			defer s.Close()
			ctx := context.Background()
			kept, _, err := write(s, []byte("before"))
			if err != nil {
				t.Fatal(err)
			}
			tc.arm(s)
			id, n, err := write(s, chunk, chunk, chunk)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("write = %v, want %v", err, tc.wantErr)
			}
			if n != tc.wantBytes {
				t.Errorf("wrote %d bytes before failing, want %d", n, tc.wantBytes)
			}
			if _, err := s.Open(ctx, id); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("Open of failed blob = %v, want ErrNotFound", err)
			}
			// Nothing left behind: only the earlier blob remains.
			var ids []string
			s.Walk(ctx, func(in blob.Info) error { ids = append(ids, in.ID); return nil })
			if len(ids) != 1 || ids[0] != kept {
				t.Errorf("Walk = %v, want only %s", ids, kept)
			}
			s.Reset()
			if _, _, err := write(s, chunk); err != nil {
				t.Errorf("write after Reset: %v", err)
			}
		})
	}
}

func TestFailedWriterStaysFailed(t *testing.T) {
	s := newStore(t)
	defer s.Close()
	s.FailNth(faultfs.OpWrite, 1, errBoom)
	w, err := s.Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, errBoom) {
		t.Fatalf("Write = %v", err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, errBoom) {
		t.Errorf("second Write = %v, want the same failure", err)
	}
	if _, err := w.Commit(); !errors.Is(err, errBoom) {
		t.Errorf("Commit = %v, want the same failure", err)
	}
	if err := w.Abort(); err != nil {
		t.Errorf("Abort = %v", err)
	}
}

func TestStoreFaults(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		op   faultfs.Op
		call func(s blob.Store, id string) error
	}{
		{faultfs.OpCreate, func(s blob.Store, _ string) error { _, _, err := write(s, []byte("x")); return err }},
		{faultfs.OpOpen, func(s blob.Store, id string) error { _, err := s.Open(ctx, id); return err }},
		{faultfs.OpRead, func(s blob.Store, id string) error {
			r, err := s.Open(ctx, id)
			if err != nil {
				return err
			}
			defer r.Close()
			_, err = r.ReadAt(make([]byte, 1), 0)
			return err
		}},
		{faultfs.OpDelete, func(s blob.Store, id string) error { return s.Delete(ctx, id) }},
		{faultfs.OpWalk, func(s blob.Store, _ string) error { return s.Walk(ctx, func(blob.Info) error { return nil }) }},
		{faultfs.OpRemoveTemp, func(s blob.Store, id string) error { return s.RemoveTemp(ctx, id) }},
	}
	for _, tc := range tests {
		t.Run(tc.op.String(), func(t *testing.T) {
			s := newStore(t)
			defer s.Close()
			id, _, err := write(s, []byte("data"))
			if err != nil {
				t.Fatal(err)
			}
			s.FailNth(tc.op, 2, errBoom)
			before := s.Calls(tc.op)
			for i, want := range []error{nil, errBoom, nil} {
				if err := tc.call(s, id); !errors.Is(err, want) {
					t.Fatalf("call %d = %v, want %v", i+1, err, want)
				}
			}
			if got := s.Calls(tc.op) - before; got != 3 {
				t.Errorf("Calls = %d, want 3", got)
			}
		})
	}
}

func TestOpString(t *testing.T) {
	if got := faultfs.OpCommit.String(); got != "Commit" {
		t.Errorf("OpCommit.String() = %q", got)
	}
	if got := faultfs.Op(99).String(); got != "Op(99)" {
		t.Errorf("Op(99).String() = %q", got)
	}
}
