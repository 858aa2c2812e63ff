package checksum

import (
	"encoding/binary"
	"hash"
)

// CRC-64/NVME: reflected, normal-form polynomial 0xad93d23594c93659,
// init and xorout all ones. In reflected (LSB-first) form the polynomial is
// the bit-reversal of the normal form.
const crc64NVMEPoly = 0x9a6c9329ac4bc9b5

// We do not use hash/crc64 with a custom table: for tables other than ISO
// and ECMA it rebuilds (and compares) its slicing tables on every Write of
// 2 KiB or more and falls back to byte-at-a-time below that, which is slow
// for the 4–64 KiB writes of a streaming upload. The slicing-by-16 tables
// here are built once.
var crc64NVMETable = makeCRC64Slicing16(crc64NVMEPoly)

func makeCRC64Slicing16(poly uint64) *[16][256]uint64 {
	t := new([16][256]uint64)
	for i := range 256 {
		c := uint64(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ poly
			} else {
				c >>= 1
			}
		}
		t[0][i] = c
	}
	// t[k][i] is the CRC contribution of byte i followed by k zero bytes,
	// letting the main loop fold 16 input bytes with independent lookups.
	for i := range 256 {
		c := t[0][i]
		for k := 1; k < 16; k++ {
			c = c>>8 ^ t[0][byte(c)]
			t[k][i] = c
		}
	}
	return t
}

// updateCRC64NVME continues a CRC-64/NVME over p. crc is the finalised value
// of the data so far (0 for none), matching hash/crc64.Update's convention.
func updateCRC64NVME(crc uint64, p []byte) uint64 {
	t := crc64NVMETable
	crc = ^crc
	for len(p) >= 16 {
		lo := crc ^ binary.LittleEndian.Uint64(p)
		hi := binary.LittleEndian.Uint64(p[8:])
		crc = t[15][byte(lo)] ^ t[14][byte(lo>>8)] ^
			t[13][byte(lo>>16)] ^ t[12][byte(lo>>24)] ^
			t[11][byte(lo>>32)] ^ t[10][byte(lo>>40)] ^
			t[9][byte(lo>>48)] ^ t[8][byte(lo>>56)] ^
			t[7][byte(hi)] ^ t[6][byte(hi>>8)] ^
			t[5][byte(hi>>16)] ^ t[4][byte(hi>>24)] ^
			t[3][byte(hi>>32)] ^ t[2][byte(hi>>40)] ^
			t[1][byte(hi>>48)] ^ t[0][byte(hi>>56)]
		p = p[16:]
	}
	for _, b := range p {
		crc = t[0][byte(crc)^b] ^ crc>>8
	}
	return ^crc
}

type crc64NVME struct{ crc uint64 }

func newCRC64NVME() hash.Hash64 { return &crc64NVME{} }

func (d *crc64NVME) Write(p []byte) (int, error) {
	d.crc = updateCRC64NVME(d.crc, p)
	return len(p), nil
}

func (d *crc64NVME) Sum64() uint64 { return d.crc }

func (d *crc64NVME) Sum(b []byte) []byte { return binary.BigEndian.AppendUint64(b, d.crc) }

func (d *crc64NVME) Reset() { d.crc = 0 }

func (d *crc64NVME) Size() int { return 8 }

func (d *crc64NVME) BlockSize() int { return 1 }
