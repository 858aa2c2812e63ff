// Package stream implements streaming authenticated encryption of object
// data in fixed-size packages, so that a ranged read decrypts only the
// packages it overlaps.
//
// # Format (version 1)
//
// A stream encrypts one blob (an object or one multipart part) under a
// random 32-byte data key chosen by the caller, who seals that key
// elsewhere (envelope encryption). The AES-256-GCM key is
//
//	K = HKDF-SHA256(secret = dataKey, salt = none,
//	                info = "coffer/stream v1 AES-256-GCM" ‖ 0x00 ‖ identity, 32 bytes)
//
// where identity is the immutable object-or-part identity the caller assigns
// when the write starts. The ciphertext is
//
//	header  = 1 byte, the format version 0x01
//	package = GCM-Seal(K, nonce_i, plaintext_i, aad_i)   (len(plaintext_i) + 16 bytes)
//	stream  = header ‖ package_0 ‖ package_1 ‖ … ‖ package_{n-1}
//
// Every package except the last carries exactly PackageSize (64 KiB) of
// plaintext. The last package carries 1..PackageSize bytes, or 0 bytes when
// the whole plaintext is empty (an empty blob is one empty final package).
// Package i uses
//
//	nonce_i = uint64_be(i) ‖ 0x00 0x00 0x00 ‖ final
//	aad_i   = identity ‖ uint64_be(i) ‖ final
//
// with final = 0x01 for the last package and 0x00 otherwise. Nothing
// per-package is stored besides the GCM tag, so
//
//	CiphertextSize(n) = 1 + n + 16·max(1, ⌈n/PackageSize⌉)
//
// and the mapping is a bijection onto the valid ciphertext sizes: a size
// that no plaintext maps to is rejected before any decryption.
//
// # Threat model
//
// The storage holding ciphertext is untrusted: it may flip bits, truncate,
// extend, drop or reorder packages, or substitute the stored file of another
// object. Confidentiality and integrity rest on the secrecy of the data key.
//
//   - Tampering with any byte fails the package's GCM tag (the version
//     header is bound into the key derivation, so changing it changes K).
//   - Reordering or dropping packages fails because the package index is part
//     of both the nonce and the AAD.
//   - Truncation or extension fails because only the last package is sealed
//     with final = 1; a stream cut at a package boundary ends with a
//     non-final package, and a stream extended past it has a "final" package
//     that is not last. ReaderAt never reports io.EOF without having
//     authenticated the final package, so a short stream is never passed off
//     as a short object.
//   - Moving a ciphertext to another object fails because the identity is in
//     both the key derivation and the AAD.
//
// Nonces are deterministic, which is safe only because K is unique per
// (dataKey, identity): the caller MUST NOT encrypt two different plaintexts
// with the same data key and identity. A fresh random data key per write
// guarantees this.
//
// Plaintext is never released before its package authenticates: on failure
// ReadAt reports ErrAuth and the destination range of the failed package is
// zeroed.
//
// Sequential reading is io.NewSectionReader(r, 0, r.Size()).
package stream

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
)

const (
	// PackageSize is the plaintext size of every package but the last.
	PackageSize = 64 << 10

	// KeySize is the required length of a data key.
	KeySize = 32

	// Overhead is the ciphertext expansion of one package (the GCM tag).
	Overhead = 16

	// HeaderSize is the size of the fixed stream header (the version byte).
	HeaderSize = 1

	// Version is the format version written in the header.
	Version byte = 0x01

	pkgCipherSize = PackageSize + Overhead
	nonceSize     = 12

	// readBatch is how many packages ReadAt fetches from the underlying
	// ReaderAt in one call: large sequential I/O without holding more than
	// ~512 KiB per concurrent read.
	readBatch = 8
)

// kdfLabel domain-separates the key derivation; the version is part of it so
// that a future format never shares keys with this one.
const kdfLabel = "coffer/stream v1 AES-256-GCM\x00"

var (
	// ErrAuth reports that the ciphertext failed authentication: it was
	// modified, truncated, extended, reordered, moved from another identity,
	// or is being opened with the wrong key.
	ErrAuth = errors.New("stream: authentication failed")

	// ErrSize reports a ciphertext size that no plaintext maps to.
	ErrSize = errors.New("stream: invalid ciphertext size")

	// ErrKeySize reports a data key that is not KeySize bytes long.
	ErrKeySize = errors.New("stream: data key must be 32 bytes")

	// ErrClosed reports a Write or Close after Close.
	ErrClosed = errors.New("stream: writer closed")
)

