// Package blobtest is the conformance suite for blob.Store backends. A
// backend's tests call Run with a function that opens a fresh, empty store;
// passing it is what "implements blob.Store" means beyond the method set.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/storage/blob"
)

// Run runs the suite. open must return a new empty store for each call; Run
// closes every store it opens, so open should not.
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	s := &suite{open: open}
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"WriteCommitRead", s.testWriteCommitRead},
		{"ReadAt", s.testReadAt},
		{"Large", s.testLarge},
		{"Uncommitted", s.testUncommitted},
		{"Abort", s.testAbort},
		{"WriterStates", s.testWriterStates},
		{"Delete", s.testDelete},
		{"InvalidID", s.testInvalidID},
		{"Walk", s.testWalk},
		{"WalkStops", s.testWalkStops},
		{"RemoveTemp", s.testRemoveTemp},
		{"UniqueIDs", s.testUniqueIDs},
		{"Concurrent", s.testConcurrent},
		{"ConcurrentReadAt", s.testConcurrentReadAt},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.fn)
	}
}

type suite struct {
	open func(t *testing.T) blob.Store
}

func (s *suite) store(t *testing.T) blob.Store {
	t.Helper()
	st := s.open(t)
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

// Data makes n deterministic pseudo-random bytes from seed, so content can
// be checked without keeping a copy.
func Data(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x636f66666572))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// put writes data in chunks of the given sizes (cycled; all of it at once
// when none) and commits.
func put(t *testing.T, st blob.Store, data []byte, chunks ...int) string {
	t.Helper()
	w, err := st.Create(context.Background())
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	defer w.Abort()
	if len(chunks) == 0 {
		chunks = []int{len(data)}
	}
	for off, i := 0, 0; off < len(data); i++ {
		n := min(max(chunks[i%len(chunks)], 1), len(data)-off)
		m, err := w.Write(data[off : off+n])
		if err != nil || m != n {
			t.Fatalf("Write(%d bytes) = %d, %v", n, m, err)
		}
		off += n
	}
	size, err := w.Commit()
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if size != int64(len(data)) {
		t.Fatalf("Commit size = %d, want %d", size, len(data))
	}
	return w.ID()
}

// check opens id and compares its whole content with want.
func check(t *testing.T, st blob.Store, id string, want []byte) {
	t.Helper()
	if err := verify(st, id, want); err != nil {
		t.Fatal(err)
	}
}

// verify is check without testing.T, for use from goroutines.
func verify(st blob.Store, id string, want []byte) error {
	r, err := st.Open(context.Background(), id)
	if err != nil {
		return fmt.Errorf("Open(%s): %w", id, err)
	}
	defer r.Close()
	if r.Size() != int64(len(want)) {
		return fmt.Errorf("Open(%s).Size() = %d, want %d", id, r.Size(), len(want))
	}
	got, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil {
		return fmt.Errorf("read %s: %w", id, err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("content of %s differs (len %d, want %d)", id, len(got), len(want))
	}
	return nil
}

func wantNotFound(t *testing.T, st blob.Store, id string) {
	t.Helper()
	r, err := st.Open(context.Background(), id)
	if err == nil {
		r.Close()
		t.Fatalf("Open(%s) succeeded, want ErrNotFound", id)
	}
	if !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Open(%s) = %v, want ErrNotFound", id, err)
	}
}

// walk collects Walk's reports by id; an id reported twice fails the test.
func walk(t *testing.T, st blob.Store) map[string]blob.Info {
	t.Helper()
	seen := make(map[string]blob.Info)
	err := st.Walk(context.Background(), func(in blob.Info) error {
		if prev, dup := seen[in.ID]; dup {
			t.Errorf("Walk reported %s twice (%+v, %+v)", in.ID, prev, in)
		}
		seen[in.ID] = in
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	return seen
}

func (s *suite) testWriteCommitRead(t *testing.T) {
	tests := []struct {
		name   string
		size   int
		chunks []int
	}{
		{"empty", 0, nil},
		{"one byte", 1, nil},
		{"odd", 7, []int{3}},
		{"page", 4096, nil},
		{"page in bytes", 4096, []int{1}},
		{"64KiB+1 odd chunks", 65537, []int{1000, 3, 7777}},
		{"1MiB+3", 1<<20 + 3, []int{4099}},
	}
	st := s.store(t)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := Data(uint64(i), tc.size)
			id := put(t, st, data, tc.chunks...)
			check(t, st, id, data)
		})
	}
}

