package localfs

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/storage/blob"
	"github.com/coffer-io/coffer/internal/storage/blob/blobtest"
)

func openStore(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	for _, opts := range []Options{{}, {NoBatchDirSync: true}} {
		t.Run(fmt.Sprintf("NoBatchDirSync=%v", opts.NoBatchDirSync), func(t *testing.T) {
			blobtest.Run(t, func(t *testing.T) blob.Store {
				s, err := Open(t.TempDir(), opts)
				if err != nil {
					t.Fatal(err)
				}
				return s
			})
		})
	}
}

// put writes and commits data, failing the test on error.
func put(t testing.TB, s blob.Store, data []byte) string {
	t.Helper()
	w, err := s.Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return w.ID()
}

func TestValidID(t *testing.T) {
	const ok = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		id   string
		want bool
	}{
		{ok, true},
		{randomID(), true},
		{strings.Repeat("f", 32), true},
		{"", false},
		{ok[:31], false},
		{ok + "0", false},
		{strings.ToUpper(ok), false},
		{ok[:31] + "A", false},
		{ok[:31] + "g", false},
		{ok[:30] + "/x", false},
		{"../" + ok[:29], false},
		{ok[:31] + "\x00", false},
		{ok[:31] + ".", false},
	}
	for _, tc := range tests {
		if got := validID(tc.id); got != tc.want {
			t.Errorf("validID(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

func TestLayout(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	w, err := s.Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	id := w.ID()
	if _, err := w.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp", id)
	final := filepath.Join(dir, id[:2], id[2:4], id)
	if _, err := os.Stat(tmp); err != nil {
		t.Fatalf("temp file before Commit: %v", err)
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("temp file after Commit: %v", err)
	}
	if b, err := os.ReadFile(final); err != nil || string(b) != "hello" {
		t.Fatalf("blob file = %q, %v", b, err)
	}
}

// TestDirSyncs checks which directories a Commit fsyncs: the new fan-out
// directories' parents once, the destination directory every time.
func TestDirSyncs(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	prefix := "abcd"
	s.newID = func() string { return prefix + randomID()[4:] }
	tests := []struct {
		name   string
		prefix string
		want   int64
	}{
		{"new top and leaf", "abcd", 3}, // ".", "ab", "ab/cd"
		{"same leaf", "abcd", 1},        // "ab/cd"
		{"new leaf", "abce", 2},         // "ab", "ab/ce"
		{"other top", "0000", 3},
	}
	for _, tc := range tests {
		prefix = tc.prefix
		before := s.dirSyncs.Load()
		put(t, s, []byte("x"))
		if got := s.dirSyncs.Load() - before; got != tc.want {
			t.Errorf("%s: %d directory syncs, want %d", tc.name, got, tc.want)
		}
	}
}

// TestGroupSync checks the syncer's promise: every caller returns after a
// sync that started after it arrived, syncs never overlap, and concurrent
// callers share them.
func TestGroupSync(t *testing.T) {
	d := newDirNode()
	var started, finished, inflight atomic.Int64
	do := func() error {
		if inflight.Add(1) != 1 {
			t.Error("overlapping syncs")
		}
		started.Add(1)
		time.Sleep(2 * time.Millisecond)
		finished.Add(1)
		inflight.Add(-1)
		return nil
	}
	const callers = 64
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			arrived := started.Load()
			if err := d.sync(do); err != nil {
				t.Error(err)
			}
			// Syncs run one at a time, so one that began after arrival
			// has finished exactly when more than arrived have finished.
			if f := finished.Load(); f <= arrived {
				t.Errorf("returned after %d finished syncs, arrived after %d started", f, arrived)
			}
		}()
	}
	wg.Wait()
	if n := started.Load(); n >= callers || n < 1 {
		t.Errorf("%d syncs for %d callers, want sharing", n, callers)
	}
	t.Logf("%d syncs for %d callers", started.Load(), callers)
}

func TestGroupSyncError(t *testing.T) {
	d := newDirNode()
	boom := errors.New("boom")
	fail := true
	do := func() error {
		if fail {
			return boom
		}
		return nil
	}
	if err := d.sync(do); !errors.Is(err, boom) {
		t.Fatalf("failed sync = %v, want boom", err)
	}
	fail = false
	if err := d.sync(do); err != nil {
		t.Fatalf("sync after recovery = %v", err)
	}
}

func TestMapErr(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		noSpace bool
	}{
		{"nil", nil, false},
		{"ENOSPC", syscall.ENOSPC, true},
		{"EDQUOT", syscall.EDQUOT, true},
		{"wrapped ENOSPC", &fs.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, true},
		{"EIO", &fs.PathError{Op: "write", Path: "x", Err: syscall.EIO}, false},
		{"already mapped", fmt.Errorf("x: %w", blob.ErrNoSpace), true},
	}
	for _, tc := range tests {
		got := mapErr(tc.err)
		if errors.Is(got, blob.ErrNoSpace) != tc.noSpace {
			t.Errorf("%s: mapErr = %v, ErrNoSpace %v", tc.name, got, !tc.noSpace)
		}
		if tc.err != nil && !errors.Is(got, tc.err) {
			t.Errorf("%s: mapErr lost the original error: %v", tc.name, got)
		}
	}
}