// maxPlaintext is the largest plaintext whose ciphertext size fits in int64.
var maxPlaintext = func() int64 {
	// Whole packages only, so that 1 + n + 16·⌈n/P⌉ ≤ MaxInt64 holds.
	full := int64(math.MaxInt64-HeaderSize) / pkgCipherSize
	return full * PackageSize
}()

// CiphertextSize returns the ciphertext size of a plaintext of n bytes, or
// -1 if n is negative or too large.
func CiphertextSize(n int64) int64 {
	if n < 0 || n > maxPlaintext {
		return -1
	}
	pkgs := (n + PackageSize - 1) / PackageSize
	if pkgs == 0 {
		pkgs = 1 // the empty final package
	}
	return HeaderSize + n + pkgs*Overhead
}

// PlaintextSize returns the plaintext size of a ciphertext of c bytes, or
// ErrSize if no plaintext has that ciphertext size.
func PlaintextSize(c int64) (int64, error) {
	body := c - HeaderSize
	if c < HeaderSize+Overhead {
		return 0, ErrSize
	}
	full, rem := body/pkgCipherSize, body%pkgCipherSize
	switch {
	case rem == 0:
		// Last package is a full one (full ≥ 1 because body ≥ Overhead).
		return full * PackageSize, nil
	case rem == Overhead && full == 0:
		return 0, nil // empty plaintext
	case rem > Overhead:
		return full*PackageSize + rem - Overhead, nil
	default:
		// A trailing fragment too small to hold a tag, or an empty final
		// package after full ones, which the writer never produces.
		return 0, ErrSize
	}
}

// newAEAD derives the per-stream AES-256-GCM instance and the AAD prefix.
func newAEAD(dataKey, identity []byte) (cipher.AEAD, error) {
	if len(dataKey) != KeySize {
		return nil, ErrKeySize
	}
	info := make([]byte, 0, len(kdfLabel)+len(identity))
	info = append(append(info, kdfLabel...), identity...)
	key, err := hkdf.Key(sha256.New, dataKey, nil, string(info), 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	clear(key)
	if err != nil {
		return nil, err
	}
	// cipher.NewGCM on an aes block uses the hardware (AES-NI/PCLMULQDQ,
	// ARMv8 crypto) implementation when available.
	return cipher.NewGCM(block)
}

// packageParams fills nonce and the trailing 9 bytes of aad (whose prefix is
// the identity) for package i.
func packageParams(nonce, aad []byte, i uint64, final bool) {
	var f byte
	if final {
		f = 1
	}
	binary.BigEndian.PutUint64(nonce[0:8], i)
	nonce[8], nonce[9], nonce[10], nonce[11] = 0, 0, 0, f
	t := aad[len(aad)-9:]
	binary.BigEndian.PutUint64(t[0:8], i)
	t[8] = f
}

// Writer encrypts a stream. It is not safe for concurrent use.
type Writer struct {
	w     io.Writer
	aead  cipher.AEAD
	buf   []byte // HeaderSize headroom ‖ package plaintext/ciphertext
	n     int    // buffered plaintext bytes in buf[HeaderSize:]
	seq   uint64
	nonce []byte
	aad   []byte
	wrote bool // header written
	err   error
}

// NewWriter returns a Writer that encrypts to w. Close must be called to
// seal the final package; it does not close w. The data key must be fresh
// for this (dataKey, identity) pair; see the package documentation.
func NewWriter(w io.Writer, dataKey, identity []byte) (*Writer, error) {
	aead, err := newAEAD(dataKey, identity)
	if err != nil {
		return nil, err
	}
	aad := make([]byte, len(identity)+9)
	copy(aad, identity)
	return &Writer{
		w:     w,
		aead:  aead,
		buf:   make([]byte, HeaderSize+pkgCipherSize),
		nonce: make([]byte, nonceSize),
		aad:   aad,
	}, nil
}

// Write encrypts p. A package is sealed only once it is known not to be the
// last one, i.e. when more data arrives after it is full.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	written := 0
	for len(p) > 0 {
		if w.n == PackageSize {
			// More data follows, so the buffered package is not final.
			if err := w.flush(w.sealBuffered(false)); err != nil {
				return written, err
			}
		}
		if w.n == 0 && len(p) > PackageSize {
			// Fast path: a whole non-final package straight from p,
			// sealed into buf without the intermediate copy.
			packageParams(w.nonce, w.aad, w.seq, false)
			out := w.aead.Seal(w.buf[HeaderSize:HeaderSize], w.nonce, p[:PackageSize], w.aad)
			w.seq++
			if err := w.flush(len(out)); err != nil {
				return written, err
			}
			p = p[PackageSize:]
			written += PackageSize
			continue
		}
		c := copy(w.buf[HeaderSize+w.n:HeaderSize+PackageSize], p)
		w.n += c
		p = p[c:]
		written += c
	}
	return written, nil
}