func (s *suite) testReadAt(t *testing.T) {
	const size = 10000
	st := s.store(t)
	data := Data(42, size)
	id := put(t, st, data)
	empty := put(t, st, nil)

	r, err := st.Open(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	re, err := st.Open(context.Background(), empty)
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	if re.Size() != 0 {
		t.Errorf("empty blob Size() = %d", re.Size())
	}

	tests := []struct {
		name  string
		r     blob.Reader
		off   int64
		n     int
		wantN int
		eof   bool // must return io.EOF; otherwise nil, or io.EOF when the read ends at EOF
	}{
		{"start", r, 0, 100, 100, false},
		{"middle", r, 4321, 1000, 1000, false},
		{"whole", r, 0, size, size, false},
		{"last byte", r, size - 1, 1, 1, false},
		{"ends at EOF", r, size - 10, 10, 10, false},
		{"crosses EOF", r, size - 10, 100, 10, true},
		{"at EOF", r, size, 1, 0, true},
		{"past EOF", r, size + 12345, 10, 0, true},
		{"longer than blob", r, 0, size * 2, size, true},
		{"empty blob", re, 0, 1, 0, true},
		{"empty blob past EOF", re, 5, 1, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := make([]byte, tc.n)
			n, err := tc.r.ReadAt(p, tc.off)
			if n != tc.wantN {
				t.Fatalf("ReadAt(%d bytes at %d) n = %d, want %d (err %v)", tc.n, tc.off, n, tc.wantN, err)
			}
			endsAtEOF := tc.off+int64(tc.n) >= tc.r.Size()
			switch {
			case tc.eof && err != io.EOF:
				t.Fatalf("ReadAt err = %v, want io.EOF", err)
			case !tc.eof && err != nil && !(endsAtEOF && err == io.EOF):
				t.Fatalf("ReadAt err = %v, want nil", err)
			}
			if tc.r == r && n > 0 && !bytes.Equal(p[:n], data[tc.off:tc.off+int64(n)]) {
				t.Fatal("ReadAt returned wrong bytes")
			}
		})
	}
	t.Run("negative offset", func(t *testing.T) {
		if n, err := r.ReadAt(make([]byte, 1), -1); err == nil {
			t.Fatalf("ReadAt(-1) = %d, nil; want error", n)
		}
	})
}

func (s *suite) testLarge(t *testing.T) {
	size := 20<<20 + 13
	if testing.Short() {
		size = 3<<20 + 13
	}
	st := s.store(t)
	data := Data(7, size)
	// Odd sizes straddle any buffer boundary a backend might have.
	id := put(t, st, data, 1, 4093, 65521, 1<<20+7, 3, 262147, 5<<20+1)

	r, err := st.Open(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Size() != int64(size) {
		t.Fatalf("Size() = %d, want %d", r.Size(), size)
	}
	h := sha256.New()
	buf := make([]byte, 1<<20+17)
	for off := int64(0); off < r.Size(); {
		n, err := r.ReadAt(buf, off)
		h.Write(buf[:n])
		off += int64(n)
		if err == io.EOF && off == r.Size() {
			break
		}
		if err != nil {
			t.Fatalf("ReadAt(%d): %v", off, err)
		}
	}
	if got, want := h.Sum(nil), sha256.Sum256(data); !bytes.Equal(got, want[:]) {
		t.Fatal("large blob content differs")
	}
}

func (s *suite) testUncommitted(t *testing.T) {
	st := s.store(t)
	w, err := st.Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	data := Data(3, 5000)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, st, w.ID())
	if in, ok := walk(t, st)[w.ID()]; ok && !in.Temp {
		t.Fatalf("Walk reports uncommitted %s as committed", w.ID())
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	check(t, st, w.ID(), data)
	if in, ok := walk(t, st)[w.ID()]; !ok || in.Temp {
		t.Fatalf("Walk after Commit: %+v, %v; want committed entry", in, ok)
	}
}

func (s *suite) testAbort(t *testing.T) {
	tests := []struct {
		name string
		size int
	}{
		{"nothing written", 0},
		{"small", 100},
		{"1MiB", 1 << 20},
	}
	st := s.store(t)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := st.Create(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(Data(uint64(i), tc.size)); err != nil {
				t.Fatal(err)
			}
			if err := w.Abort(); err != nil {
				t.Fatalf("Abort: %v", err)
			}
			if err := w.Abort(); err != nil {
				t.Fatalf("second Abort: %v", err)
			}
			if _, err := w.Commit(); err == nil {
				t.Fatal("Commit after Abort succeeded")
			}
			if _, err := w.Write([]byte("x")); err == nil {
				t.Fatal("Write after Abort succeeded")
			}
			wantNotFound(t, st, w.ID())
			if in, ok := walk(t, st)[w.ID()]; ok {
				t.Fatalf("Walk reports aborted blob: %+v", in)
			}
		})
	}
}