// TestInvalidIDsStayInside plants files where naive path joins of bad ids
// would land and checks that no operation reaches them.
func TestInvalidIDsStayInside(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "store")
	s := openStore(t, dir, Options{})
	victim := filepath.Join(base, "victim")
	if err := os.WriteFile(victim, []byte("outside"), 0o600); err != nil {
		t.Fatal(err)
	}
	inside := put(t, s, []byte("inside"))
	ctx := context.Background()
	ids := []string{
		"../victim", "../../victim", "tmp/../../victim", "/" + victim,
		"..", ".", "tmp", inside[:2], inside[:2] + "/" + inside[2:4],
		inside[:2] + "/" + inside[2:4] + "/" + inside,
		"../" + inside, strings.ToUpper(inside),
	}
	for _, id := range ids {
		if err := s.Delete(ctx, id); !errors.Is(err, blob.ErrInvalidID) {
			t.Errorf("Delete(%q) = %v", id, err)
		}
		if err := s.RemoveTemp(ctx, id); !errors.Is(err, blob.ErrInvalidID) {
			t.Errorf("RemoveTemp(%q) = %v", id, err)
		}
		if _, err := s.Open(ctx, id); !errors.Is(err, blob.ErrInvalidID) {
			t.Errorf("Open(%q) = %v", id, err)
		}
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "outside" {
		t.Errorf("victim = %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, inside[:2], inside[2:4], inside)); err != nil {
		t.Errorf("blob inside the store: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tmp")); err != nil {
		t.Errorf("tmp dir: %v", err)
	}
}

// TestSymlinkEscape plants symlinks in the tree (as a careless admin or an
// attacker with write access to the directory could) and checks that the
// os.Root confinement keeps every operation inside.
func TestSymlinkEscape(t *testing.T) {
	const id = "abcd0123456789abcdef0123456789ab"
	tests := []struct {
		name   string
		link   string // path in the store, relative
		target func(base string) string
	}{
		{"absolute top", "ab", func(base string) string { return filepath.Join(base, "outside") }},
		{"relative top", "ab", func(string) string { return "../outside" }},
		{"absolute leaf", "ab/cd", func(base string) string { return filepath.Join(base, "outside", "cd") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			dir := filepath.Join(base, "store")
			outLeaf := filepath.Join(base, "outside", "cd")
			if err := os.MkdirAll(outLeaf, 0o700); err != nil {
				t.Fatal(err)
			}
			secret := filepath.Join(outLeaf, id)
			if err := os.WriteFile(secret, []byte("secret"), 0o600); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(dir, filepath.FromSlash(tc.link))
			if err := os.MkdirAll(filepath.Dir(link), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(tc.target(base), link); err != nil {
				t.Fatal(err)
			}
			s := openStore(t, dir, Options{})
			ctx := context.Background()

			if r, err := s.Open(ctx, id); err == nil {
				buf := make([]byte, 6)
				n, _ := r.ReadAt(buf, 0)
				r.Close()
				t.Fatalf("Open through symlink succeeded, read %q", buf[:n])
			}
			if err := s.Delete(ctx, id); err == nil {
				// Deleting is allowed to report success only if it did
				// nothing outside; checked below.
				t.Log("Delete through symlink reported success")
			}
			s.newID = func() string { return id[:4] + randomID()[4:] }
			w, err := s.Create(ctx)
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte("pwned"))
			if _, err := w.Commit(); err == nil {
				t.Error("Commit through symlink succeeded")
			}
			if b, err := os.ReadFile(secret); err != nil || string(b) != "secret" {
				t.Errorf("outside file = %q, %v", b, err)
			}
			ents, _ := os.ReadDir(outLeaf)
			if len(ents) != 1 {
				t.Errorf("outside dir has %d entries, want 1", len(ents))
			}
			if ents, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(ents) != 0 {
				t.Errorf("failed Commit left %d temp files", len(ents))
			}
		})
	}
}

func TestTmpSymlinkEscape(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "store")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{dir, outside} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(dir, "tmp")); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(dir, Options{KeepTemp: true}); err == nil {
		defer s.Close()
		if w, err := s.Create(context.Background()); err == nil {
			w.Abort()
			t.Error("Create with tmp pointing outside succeeded")
		}
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("store wrote %d files outside", len(ents))
	}
}