// sealBuffered seals the buffered plaintext in place and returns the sealed
// length.
func (w *Writer) sealBuffered(final bool) int {
	packageParams(w.nonce, w.aad, w.seq, final)
	data := w.buf[HeaderSize : HeaderSize+w.n]
	out := w.aead.Seal(data[:0], w.nonce, data, w.aad)
	w.seq++
	w.n = 0
	return len(out)
}

// flush writes the sealed package in buf (prefixed by the header the first
// time) to the underlying writer. Errors are sticky.
func (w *Writer) flush(sealed int) error {
	start := HeaderSize
	if !w.wrote {
		w.buf[0] = Version
		start = 0
		w.wrote = true
	}
	if _, err := w.w.Write(w.buf[start : HeaderSize+sealed]); err != nil {
		w.err = err
		return err
	}
	return nil
}

// Close seals and writes the final package. It does not close the
// underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	err := w.flush(w.sealBuffered(true))
	if err == nil {
		w.err = ErrClosed
	}
	return err
}

// ReaderAt decrypts a stream with random access. It is safe for concurrent
// use if the underlying io.ReaderAt is.
type ReaderAt struct {
	r        io.ReaderAt
	aead     cipher.AEAD
	identity []byte
	size     int64  // plaintext size
	last     uint64 // index of the final package
	// finalOK records that the final package authenticated, which is what
	// makes size trustworthy; ReadAt checks it before reporting io.EOF.
	finalOK atomic.Bool
}

// NewReaderAt returns a ReaderAt over the ciphertextSize bytes of ciphertext
// in r. An impossible size or a bad header is reported as ErrAuth (wrapping
// ErrSize where applicable), since either means the stored blob is not what
// was written.
func NewReaderAt(r io.ReaderAt, ciphertextSize int64, dataKey, identity []byte) (*ReaderAt, error) {
	size, err := PlaintextSize(ciphertextSize)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAuth, err)
	}
	aead, err := newAEAD(dataKey, identity)
	if err != nil {
		return nil, err
	}
	var hdr [HeaderSize]byte
	if _, err := readFull(r, hdr[:], 0); err != nil {
		return nil, err
	}
	if hdr[0] != Version {
		return nil, fmt.Errorf("%w: unknown format version %#x", ErrAuth, hdr[0])
	}
	last := uint64(0)
	if size > 0 {
		last = uint64((size - 1) / PackageSize)
	}
	return &ReaderAt{
		r:        r,
		aead:     aead,
		identity: append([]byte(nil), identity...),
		size:     size,
		last:     last,
	}, nil
}

// Size returns the plaintext size.
func (r *ReaderAt) Size() int64 { return r.size }

// readBuf is the per-call scratch space, pooled across all ReaderAts so
// that steady-state reads do not allocate.
type readBuf struct {
	ct    []byte
	nonce []byte
	aad   []byte
}

var readBufPool = sync.Pool{New: func() any {
	return &readBuf{
		ct:    make([]byte, readBatch*pkgCipherSize),
		nonce: make([]byte, nonceSize),
	}
}}

