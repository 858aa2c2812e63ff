package objects

import (
	"bytes"
	"crypto/md5"
	"io"
	"math/rand/v2"
	"testing"
)

// TestHashingCopy checks that the pipelined copy writes and hashes exactly
// the input, for sizes around the buffer boundaries.
func TestHashingCopy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, copyBufSize - 1, copyBufSize, copyBufSize + 1, 3*copyBufSize + 7, 9 * copyBufSize, 10*copyBufSize + 123} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		// A reader returning short reads exercises ReadFull's loop.
		src := io.LimitReader(&shortReader{r: bytes.NewReader(data), max: 7000}, int64(size))
		var dst bytes.Buffer
		h := md5.New()
		n, err := hashingCopy(&dst, h, src, int64(size))
		if err != nil || n != int64(size) {
			t.Fatalf("size %d: n=%d err=%v", size, n, err)
		}
		if !bytes.Equal(dst.Bytes(), data) {
			t.Fatalf("size %d: written data differs", size)
		}
		want := md5.Sum(data)
		if got := h.Sum(nil); !bytes.Equal(got, want[:]) {
			t.Fatalf("size %d: hash differs", size)
		}
	}
}

func TestHashingCopyLimit(t *testing.T) {
	data := make([]byte, 5*copyBufSize)
	n, err := hashingCopy(io.Discard, md5.New(), bytes.NewReader(data), 2*copyBufSize)
	if err != nil || n <= 2*copyBufSize {
		t.Fatalf("want n > limit, got n=%d err=%v", n, err)
	}
}

type shortReader struct {
	r   io.Reader
	max int
}

func (s *shortReader) Read(p []byte) (int, error) {
	if len(p) > s.max {
		p = p[:s.max]
	}
	return s.r.Read(p)
}