func TestStartupSweep(t *testing.T) {
	old := time.Now().Add(-time.Hour)
	tests := []struct {
		name     string
		mtime    time.Time
		file     string // name in tmp/; empty for a fresh id
		keepTemp bool
		wantGone bool
	}{
		{"old leftover", old, "", false, true},
		{"old leftover kept by option", old, "", true, false},
		{"newer than process", time.Now(), "", false, false},
		{"not an id", old, "notes.txt", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			openStore(t, dir, Options{}).Close()
			name := tc.file
			if name == "" {
				name = randomID()
			}
			p := filepath.Join(dir, "tmp", name)
			if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(p, tc.mtime, tc.mtime); err != nil {
				t.Fatal(err)
			}
			s := openStore(t, dir, Options{KeepTemp: tc.keepTemp})
			_, err := os.Stat(p)
			if gone := errors.Is(err, fs.ErrNotExist); gone != tc.wantGone {
				t.Fatalf("file gone = %v (%v), want %v", gone, err, tc.wantGone)
			}
			if tc.file == "" && !tc.wantGone {
				var in blob.Info
				s.Walk(context.Background(), func(i blob.Info) error { in = i; return nil })
				if in.ID != name || !in.Temp {
					t.Errorf("Walk = %+v, want Temp entry for %s", in, name)
				}
			}
		})
	}
}