// ReadAt reads len(p) bytes of plaintext starting at off. It follows the
// io.ReaderAt contract: when it returns n < len(p) the error says why, and
// io.EOF is returned only after the final package has authenticated. Only
// the packages overlapping [off, off+len(p)) are read and decrypted. On
// ErrAuth, p[:n] holds authenticated plaintext and nothing else in p holds
// plaintext of the failed package.
func (r *ReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("stream: negative offset")
	}
	b := readBufPool.Get().(*readBuf)
	defer readBufPool.Put(b)
	b.aad = append(append(b.aad[:0], r.identity...), make([]byte, 9)...)

	if off >= r.size {
		if err := r.verifyFinal(b); err != nil {
			return 0, err
		}
		return 0, io.EOF
	}
	want := len(p)
	if rest := r.size - off; int64(want) > rest {
		want = int(rest)
	}
	end := off + int64(want)
	first := uint64(off / PackageSize)
	lastPkg := uint64((end - 1) / PackageSize)

	n := 0
	for batch := first; batch <= lastPkg; batch += readBatch {
		cnt := min(lastPkg-batch+1, readBatch)
		// Ciphertext extent of packages [batch, batch+cnt).
		ctOff := HeaderSize + int64(batch)*pkgCipherSize
		ctLen := int64(cnt) * pkgCipherSize
		if batch+cnt-1 == r.last {
			ctLen -= PackageSize - r.lastLen()
		}
		ct := b.ct[:ctLen]
		if _, err := readFull(r.r, ct, ctOff); err != nil {
			return n, err
		}
		for k := uint64(0); k < cnt; k++ {
			i := batch + k
			pkg := ct[k*pkgCipherSize : min(uint64(len(ct)), (k+1)*pkgCipherSize)]
			plainLen := len(pkg) - Overhead
			pkgStart := int64(i) * PackageSize
			// Part of this package the caller wants, in package coordinates.
			lo := max(off-pkgStart, 0)
			hi := min(end-pkgStart, int64(plainLen))
			final := i == r.last
			packageParams(b.nonce, b.aad, i, final)
			if lo == 0 && hi == int64(plainLen) {
				// Whole package wanted: decrypt straight into p. GCM writes
				// only len(pkg)-16 bytes to dst; the full slice expression
				// keeps it from touching anything beyond.
				dst := p[n : n : n+plainLen]
				if _, err := r.aead.Open(dst, b.nonce, pkg, b.aad); err != nil {
					clear(p[n : n+plainLen])
					return n, ErrAuth
				}
			} else {
				// Partial package: decrypt in place in the scratch buffer
				// and copy out only after the tag has verified.
				if _, err := r.aead.Open(pkg[:0], b.nonce, pkg, b.aad); err != nil {
					clear(pkg)
					return n, ErrAuth
				}
				copy(p[n:], pkg[lo:hi])
			}
			if final {
				r.finalOK.Store(true)
			}
			n += int(hi - lo)
		}
	}
	if n < len(p) {
		// Short read: size must be authentic before we claim EOF.
		if err := r.verifyFinal(b); err != nil {
			return n, err
		}
		return n, io.EOF
	}
	return n, nil
}

// lastLen is the plaintext length of the final package.
func (r *ReaderAt) lastLen() int64 {
	return r.size - int64(r.last)*PackageSize
}

// verifyFinal authenticates the final package once, which proves the
// stream ends where the declared size says it does.
func (r *ReaderAt) verifyFinal(b *readBuf) error {
	if r.finalOK.Load() {
		return nil
	}
	ct := b.ct[:r.lastLen()+Overhead]
	if _, err := readFull(r.r, ct, HeaderSize+int64(r.last)*pkgCipherSize); err != nil {
		return err
	}
	packageParams(b.nonce, b.aad, r.last, true)
	_, err := r.aead.Open(ct[:0], b.nonce, ct, b.aad)
	clear(ct)
	if err != nil {
		return ErrAuth
	}
	r.finalOK.Store(true)
	return nil
}

// readFull reads exactly len(p) bytes at off. The caller declared the
// ciphertext size, so a shorter underlying blob is truncation: ErrAuth.
func readFull(r io.ReaderAt, p []byte, off int64) (int, error) {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return n, nil
	}
	if err == nil || err == io.EOF || err == io.ErrUnexpectedEOF {
		return n, fmt.Errorf("%w: ciphertext shorter than declared", ErrAuth)
	}
	return n, err
}
