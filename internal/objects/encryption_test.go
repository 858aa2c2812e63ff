package objects

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/coffer-io/coffer/internal/crypto/stream"
	"github.com/coffer-io/coffer/internal/kms"
	"github.com/coffer-io/coffer/internal/storage/blob/localfs"
	"github.com/coffer-io/coffer/internal/storage/meta"
	"github.com/coffer-io/coffer/internal/storage/meta/bolt"
)

const testAccount = "111122223333"

// newEncService returns a Service that encrypts, on a fresh directory
// (returned so tests can tamper with the blob files).
func newEncService(t *testing.T) (*Service, string) {
	t.Helper()
	dir := t.TempDir()
	m, err := bolt.Open(filepath.Join(dir, "meta.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := localfs.Open(filepath.Join(dir, "blobs"), localfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); b.Close() })
	sealer, err := kms.NewLocalSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	k, err := kms.New(kms.Config{Store: m.KMS(), Sealer: sealer, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	s := New(m, b, nil, nil)
	s.EnableEncryption(k)
	return s, dir
}

func randBytes(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func write(t *testing.T, s *Service, key string, data []byte, inline bool) *WriteResult {
	t.Helper()
	wr, err := s.WriteBlob(t.Context(), WriteInput{
		Body: bytes.NewReader(data), Size: int64(len(data)), MaxSize: 1 << 30, AllowInline: inline,
		Account: testAccount, Bucket: "bkt", Key: key,
	})
	if err != nil {
		t.Fatal(err)
	}
	if wr.Encryption == nil {
		t.Fatal("write not encrypted")
	}
	return wr
}

func readAll(s *Service, v *meta.ObjectVersion, off, n int64) ([]byte, error) {
	r, err := s.Open(context.Background(), v)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if r.Size() != v.Size {
		return nil, errors.New("reader size differs from the version's")
	}
	return io.ReadAll(io.NewSectionReader(r, off, n))
}

func TestEncryptedRoundTrip(t *testing.T) {
	s, _ := newEncService(t)
	for _, tc := range []struct {
		size   int
		inline bool
	}{{0, true}, {1, true}, {5000, true}, {0, false}, {stream.PackageSize, false}, {3*stream.PackageSize + 17, false}, {1 << 20, false}} {
		data := randBytes(tc.size, uint64(tc.size))
		wr := write(t, s, "k", data, tc.inline)
		if wr.Size() != int64(tc.size) {
			t.Fatalf("size %d: Size() = %d", tc.size, wr.Size())
		}
		v := &meta.ObjectVersion{Bucket: "bkt", Key: "k", Size: wr.Size(), Encryption: wr.Encryption}
		v.Blobs, v.Inline = wr.Data()
		if tc.inline != (v.Blobs == nil) {
			t.Fatalf("size %d: inline=%v, blobs %v", tc.size, tc.inline, v.Blobs)
		}
		stored := int64(len(v.Inline))
		if !tc.inline {
			stored = v.Blobs[0].Size
		}
		if stored != stream.CiphertextSize(int64(tc.size)) {
			t.Fatalf("size %d: stored %d bytes, want ciphertext size", tc.size, stored)
		}
		if tc.size > 64 && bytes.Contains(v.Inline, data[:64]) {
			t.Fatal("inline data stored in clear")
		}
		got, err := readAll(s, v, 0, v.Size)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: round trip: err %v, equal %v", tc.size, err, bytes.Equal(got, data))
		}
		// The sealed key is bound to the object's name.
		v.Key = "other"
		if _, err := readAll(s, v, 0, v.Size); err == nil && tc.size > 0 {
			t.Fatalf("size %d: read under another name succeeded", tc.size)
		}
	}
}

// TestEncryptedMultipartRanges reads ranges across the boundaries of
// parts that each have their own key and identity.
func TestEncryptedMultipartRanges(t *testing.T) {
	s, _ := newEncService(t)
	sizes := []int{stream.PackageSize + 5, 2*stream.PackageSize - 1, 1, 100}
	v := &meta.ObjectVersion{Bucket: "bkt", Key: "mp"}
	var all []byte
	for i, n := range sizes {
		data := randBytes(n, uint64(i+10))
		wr := write(t, s, "mp", data, false)
		all = append(all, data...)
		v.Blobs = append(v.Blobs, wr.Blob)
		v.Parts = append(v.Parts, meta.PartInfo{Number: i + 1, Size: wr.Size(), Encryption: wr.Encryption})
		v.Size += wr.Size()
	}
	for _, rg := range [][2]int64{{0, v.Size}, {0, 1}, {v.Size - 1, 1}, {int64(sizes[0]) - 3, 10}, {100, v.Size - 150}, {int64(sizes[0] + sizes[1]), 1}, {int64(sizes[0] + sizes[1] - 1), 3}} {
		got, err := readAll(s, v, rg[0], rg[1])
		if err != nil {
			t.Fatalf("range %v: %v", rg, err)
		}
		if !bytes.Equal(got, all[rg[0]:rg[0]+rg[1]]) {
			t.Fatalf("range %v: wrong data", rg)
		}
	}
	// Parts cannot be reordered: each has its own identity and key.
	v.Parts[0].Encryption, v.Parts[1].Encryption = v.Parts[1].Encryption, v.Parts[0].Encryption
	if _, err := readAll(s, v, 0, v.Size); !errors.Is(err, ErrDataCorrupt) {
		t.Fatalf("swapped part envelopes: err %v", err)
	}
}

// TestEncryptedTamper flips a stored byte and swaps stored files: reads
// fail with ErrDataCorrupt and return no wrong data.
func TestEncryptedTamper(t *testing.T) {
	s, dir := newEncService(t)
	data1, data2 := randBytes(200<<10, 1), randBytes(200<<10, 2)
	version := func(key string, data []byte) *meta.ObjectVersion {
		wr := write(t, s, key, data, false)
		v := &meta.ObjectVersion{Bucket: "bkt", Key: key, Size: wr.Size(), Encryption: wr.Encryption}
		v.Blobs, v.Inline = wr.Data()
		return v
	}
	v1, v2 := version("a", data1), version("b", data2)
	path := func(v *meta.ObjectVersion) string {
		var found string
		filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && filepath.Base(p) == v.Blobs[0].ID {
				found = p
			}
			return nil
		})
		if found == "" {
			t.Fatalf("blob file %s not found", v.Blobs[0].ID)
		}
		return found
	}
	p1, p2 := path(v1), path(v2)
	f1, _ := os.ReadFile(p1)
	f2, _ := os.ReadFile(p2)

	// Swap: each file now holds the other object's ciphertext.
	os.WriteFile(p1, f2, 0o600)
	os.WriteFile(p2, f1, 0o600)
	for _, v := range []*meta.ObjectVersion{v1, v2} {
		if got, err := readAll(s, v, 0, v.Size); !errors.Is(err, ErrDataCorrupt) {
			t.Fatalf("swapped %s: err %v, %d bytes", v.Key, err, len(got))
		}
	}
	os.WriteFile(p2, f2, 0o600)

	// Flip one byte in the second package: the first package still
	// reads, the range over the flipped byte does not.
	bad := bytes.Clone(f1)
	bad[stream.HeaderSize+stream.PackageSize+stream.Overhead+10] ^= 1
	os.WriteFile(p1, bad, 0o600)
	if got, err := readAll(s, v1, 0, 1000); err != nil || !bytes.Equal(got, data1[:1000]) {
		t.Fatalf("untouched package: err %v", err)
	}
	got, err := readAll(s, v1, 0, v1.Size)
	if !errors.Is(err, ErrDataCorrupt) {
		t.Fatalf("flipped byte: err %v", err)
	}
	if !bytes.Equal(got, data1[:len(got)]) {
		t.Fatal("flipped byte: wrong data returned before the error")
	}
	// Truncation at a package boundary.
	os.WriteFile(p1, f1[:stream.HeaderSize+stream.PackageSize+stream.Overhead], 0o600)
	if _, err := readAll(s, v1, 0, v1.Size); !errors.Is(err, ErrDataCorrupt) {
		t.Fatalf("truncated: err %v", err)
	}
	if got, err := readAll(s, v2, 0, v2.Size); err != nil || !bytes.Equal(got, data2) {
		t.Fatalf("untouched object: err %v", err)
	}
}

func TestEncryptedWriteNeedsTarget(t *testing.T) {
	s, _ := newEncService(t)
	if _, err := s.WriteBlob(t.Context(), WriteInput{Body: bytes.NewReader(nil), MaxSize: 1}); err == nil {
		t.Fatal("encrypted write without account and bucket succeeded")
	}
}