func TestReaderSurvivesDelete(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	id := put(t, s, []byte("still here"))
	r, err := s.Open(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := s.Delete(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, r.Size())
	if _, err := r.ReadAt(buf, 0); err != nil || string(buf) != "still here" {
		t.Fatalf("ReadAt after Delete = %q, %v", buf, err)
	}
}

func TestClosedStore(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	id := put(t, s, []byte("x"))
	w, err := s.Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := w.Commit(); err == nil {
		t.Error("Commit after Close succeeded")
	}
	if _, err := s.Open(context.Background(), id); err == nil {
		t.Error("Open after Close succeeded")
	}
	if _, err := s.Create(context.Background()); err == nil {
		t.Error("Create after Close succeeded")
	}
}

// TestNoSpace fills a 1 MiB tmpfs. It needs permission to mount and is
// skipped without it.
func TestNoSpace(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()

	tmpEmpty := func() {
		t.Helper()
		ents, err := os.ReadDir(filepath.Join(dir, "tmp"))
		if err != nil || len(ents) != 0 {
			t.Fatalf("tmp has %d entries (%v), want none", len(ents), err)
		}
	}
	// write commits size bytes in 100 KiB writes and returns the error.
	write := func(size int) (string, error) {
		w, err := s.Create(ctx)
		if err != nil {
			return "", err
		}
		defer w.Abort()
		data := blobtest.Data(1, size)
		for off := 0; off < size; off += 100 << 10 {
			if _, err := w.Write(data[off:min(off+100<<10, size)]); err != nil {
				return w.ID(), err
			}
		}
		_, err = w.Commit()
		return w.ID(), err
	}

	tests := []struct {
		name string
		size int
	}{
		{"larger than disk", 2 << 20},
		{"just over disk", 1<<20 + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := write(tc.size)
			if !errors.Is(err, blob.ErrNoSpace) {
				t.Fatalf("write %d bytes = %v, want ErrNoSpace", tc.size, err)
			}
			if !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("error lost ENOSPC: %v", err)
			}
			tmpEmpty()
			if _, err := s.Open(ctx, id); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("Open of failed blob = %v", err)
			}
		})
	}

	t.Run("fill then free", func(t *testing.T) {
		var ids []string
		var err error
		for range 100 {
			var id string
			if id, err = write(100 << 10); err != nil {
				break
			}
			ids = append(ids, id)
		}
		if !errors.Is(err, blob.ErrNoSpace) {
			t.Fatalf("filling: %v after %d blobs, want ErrNoSpace", err, len(ids))
		}
		tmpEmpty()
		n := 0
		s.Walk(ctx, func(in blob.Info) error {
			if in.Temp {
				t.Errorf("Walk reports temp %s", in.ID)
			}
			n++
			return nil
		})
		if n != len(ids) {
			t.Errorf("Walk reports %d blobs, want %d", n, len(ids))
		}
		for _, id := range ids {
			if err := s.Delete(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := write(100 << 10); err != nil {
			t.Fatalf("write after freeing space: %v", err)
		}
	})
}

// crashSeed derives a blob's content from its id, so the crash test can
// check any blob it finds without knowing what the killed process wrote.
func crashSeed(id string) (seed uint64, size int) {
	b, _ := hex.DecodeString(id[:16])
	seed = binary.BigEndian.Uint64(b)
	return seed, int(seed % (300 << 10))
}

// TestCrashHelper is the child of TestKill9: it commits blobs from several
// goroutines and prints each id once Commit has returned, until killed.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv("LOCALFS_CRASH_DIR")
	if dir == "" {
		t.Skip("helper process for TestKill9")
	}
	s, err := Open(dir, Options{KeepTemp: true})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	for range 4 {
		go func() {
			for {
				w, err := s.Create(context.Background())
				if err != nil {
					fmt.Println("error:", err)
					os.Exit(1)
				}
				seed, size := crashSeed(w.ID())
				data := blobtest.Data(seed, size)
				for off := 0; off < size; off += 50000 {
					w.Write(data[off:min(off+50000, size)])
				}
				if _, err := w.Commit(); err != nil {
					fmt.Println("error:", err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Println(w.ID())
				mu.Unlock()
			}
		}()
	}
	select {}
}

// TestKill9 kills a writing process with SIGKILL and checks that every
// acknowledged blob is complete, and that every blob that is visible at
// all is complete (no torn blobs). Power loss is not simulated.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
	cmd.Env = append(os.Environ(), "LOCALFS_CRASH_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var acked []string
	sc := bufio.NewScanner(out)
	deadline := time.Now().Add(20 * time.Second)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "error:") {
			t.Fatal(line)
		}
		if validID(line) {
			acked = append(acked, line)
		}
		if len(acked) == 100 || time.Now().After(deadline) {
			break
		}
	}
	cmd.Process.Kill() // SIGKILL
	// Lines still in the pipe were acknowledged before the kill landed.
	for sc.Scan() {
		if validID(sc.Text()) {
			acked = append(acked, sc.Text())
		}
	}
	if len(acked) == 0 {
		t.Fatal("helper acknowledged no blobs")
	}

	s := openStore(t, dir, Options{KeepTemp: true})
	for _, id := range acked {
		seed, size := crashSeed(id)
		if err := verifyBlob(s, id, blobtest.Data(seed, size)); err != nil {
			t.Errorf("acknowledged blob: %v", err)
		}
	}
	var committed, temp int
	err = s.Walk(context.Background(), func(in blob.Info) error {
		if in.Temp {
			temp++
			return s.RemoveTemp(context.Background(), in.ID)
		}
		committed++
		seed, size := crashSeed(in.ID)
		if err := verifyBlob(s, in.ID, blobtest.Data(seed, size)); err != nil {
			t.Errorf("visible blob: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d acknowledged, %d committed, %d temp leftovers", len(acked), committed, temp)
	if committed < len(acked) {
		t.Errorf("%d committed blobs, fewer than %d acknowledged", committed, len(acked))
	}
}

func verifyBlob(s blob.Store, id string, want []byte) error {
	r, err := s.Open(context.Background(), id)
	if err != nil {
		return err
	}
	defer r.Close()
	got := make([]byte, r.Size())
	if _, err := r.ReadAt(got, 0); err != nil && len(got) > 0 {
		return fmt.Errorf("%s: %w", id, err)
	}
	if string(got) != string(want) {
		return fmt.Errorf("%s: content differs (size %d, want %d)", id, len(got), len(want))
	}
	return nil
}