func (s *suite) testWriterStates(t *testing.T) {
	st := s.store(t)
	data := []byte("committed")
	w, err := st.Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(); err == nil {
		t.Error("second Commit succeeded")
	}
	if _, err := w.Write([]byte("more")); err == nil {
		t.Error("Write after Commit succeeded")
	}
	if err := w.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}
	check(t, st, w.ID(), data)
}

func (s *suite) testDelete(t *testing.T) {
	st := s.store(t)
	ctx := context.Background()
	keep := put(t, st, []byte("keep"))
	id := put(t, st, []byte("delete me"))
	if err := st.Delete(ctx, id); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantNotFound(t, st, id)
	if err := st.Delete(ctx, id); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	if _, ok := walk(t, st)[id]; ok {
		t.Fatal("Walk reports deleted blob")
	}
	// A valid id that was never committed.
	w, err := st.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if err := st.Delete(ctx, w.ID()); err != nil {
		t.Fatalf("Delete of never-committed id: %v", err)
	}
	check(t, st, keep, []byte("keep"))
}

func (s *suite) testInvalidID(t *testing.T) {
	st := s.store(t)
	ctx := context.Background()
	id := put(t, st, []byte("valid"))
	tests := []struct {
		name string
		id   string
	}{
		{"empty", ""},
		{"dot", "."},
		{"dotdot", ".."},
		{"parent", "../x"},
		{"parent of id", "../" + id},
		{"slash", "a/b"},
		{"id with slash", id[:2] + "/" + id[2:]},
		{"absolute", "/" + id},
		{"trailing slash", id + "/"},
		{"backslash", id[:4] + `\` + id[5:]},
		{"NUL", id[:10] + "\x00" + id[11:]},
		{"NUL suffix", id + "\x00"},
		{"too long", strings.Repeat("a", 4096)},
		{"non-hex", strings.Repeat("g", len(id))},
		{"non-hex in id", id[:len(id)-1] + "z"},
		{"space", " " + id[1:]},
		{"newline", id[:len(id)-1] + "\n"},
		{"non-ASCII", id[:len(id)-2] + "é"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if r, err := st.Open(ctx, tc.id); !errors.Is(err, blob.ErrInvalidID) {
				if err == nil {
					r.Close()
				}
				t.Errorf("Open(%q) = %v, want ErrInvalidID", tc.id, err)
			}
			if err := st.Delete(ctx, tc.id); !errors.Is(err, blob.ErrInvalidID) {
				t.Errorf("Delete(%q) = %v, want ErrInvalidID", tc.id, err)
			}
			if err := st.RemoveTemp(ctx, tc.id); !errors.Is(err, blob.ErrInvalidID) {
				t.Errorf("RemoveTemp(%q) = %v, want ErrInvalidID", tc.id, err)
			}
		})
	}
	check(t, st, id, []byte("valid"))
}

func (s *suite) testWalk(t *testing.T) {
	st := s.store(t)
	ctx := context.Background()
	if got := walk(t, st); len(got) != 0 {
		t.Fatalf("Walk of empty store: %v", got)
	}
	start := time.Now()
	committed := make(map[string]bool)
	for i := range 20 {
		committed[put(t, st, Data(uint64(i), i*100))] = true
	}
	pending, err := st.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer pending.Abort()
	if _, err := pending.Write([]byte("leftover")); err != nil {
		t.Fatal(err)
	}
	deleted := put(t, st, []byte("deleted"))
	if err := st.Delete(ctx, deleted); err != nil {
		t.Fatal(err)
	}

	got := walk(t, st)
	for id := range committed {
		in, ok := got[id]
		switch {
		case !ok:
			t.Errorf("Walk misses committed %s", id)
		case in.Temp:
			t.Errorf("Walk reports committed %s as Temp", id)
		case in.ModTime.Before(start.Add(-time.Minute)) || in.ModTime.After(time.Now().Add(time.Minute)):
			t.Errorf("Walk ModTime of %s = %v, want about %v", id, in.ModTime, start)
		}
	}
	if in, ok := got[pending.ID()]; !ok || !in.Temp {
		t.Errorf("Walk reports pending writer as %+v, %v; want Temp entry", in, ok)
	}
	if _, ok := got[deleted]; ok {
		t.Error("Walk reports deleted blob")
	}
	if len(got) != len(committed)+1 {
		t.Errorf("Walk reported %d entries, want %d", len(got), len(committed)+1)
	}
}

func (s *suite) testWalkStops(t *testing.T) {
	st := s.store(t)
	for i := range 5 {
		put(t, st, Data(uint64(i), 10))
	}
	stop := errors.New("stop")
	calls := 0
	err := st.Walk(context.Background(), func(blob.Info) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Walk with failing fn = %v after %d calls, want stop after 1", err, calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = st.Walk(ctx, func(blob.Info) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Walk with canceled context = %v, want context.Canceled", err)
	}
}

func (s *suite) testRemoveTemp(t *testing.T) {
	st := s.store(t)
	ctx := context.Background()
	w, err := st.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if _, err := w.Write(Data(1, 3000)); err != nil {
		t.Fatal(err)
	}
	if in, ok := walk(t, st)[w.ID()]; !ok || !in.Temp {
		t.Fatalf("Walk: %+v, %v; want Temp entry", in, ok)
	}
	if err := st.RemoveTemp(ctx, w.ID()); err != nil {
		t.Fatalf("RemoveTemp: %v", err)
	}
	if in, ok := walk(t, st)[w.ID()]; ok {
		t.Fatalf("Walk after RemoveTemp: %+v", in)
	}
	if err := st.RemoveTemp(ctx, w.ID()); err != nil {
		t.Fatalf("second RemoveTemp: %v", err)
	}
	// The writer lost its data: it must not report success.
	if _, err := w.Commit(); err == nil {
		t.Fatal("Commit after RemoveTemp succeeded")
	}
	wantNotFound(t, st, w.ID())
	if err := w.Abort(); err != nil {
		t.Fatalf("Abort after failed Commit: %v", err)
	}

	// RemoveTemp never touches a committed blob.
	id := put(t, st, []byte("committed"))
	if err := st.RemoveTemp(ctx, id); err != nil {
		t.Fatalf("RemoveTemp of committed id: %v", err)
	}
	check(t, st, id, []byte("committed"))
}

func (s *suite) testUniqueIDs(t *testing.T) {
	st := s.store(t)
	const n = 1000
	seen := make(map[string]bool, n)
	for range n {
		w, err := st.Create(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		id := w.ID()
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if seen[id] {
			t.Fatalf("id %s issued twice", id)
		}
		seen[id] = true
		// Ids a store makes are ids it accepts.
		if _, err := st.Open(context.Background(), id); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Open(own id %q) = %v, want ErrNotFound", id, err)
		}
	}
}

// testConcurrent runs writers that each commit blobs while readers check
// blobs committed so far, and aborting writers that must leave nothing.
func (s *suite) testConcurrent(t *testing.T) {
	st := s.store(t)
	const writers, perWriter = 8, 16
	type entry struct {
		id   string
		seed uint64
		size int
	}
	var (
		mu   sync.Mutex
		done []entry
		wg   sync.WaitGroup
	)
	errc := make(chan error, 3*writers)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for i := range perWriter {
				seed := uint64(g*1000 + i)
				size := rng.IntN(70000)
				data := Data(seed, size)
				w, err := st.Create(context.Background())
				if err != nil {
					errc <- err
					return
				}
				for off := 0; off < size; {
					n := min(1+rng.IntN(20000), size-off)
					if _, err := w.Write(data[off : off+n]); err != nil {
						errc <- err
						return
					}
					off += n
				}
				if i%4 == 3 {
					if err := w.Abort(); err != nil {
						errc <- err
						return
					}
					continue
				}
				if _, err := w.Commit(); err != nil {
					errc <- err
					return
				}
				mu.Lock()
				done = append(done, entry{w.ID(), seed, size})
				mu.Unlock()
			}
		}()
	}
	stop := make(chan struct{})
	var rwg sync.WaitGroup
	for g := range 2 {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 2))
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				var e entry
				if len(done) > 0 {
					e = done[rng.IntN(len(done))]
				}
				mu.Unlock()
				if e.id == "" {
					time.Sleep(time.Millisecond)
					continue
				}
				if err := verify(st, e.id, Data(e.seed, e.size)); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	rwg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	got := walk(t, st)
	if len(got) != len(done) {
		t.Errorf("Walk reports %d entries, want %d committed", len(got), len(done))
	}
	for _, e := range done {
		if in, ok := got[e.id]; !ok || in.Temp {
			t.Errorf("Walk: %s = %+v, %v", e.id, in, ok)
		}
		check(t, st, e.id, Data(e.seed, e.size))
	}
}

// testConcurrentReadAt reads ranges of one blob through one Reader from
// many goroutines.
func (s *suite) testConcurrentReadAt(t *testing.T) {
	st := s.store(t)
	data := Data(99, 1<<20)
	id := put(t, st, data)
	r, err := st.Open(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var wg sync.WaitGroup
	errc := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 3))
			for range 200 {
				off := rng.IntN(len(data))
				n := min(1+rng.IntN(64<<10), len(data)-off)
				p := make([]byte, n)
				m, err := r.ReadAt(p, int64(off))
				if m != n || (err != nil && err != io.EOF) || !bytes.Equal(p, data[off:off+n]) {
					errc <- fmt.Errorf("ReadAt(%d, %d) = %d, %v (content ok: %v)", n, off, m, err, bytes.Equal(p[:m], data[off:off+m]))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}
