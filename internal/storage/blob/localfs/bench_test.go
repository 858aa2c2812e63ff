package localfs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
)

// BenchmarkCommit4KiBParallel measures small durable uploads. "random" is
// the real id distribution on a store whose fan-out directories all exist
// (the steady state), where concurrent Commits rarely share a directory;
// "samedir" steers every id into one directory, the best case for sharing
// directory fsyncs. goroutines is the number of concurrent committers;
// dirsyncs/op counts the directory fsyncs issued.
func BenchmarkCommit4KiBParallel(b *testing.B) {
	data := make([]byte, 4096)
	dir := b.TempDir()
	if err := makeFanout(dir); err != nil {
		b.Fatal(err)
	}
	for _, ids := range []string{"random", "samedir"} {
		for _, par := range []int{1, 16} {
			for _, batch := range []bool{true, false} {
				name := fmt.Sprintf("ids=%s/goroutines=%d/batch=%v", ids, par*runtime.GOMAXPROCS(0), batch)
				b.Run(name, func(b *testing.B) {
					s := openStore(b, dir, Options{NoBatchDirSync: !batch})
					markFanoutReady(s)
					if ids == "samedir" {
						s.newID = func() string { return "0000" + randomID()[4:] }
					}
					before := s.dirSyncs.Load()
					b.SetBytes(int64(len(data)))
					b.SetParallelism(par)
					b.ResetTimer()
					b.RunParallel(func(pb *testing.PB) {
						ctx := context.Background()
						for pb.Next() {
							w, err := s.Create(ctx)
							if err != nil {
								b.Error(err)
								return
							}
							if _, err := w.Write(data); err != nil {
								b.Error(err)
								return
							}
							if _, err := w.Commit(); err != nil {
								b.Error(err)
								return
							}
						}
					})
					b.ReportMetric(float64(s.dirSyncs.Load()-before)/float64(b.N), "dirsyncs/op")
				})
			}
		}
	}
}

// makeFanout creates all 65,536 fan-out directories of a store in dir,
// unsynced: what a store that has been in use for a while looks like.
func makeFanout(dir string) error {
	for i := range 1 << 16 {
		if err := os.MkdirAll(filepath.Join(dir, fmt.Sprintf("%02x/%02x", i>>8, i&0xff)), dirPerm); err != nil {
			return err
		}
	}
	// Flush the new directories now, not during the first measurement.
	syscall.Sync()
	return nil
}

// markFanoutReady spares a benchmark the one-time parent sync per directory
// that a new process does.
func markFanoutReady(s *Store) {
	for i := range 1 << 16 {
		s.node(fmt.Sprintf("%02x/%02x", i>>8, i&0xff)).ready.Store(true)
	}
}

// BenchmarkWrite64MiB measures one writer streaming a 64 MiB blob, Commit
// (and so the fsync) included, with small and large Write calls.
func BenchmarkWrite64MiB(b *testing.B) {
	const size = 64 << 20
	for _, chunk := range []int{4 << 10, 64 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("write=%dKiB", chunk>>10), func(b *testing.B) {
			s := openStore(b, b.TempDir(), Options{})
			data := make([]byte, chunk)
			for i := range data {
				data[i] = byte(i * 7)
			}
			ctx := context.Background()
			b.SetBytes(size)
			b.ResetTimer()
			for range b.N {
				w, err := s.Create(ctx)
				if err != nil {
					b.Fatal(err)
				}
				for off := 0; off < size; off += chunk {
					if _, err := w.Write(data); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := w.Commit(); err != nil {
					b.Fatal(err)
				}
				// Keep the disk from filling; not timed.
				b.StopTimer()
				if err := s.Delete(ctx, w.ID()); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}
