package checksum

import (
	"crypto/md5"
	"fmt"
	"hash"
	"hash/crc64"
	"testing"
)

const benchSize = 1 << 20

func BenchmarkAlgorithms(b *testing.B) {
	buf := pattern(benchSize)
	for _, alg := range Algorithms() {
		b.Run(string(alg), func(b *testing.B) {
			h := New(alg)
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				h.Reset()
				h.Write(buf)
			}
		})
	}
	b.Run("MD5", func(b *testing.B) {
		h := md5.New()
		b.SetBytes(benchSize)
		b.ReportAllocs()
		for b.Loop() {
			h.Reset()
			h.Write(buf)
		}
	})
	// Baseline: hash/crc64 with the NVME table, which rebuilds its slicing
	// table on every Write of 2 KiB or more.
	for _, w := range []int{benchSize, 4 << 10} {
		b.Run(fmt.Sprintf("CRC64NVME-stdlib/write=%d", w), func(b *testing.B) {
			benchWrites(b, crc64.New(crc64.MakeTable(crc64NVMEPoly)), buf, w)
		})
		b.Run(fmt.Sprintf("CRC64NVME/write=%d", w), func(b *testing.B) {
			benchWrites(b, New(CRC64NVME), buf, w)
		})
	}
}

func benchWrites(b *testing.B, h hash.Hash, buf []byte, w int) {
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		h.Reset()
		for p := buf; len(p) > 0; p = p[w:] {
			h.Write(p[:w])
		}
	}
}

func BenchmarkMultiHasher(b *testing.B) {
	buf := pattern(benchSize)
	for _, tc := range []struct {
		name  string
		algs  []Algorithm
		write int
	}{
		{"MD5+CRC32C/1MiB", []Algorithm{CRC32C}, benchSize},
		{"MD5+CRC32C/32KiB", []Algorithm{CRC32C}, 32 << 10},
		{"MD5+CRC64NVME/1MiB", []Algorithm{CRC64NVME}, benchSize},
		{"MD5+SHA256/1MiB", []Algorithm{SHA256}, benchSize},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m, _ := NewMultiHasher(tc.algs...)
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				m.Reset()
				for p := buf; len(p) > 0; p = p[tc.write:] {
					m.Write(p[:tc.write])
				}
			}
		})
	}
}

func BenchmarkCombine(b *testing.B) {
	for _, alg := range crcAlgs {
		x, y := sum(alg, []byte("a")), sum(alg, []byte("b"))
		b.Run(string(alg), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Combine(alg, x, y, 5<<30+12345)
			}
		})
	}
}
