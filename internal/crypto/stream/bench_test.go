package stream

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

const benchSize = 16 << 20

// sink keeps the compiler from discarding benchmark results.
var sink []byte

func BenchmarkEncrypt16MiB(b *testing.B) {
	plain := pattern(benchSize)
	b.SetBytes(benchSize)
	for b.Loop() {
		w, _ := NewWriter(io.Discard, testKey, testIdentity)
		w.Write(plain)
		w.Close()
	}
}

func BenchmarkDecrypt16MiB(b *testing.B) {
	plain := pattern(benchSize)
	ct := encrypt(b, plain, testKey, testIdentity)
	r, _ := open(b, ct, testKey, testIdentity)
	out := make([]byte, benchSize)
	b.SetBytes(benchSize)
	for b.Loop() {
		r.ReadAt(out, 0)
	}
	sink = out
}

// BenchmarkPlainCopy16MiB is the baseline: moving the same bytes without
// encryption.
func BenchmarkPlainCopy16MiB(b *testing.B) {
	plain := pattern(benchSize)
	out := make([]byte, benchSize)
	b.SetBytes(benchSize)
	for b.Loop() {
		bytes.NewReader(plain).ReadAt(out, 0)
	}
	sink = out
}

// rangeFixture writes a 256 MiB logical object, encrypted and plain, to
// temporary files so the range benchmarks read through the page cache like
// a real blob store would.
func rangeFixture(b *testing.B) (ct, plain *os.File) {
	b.Helper()
	const size = 256 << 20
	dir := b.TempDir()
	cf, err := os.Create(filepath.Join(dir, "ct"))
	if err != nil {
		b.Fatal(err)
	}
	pf, err := os.Create(filepath.Join(dir, "plain"))
	if err != nil {
		b.Fatal(err)
	}
	w, _ := NewWriter(cf, testKey, testIdentity)
	chunk := pattern(1 << 20)
	for range size >> 20 {
		w.Write(chunk)
		pf.Write(chunk)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cf.Close(); pf.Close() })
	return cf, pf
}

func BenchmarkRangeRead1MiBOf256MiB(b *testing.B) {
	cf, pf := rangeFixture(b)
	const size = 256 << 20
	rng := rand.New(rand.NewPCG(5, 6))
	buf := make([]byte, 1<<20)
	b.Run("encrypted", func(b *testing.B) {
		r, err := NewReaderAt(cf, CiphertextSize(size), testKey, testIdentity)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			off := rng.Int64N(size - int64(len(buf)))
			if _, err := r.ReadAt(buf, off); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("plain", func(b *testing.B) {
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			off := rng.Int64N(size - int64(len(buf)))
			if _, err := pf.ReadAt(buf, off); err != nil {
				b.Fatal(err)
			}
		}
	})
}
