package cse

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The content cipher is AES-256-GCM with a 12-byte IV, no additional data
// and the 16-byte tag appended to the ciphertext, as the S3 Encryption
// Client v2 writes it. crypto/cipher's GCM only seals whole messages, so
// the stream is built from its parts (NIST SP 800-38D): AES-CTR from
// inc32(J0) for the data and GHASH over the ciphertext for the tag.

const (
	// IVSize is the content IV length.
	IVSize = 12
	// TagSize is the GCM tag length appended to the ciphertext.
	TagSize = 16
	// KeySize is the data key length (AES-256).
	KeySize = 32
	// MaxPlaintext is the GCM limit for one message: 2^32-2 blocks. Below
	// it the 128-bit counter of cipher.NewCTR never carries out of its low
	// 32 bits, so it produces exactly GCM's inc32 sequence.
	MaxPlaintext = (1<<32 - 2) * 16
)

// ErrAuth reports ciphertext (or a key, IV or tag) that does not
// authenticate: the object was altered or the wrong key was used.
var ErrAuth = errors.New("cse: message authentication failed: the object was altered or the key is wrong")

// ghash is GHASH keyed with H, using 4-bit tables (Shoup's method):
// m[n] = p(n)·H where p(n) is the polynomial of the nibble n read most
// significant bit first, as GCM orders bits.
type ghash struct {
	m   [16][2]uint64
	red [16]uint64 // reduction of the four bits shifted out by ·x^4
	y   [2]uint64
	buf [16]byte
	n   int    // bytes in buf
	len uint64 // bytes hashed
}

// mulX multiplies by x in GCM's reflected representation (a right shift).
func mulX(v [2]uint64) [2]uint64 {
	carry := v[1] & 1
	v[1] = v[1]>>1 | v[0]<<63
	v[0] >>= 1
	if carry == 1 {
		v[0] ^= 0xE1 << 56
	}
	return v
}

func newGHASH(h []byte) *ghash {
	g := &ghash{}
	g.m[8] = [2]uint64{binary.BigEndian.Uint64(h[:8]), binary.BigEndian.Uint64(h[8:])}
	g.m[4] = mulX(g.m[8])
	g.m[2] = mulX(g.m[4])
	g.m[1] = mulX(g.m[2])
	for n := 1; n < 16; n++ {
		if n&(n-1) == 0 {
			continue
		}
		for b := 1; b < 16; b <<= 1 {
			if n&b != 0 {
				g.m[n][0] ^= g.m[b][0]
				g.m[n][1] ^= g.m[b][1]
			}
		}
	}
	// A bit shifted out at x^(128+i) folds back as x^i·(1+x+x^2+x^7),
	// i.e. 0xE1 in the top byte shifted right by i. The lowest bit of the
	// low word is x^127, which lands at x^131.
	const r = uint64(0xE100)
	for n := 0; n < 16; n++ {
		var v uint64
		if n&8 != 0 {
			v ^= r
		}
		if n&4 != 0 {
			v ^= r >> 1
		}
		if n&2 != 0 {
			v ^= r >> 2
		}
		if n&1 != 0 {
			v ^= r >> 3
		}
		g.red[n] = v << 48
	}
	return g
}

// block folds one 16-byte block into the state: y = (y ⊕ b)·H.
func (g *ghash) block(b []byte) {
	x := [2]uint64{g.y[0] ^ binary.BigEndian.Uint64(b[:8]), g.y[1] ^ binary.BigEndian.Uint64(b[8:16])}
	var z [2]uint64
	for j := 31; j >= 0; j-- {
		rem := z[1] & 0xF
		z[1] = z[1]>>4 | z[0]<<60
		z[0] = z[0]>>4 ^ g.red[rem]
		w := x[j/16]
		n := (w >> (60 - 4*uint(j%16))) & 0xF
		z[0] ^= g.m[n][0]
		z[1] ^= g.m[n][1]
	}
	g.y = z
}

func (g *ghash) write(p []byte) {
	g.len += uint64(len(p))
	if g.n > 0 {
		k := copy(g.buf[g.n:], p)
		g.n += k
		p = p[k:]
		if g.n < 16 {
			return
		}
		g.block(g.buf[:])
		g.n = 0
	}
	for len(p) >= 16 {
		g.block(p[:16])
		p = p[16:]
	}
	g.n = copy(g.buf[:], p)
}

