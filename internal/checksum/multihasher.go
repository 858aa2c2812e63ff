package checksum

import (
	"crypto/md5"
	"fmt"
	"hash"
)

// hashChunk bounds how much of one Write each hash consumes before the next
// hash runs, so that with several hashes the data is still in L1/L2 cache
// when the second and later hashes read it.
const hashChunk = 32 << 10

// MultiHasher computes MD5 (for the S3 ETag) and any set of checksum
// algorithms over a stream in a single pass. It is an io.Writer whose Write
// never fails and does not allocate.
//
// A MultiHasher is not safe for concurrent use. It does not retain the
// slices passed to Write, so a caller that wants hashing to run beside the
// disk write can send each filled buffer to a goroutine that owns the
// MultiHasher and reuse the buffer once that Write (and the disk write) have
// returned.
type MultiHasher struct {
	md5    hash.Hash
	byAlg  [numAlgorithms]hash.Hash // nil for algorithms not requested
	active []hash.Hash              // md5 followed by the requested hashes
	n      int64
}

// NewMultiHasher returns a MultiHasher computing MD5 plus each of algs.
// Duplicates are ignored; an unknown algorithm is an error.
func NewMultiHasher(algs ...Algorithm) (*MultiHasher, error) {
	m := &MultiHasher{md5: md5.New()}
	m.active = append(make([]hash.Hash, 0, 1+numAlgorithms), m.md5)
	for _, a := range algs {
		i := a.index()
		if i < 0 {
			return nil, fmt.Errorf("%w: %q", ErrUnknownAlgorithm, a)
		}
		if m.byAlg[i] == nil {
			m.byAlg[i] = New(a)
			m.active = append(m.active, m.byAlg[i])
		}
	}
	return m, nil
}

// Write adds p to every hash. It always returns len(p), nil.
func (m *MultiHasher) Write(p []byte) (int, error) {
	n := len(p)
	m.n += int64(n)
	if len(m.active) == 1 {
		m.md5.Write(p)
		return n, nil
	}
	for len(p) > 0 {
		c := p[:min(len(p), hashChunk)]
		for _, h := range m.active {
			h.Write(c)
		}
		p = p[len(c):]
	}
	return n, nil
}

// Size returns the number of bytes written since creation or Reset.
func (m *MultiHasher) Size() int64 { return m.n }

// MD5 returns the MD5 digest of the data written so far.
func (m *MultiHasher) MD5() []byte { return m.md5.Sum(nil) }

// Has reports whether alg is being computed.
func (m *MultiHasher) Has(alg Algorithm) bool {
	i := alg.index()
	return i >= 0 && m.byAlg[i] != nil
}

// Algorithms returns the checksum algorithms being computed (not MD5), in
// Algorithms() order.
func (m *MultiHasher) Algorithms() []Algorithm {
	var out []Algorithm
	for i, h := range m.byAlg {
		if h != nil {
			out = append(out, allAlgorithms[i])
		}
	}
	return out
}

// Sum returns the raw digest for alg of the data written so far, or nil if
// alg was not requested. Further writes may follow.
func (m *MultiHasher) Sum(alg Algorithm) []byte {
	i := alg.index()
	if i < 0 || m.byAlg[i] == nil {
		return nil
	}
	return m.byAlg[i].Sum(nil)
}

// Checksum returns the S3 wire form (base64) of Sum(alg), or "" if alg was
// not requested.
func (m *MultiHasher) Checksum(alg Algorithm) string {
	d := m.Sum(alg)
	if d == nil {
		return ""
	}
	return Encode(d)
}

// Reset clears all hashes so the MultiHasher can be reused for another
// stream with the same algorithms.
func (m *MultiHasher) Reset() {
	for _, h := range m.active {
		h.Reset()
	}
	m.n = 0
}
