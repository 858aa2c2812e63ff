package checksum

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Full-object CRCs for multipart uploads are derived from part CRCs:
// for CRCs whose init and xorout are both all ones,
//
//	crc(A‖B) = crc(A)·x^(8·len(B)) mod P  ⊕  crc(B)
//
// (the xorout of A acts as the init of B, so the conditioning cancels).
// Multiplying by x^(8n) uses a table of x^(2^k) mod P, so Combine costs
// O(log n) polynomial multiplications rather than O(n) zero bytes.

// gfPoly describes a reflected CRC polynomial of width <= 64 bits. In the
// reflected representation the most significant bit of the width holds the
// coefficient of x^0.
type gfPoly struct {
	top  uint64     // 1 << (width-1): the x^0 coefficient
	poly uint64     // reflected polynomial without the x^width term
	x2n  [67]uint64 // x2n[k] = x^(2^k) mod P; 67 covers 8·(2^63-1) bits
}

func newGFPoly(width uint, poly uint64) *gfPoly {
	g := &gfPoly{top: 1 << (width - 1), poly: poly}
	g.x2n[0] = g.top >> 1 // x^1
	for k := 1; k < len(g.x2n); k++ {
		g.x2n[k] = g.mul(g.x2n[k-1], g.x2n[k-1])
	}
	return g
}

// mul returns a·b mod P.
func (g *gfPoly) mul(a, b uint64) uint64 {
	var p uint64
	for m := g.top; m != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
			if a&(m-1) == 0 { // no higher powers of x left in a
				break
			}
		}
		// b *= x: shift towards higher powers and reduce by P.
		if b&1 != 0 {
			b = b>>1 ^ g.poly
		} else {
			b >>= 1
		}
	}
	return p
}

// shiftBytes returns crc·x^(8n) mod P.
func (g *gfPoly) shiftBytes(crc uint64, n int64) uint64 {
	for k := 3; n != 0; k++ { // k starts at 3 because 8n = n·2^3
		if n&1 != 0 {
			crc = g.mul(g.x2n[k], crc)
		}
		n >>= 1
	}
	return crc
}

var (
	gfCRC32     = newGFPoly(32, crc32.IEEE)
	gfCRC32C    = newGFPoly(32, crc32.Castagnoli)
	gfCRC64NVME = newGFPoly(64, crc64NVMEPoly)
)

func gfFor(alg Algorithm) (*gfPoly, error) {
	switch alg {
	case CRC32:
		return gfCRC32, nil
	case CRC32C:
		return gfCRC32C, nil
	case CRC64NVME:
		return gfCRC64NVME, nil
	case SHA1, SHA256:
		return nil, fmt.Errorf("%w: %s", ErrNotCombinable, alg)
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownAlgorithm, alg)
}

func loadCRC(b []byte) uint64 {
	if len(b) == 4 {
		return uint64(binary.BigEndian.Uint32(b))
	}
	return binary.BigEndian.Uint64(b)
}

func storeCRC(size int, v uint64) []byte {
	if size == 4 {
		return binary.BigEndian.AppendUint32(nil, uint32(v))
	}
	return binary.BigEndian.AppendUint64(nil, v)
}

// Combine returns the CRC of A‖B given crcA = CRC(A), crcB = CRC(B) and
// lenB = len(B), all digests in big-endian form as returned by Sum/Decode.
// It supports CRC32, CRC32C and CRC64NVME; SHA algorithms return
// ErrNotCombinable.
func Combine(alg Algorithm, crcA, crcB []byte, lenB int64) ([]byte, error) {
	g, err := gfFor(alg)
	if err != nil {
		return nil, err
	}
	size := alg.Size()
	if len(crcA) != size || len(crcB) != size {
		return nil, fmt.Errorf("%w: %s digest must be %d bytes", ErrInvalidChecksum, alg, size)
	}
	if lenB < 0 {
		return nil, fmt.Errorf("checksum: negative length %d", lenB)
	}
	return storeCRC(size, g.shiftBytes(loadCRC(crcA), lenB)^loadCRC(crcB)), nil
}

// Part is one piece of an object for CombineAll: its CRC digest (big-endian,
// as returned by Sum/Decode) and its length in bytes.
type Part struct {
	Checksum []byte
	Size     int64
}

// CombineAll returns the CRC of the concatenation of parts, in order: the
// FULL_OBJECT checksum of a multipart upload. With no parts it returns the
// CRC of empty input (all zero).
func CombineAll(alg Algorithm, parts []Part) ([]byte, error) {
	g, err := gfFor(alg)
	if err != nil {
		return nil, err
	}
	size := alg.Size()
	var crc uint64 // CRC of empty input is 0 when init == xorout
	for i, p := range parts {
		if len(p.Checksum) != size {
			return nil, fmt.Errorf("%w: part %d: %s digest must be %d bytes", ErrInvalidChecksum, i, alg, size)
		}
		if p.Size < 0 {
			return nil, fmt.Errorf("checksum: part %d: negative length %d", i, p.Size)
		}
		crc = g.shiftBytes(crc, p.Size) ^ loadCRC(p.Checksum)
	}
	return storeCRC(size, crc), nil
}