// sum pads the last block and folds in the length block (no AAD).
func (g *ghash) sum() [16]byte {
	if g.n > 0 {
		clear(g.buf[g.n:])
		g.block(g.buf[:])
		g.n = 0
	}
	var lb [16]byte
	binary.BigEndian.PutUint64(lb[8:], g.len*8)
	g.block(lb[:])
	var out [16]byte
	binary.BigEndian.PutUint64(out[:8], g.y[0])
	binary.BigEndian.PutUint64(out[8:], g.y[1])
	return out
}

// gcmState is the per-message state shared by encryption and decryption.
type gcmState struct {
	ctr  cipher.Stream
	hash *ghash
	ek0  [16]byte // E(K, J0), masks the tag
	n    uint64   // bytes processed
}

func newGCMState(key, iv []byte) (*gcmState, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("cse: data key must be %d bytes, got %d", KeySize, len(key))
	}
	if len(iv) != IVSize {
		return nil, fmt.Errorf("cse: IV must be %d bytes, got %d", IVSize, len(iv))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	var h, j0 [16]byte
	b.Encrypt(h[:], h[:])
	copy(j0[:], iv)
	j0[15] = 1
	s := &gcmState{hash: newGHASH(h[:])}
	b.Encrypt(s.ek0[:], j0[:])
	j0[15] = 2
	s.ctr = cipher.NewCTR(b, j0[:])
	return s, nil
}

func (s *gcmState) count(n int) error {
	s.n += uint64(n)
	if s.n > MaxPlaintext {
		return errors.New("cse: object exceeds the AES-GCM message limit (64 GiB)")
	}
	return nil
}

func (s *gcmState) tag() [16]byte {
	t := s.hash.sum()
	subtle.XORBytes(t[:], t[:], s.ek0[:])
	return t
}

// encryptReader turns a plaintext stream into ciphertext ‖ tag.
type encryptReader struct {
	src  io.Reader
	s    *gcmState
	tail []byte // the tag, once the plaintext has ended
	done bool
	err  error
}

// NewEncryptReader returns a reader of the AES-GCM encryption of src under
// key and iv: the ciphertext followed by the 16-byte tag. Memory use is
// independent of the length of src.
func NewEncryptReader(src io.Reader, key, iv []byte) (io.Reader, error) {
	s, err := newGCMState(key, iv)
	if err != nil {
		return nil, err
	}
	return &encryptReader{src: src, s: s}, nil
}

func (r *encryptReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.done {
		if len(r.tail) == 0 {
			return 0, io.EOF
		}
		n := copy(p, r.tail)
		r.tail = r.tail[n:]
		return n, nil
	}
	n, err := r.src.Read(p)
	if n > 0 {
		if cerr := r.s.count(n); cerr != nil {
			r.err = cerr
			return 0, cerr
		}
		r.s.ctr.XORKeyStream(p[:n], p[:n])
		r.s.hash.write(p[:n])
	}
	switch {
	case err == io.EOF:
		t := r.s.tag()
		r.tail = t[:]
		r.done = true
		return n, nil
	case err != nil:
		r.err = err
		return n, err
	}
	return n, nil
}

// DecryptStream decrypts ciphertext ‖ tag from src into dst and returns
// the plaintext length. GCM can only be verified at the end, so dst has
// received unauthenticated plaintext by the time a tampered stream fails
// with ErrAuth: dst must be a staging area the caller discards on any
// error (see AtomicFile), never the final destination.
func DecryptStream(dst io.Writer, src io.Reader, key, iv []byte) (int64, error) {
	s, err := newGCMState(key, iv)
	if err != nil {
		return 0, err
	}
	const chunk = 64 << 10
	buf := make([]byte, chunk+TagSize)
	have := 0 // bytes in buf; the last TagSize of them may be the tag
	for {
		n, rerr := src.Read(buf[have:])
		have += n
		if have > TagSize {
			body := buf[:have-TagSize]
			if err := s.count(len(body)); err != nil {
				return 0, err
			}
			s.hash.write(body)
			s.ctr.XORKeyStream(body, body)
			if _, err := dst.Write(body); err != nil {
				return 0, err
			}
			have = copy(buf, buf[have-TagSize:have])
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return 0, rerr
		}
	}
	if have != TagSize {
		return 0, ErrAuth
	}
	t := s.tag()
	if subtle.ConstantTimeCompare(t[:], buf[:TagSize]) != 1 {
		return 0, ErrAuth
	}
	return int64(s.n), nil
}
