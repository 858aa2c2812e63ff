package mfa

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
)

// This file is a small QR code encoder (ISO/IEC 18004), enough for
// CreateVirtualMFADevice's QRCodePNG: byte mode only, error correction level
// M (15% of codewords recoverable, so a photographed screen still scans),
// versions 1 to 40, automatic mask choice. The smallest version that holds
// the URI is used: an AWS-style URI with a 40-byte seed is 155 to 200 bytes
// for everyday names, version 9 or 10; the longest IAM names need about 14.

// ErrQRTooLong is returned for data beyond a version 40-M symbol's 2331
// bytes. No URI that IAM's length limits allow comes close.
var ErrQRTooLong = errors.New("mfa: data too long for a QR code")

// QR structure constants.
const (
	qrMinVersion = 1
	qrMaxVersion = 40
	qrQuietZone  = 4 // light border, in modules, that scanners need
	qrModeByte   = 0b0100
)

// Error correction codewords per block and number of blocks for level M,
// indexed by version (ISO/IEC 18004 table 9). Together with the number of
// codewords in a symbol they determine the block layout: the data codewords
// are split as evenly as possible, shorter blocks first.
var (
	qrECPerBlockM = [qrMaxVersion + 1]int{0,
		10, 16, 26, 18, 24, 16, 18, 22, 22, 26,
		30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
		26, 28, 28, 28, 28, 28, 28, 28, 28, 28,
		28, 28, 28, 28, 28, 28, 28, 28, 28, 28}
	qrBlocksM = [qrMaxVersion + 1]int{0,
		1, 1, 1, 2, 2, 4, 4, 4, 5, 5,
		5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
		17, 17, 18, 20, 21, 23, 25, 26, 28, 29,
		31, 33, 35, 37, 38, 40, 43, 45, 47, 49}
)

// QRCodePNG returns a PNG image of a QR code encoding uri, as
// CreateVirtualMFADevice returns in QRCodePNG. The image is black on white,
// with the 4-module quiet zone the standard requires and at least 300 pixels
// across (2 pixels per module at the least).
func QRCodePNG(uri string) ([]byte, error) {
	q, err := encodeQR([]byte(uri))
	if err != nil {
		return nil, err
	}
	return q.png()
}

// qrCode is a QR symbol: size×size modules, row-major, true = dark.
type qrCode struct {
	version int
	size    int
	mask    int
	dark    []bool
	fn      []bool // function-pattern modules, which data and masks skip
}

func (q *qrCode) get(x, y int) bool { return q.dark[y*q.size+x] }

// setFn sets a function-pattern module, reserving it from data.
func (q *qrCode) setFn(x, y int, dark bool) {
	q.dark[y*q.size+x] = dark
	q.fn[y*q.size+x] = true
}

// qrRawModules returns the number of modules of a version available for
// codewords: the whole square less finders with separators (3×64), format
// information (2×15 + the dark module), timing patterns, alignment patterns
// (25 each, less the 5 that overlap timing for those on row or column 6)
// and, from version 7, version information (2×18).
func qrRawModules(v int) int {
	size := 17 + 4*v
	n := size*size - 3*64 - 31 - 2*(size-16)
	if v >= 2 {
		a := v/7 + 2
		n -= 25*(a*a-3) - 10*(a-2)
	}
	if v >= 7 {
		n -= 36
	}
	return n
}

// qrDataCodewords returns how many data codewords a version-M symbol has.
func qrDataCodewords(v int) int {
	return qrRawModules(v)/8 - qrECPerBlockM[v]*qrBlocksM[v]
}

// qrCountBits is the width of the byte-mode character count field.
func qrCountBits(v int) int {
	if v <= 9 {
		return 8
	}
	return 16
}

// encodeQR builds the symbol for data, choosing the mask.
func encodeQR(data []byte) (*qrCode, error) { return encodeQRMask(data, -1) }

// encodeQRMask builds the symbol for data with the given mask (0-7), or the
// best one if mask is negative. Tests force masks to check each of them.
func encodeQRMask(data []byte, mask int) (*qrCode, error) {
	v := qrMinVersion
	for ; v <= qrMaxVersion; v++ {
		if 4+qrCountBits(v)+8*len(data) <= 8*qrDataCodewords(v) {
			break
		}
	}
	if v > qrMaxVersion {
		return nil, ErrQRTooLong
	}

	// Segment: mode, count, bytes; then terminator, byte alignment and
	// the alternating pad codewords the standard prescribes.
	capBits := 8 * qrDataCodewords(v)
	var bb qrBits
	bb.put(qrModeByte, 4)
	bb.put(len(data), qrCountBits(v))
	for _, c := range data {
		bb.put(int(c), 8)
	}
	bb.put(0, min(4, capBits-bb.n))
	bb.put(0, (8-bb.n%8)%8)
	for pad := 0xEC; bb.n < capBits; pad ^= 0xEC ^ 0x11 {
		bb.put(pad, 8)
	}

	q := newQRTemplate(v)
	q.placeData(qrInterleave(v, bb.bytes))

	// Choose the mask with the lowest penalty. Applying a mask twice
	// undoes it, so each candidate is applied, scored and removed.
	best, bestScore := mask, -1
	for m := 0; m < 8 && mask < 0; m++ {
		q.applyMask(m)
		q.drawFormat(m)
		if s := q.penalty(); bestScore < 0 || s < bestScore {
			best, bestScore = m, s
		}
		q.applyMask(m)
	}
	q.applyMask(best)
	q.drawFormat(best)
	q.mask = best
	return q, nil
}

// qrBits is a big-endian bit buffer.
type qrBits struct {
	bytes []byte
	n     int // bits written
}

func (b *qrBits) put(v, width int) {
	for i := width - 1; i >= 0; i-- {
		if b.n%8 == 0 {
			b.bytes = append(b.bytes, 0)
		}
		if v>>i&1 == 1 {
			b.bytes[b.n/8] |= 0x80 >> (b.n % 8)
		}
		b.n++
	}
}

// qrInterleave splits data into blocks, appends each block's Reed-Solomon
// codewords and interleaves the result as the standard orders it: the i-th
// data codeword of every block in turn, then the i-th EC codeword of each.
func qrInterleave(v int, data []byte) []byte {
	nb, ec := qrBlocksM[v], qrECPerBlockM[v]
	short := len(data) / nb
	numLong := len(data) % nb // the last numLong blocks hold one codeword more
	gen := rsGenerator(ec)
	blocks := make([][]byte, nb)
	ecs := make([][]byte, nb)
	off := 0
	for i := range nb {
		n := short
		if i >= nb-numLong {
			n++
		}
		blocks[i] = data[off : off+n]
		ecs[i] = rsRemainder(blocks[i], gen)
		off += n
	}
	out := make([]byte, 0, len(data)+nb*ec)
	for i := 0; i <= short; i++ {
		for _, b := range blocks {
			if i < len(b) {
				out = append(out, b[i])
			}
		}
	}
	for i := range ec {
		for _, e := range ecs {
			out = append(out, e[i])
		}
	}
	return out
}

// newQRTemplate returns a symbol with all function patterns drawn: timing,
// finders with separators, alignment patterns, reserved format areas (drawn
// for mask 0 until the mask is chosen), the dark module and version info.
func newQRTemplate(v int) *qrCode {
	size := 17 + 4*v
	q := &qrCode{version: v, size: size, dark: make([]bool, size*size), fn: make([]bool, size*size)}
	for i := range size {
		q.setFn(6, i, i%2 == 0)
		q.setFn(i, 6, i%2 == 0)
	}
	for _, c := range [][2]int{{3, 3}, {size - 4, 3}, {3, size - 4}} {
		for dy := -4; dy <= 4; dy++ {
			for dx := -4; dx <= 4; dx++ {
				x, y := c[0]+dx, c[1]+dy
				if x < 0 || y < 0 || x >= size || y >= size {
					continue
				}
				d := max(abs(dx), abs(dy))
				q.setFn(x, y, d != 2 && d != 4)
			}
		}
	}
	pos := qrAlignPositions(v)
	last := len(pos) - 1
	for i, cy := range pos {
		for j, cx := range pos {
			if i == 0 && j == 0 || i == 0 && j == last || i == last && j == 0 {
				continue // these corners are finder patterns
			}
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					q.setFn(cx+dx, cy+dy, max(abs(dx), abs(dy)) != 1)
				}
			}
		}
	}
	q.drawFormat(0)
	if v >= 7 {
		bits := qrVersionBits(v)
		for i := range 18 {
			dark := bits>>i&1 == 1
			a, b := size-11+i%3, i/3
			q.setFn(a, b, dark) // top right
			q.setFn(b, a, dark) // bottom left
		}
	}
	return q
}

// qrAlignPositions returns the row/column centres of alignment patterns:
// 6, then evenly spaced (with an even step) back from size-7. Version 32
// is the one whose step the standard rounds differently.
func qrAlignPositions(v int) []int {
	if v == 1 {
		return nil
	}
	n := v/7 + 2
	step := 26
	if v != 32 {
		step = (4*v + 2*n + 1) / (2*n - 2) * 2
	}
	pos := make([]int, n)
	pos[0] = 6
	for i, p := n-1, 17+4*v-7; i >= 1; i, p = i-1, p-step {
		pos[i] = p
	}
	return pos
}

// qrFormatBits returns the 15 format bits for level M and a mask: 5 data
// bits, a BCH(15,5) remainder, XORed with 101010000010010.
func qrFormatBits(mask int) int {
	const levelM = 0b00
	d := levelM<<3 | mask
	r := d
	for range 10 {
		r = r<<1 ^ (r>>9)*0x537
	}
	return (d<<10 | r) ^ 0x5412
}

// qrVersionBits returns the 18 version bits: the version and a
// BCH(18,6) remainder.
func qrVersionBits(v int) int {
	r := v
	for range 12 {
		r = r<<1 ^ (r>>11)*0x1F25
	}
	return v<<12 | r
}

// drawFormat writes both copies of the format bits (bit 0 is the least
// significant) and the always-dark module.
func (q *qrCode) drawFormat(mask int) {
	bits := qrFormatBits(mask)
	bit := func(i int) bool { return bits>>i&1 == 1 }
	s := q.size
	// Around the top-left finder: up column 8, then left along row 8,
	// skipping the timing patterns.
	for i := 0; i <= 5; i++ {
		q.setFn(8, i, bit(i))
	}
	q.setFn(8, 7, bit(6))
	q.setFn(8, 8, bit(7))
	q.setFn(7, 8, bit(8))
	for i := 9; i < 15; i++ {
		q.setFn(14-i, 8, bit(i))
	}
	// Second copy: row 8 under the top-right finder, column 8 beside the
	// bottom-left one.
	for i := 0; i < 8; i++ {
		q.setFn(s-1-i, 8, bit(i))
	}
	for i := 8; i < 15; i++ {
		q.setFn(8, s-15+i, bit(i))
	}
	q.setFn(8, s-8, true)
}

// placeData writes codewords, most significant bit first, in the standard
// zigzag: two-module-wide columns from the right edge leftwards, alternately
// upwards and downwards, skipping the vertical timing column and every
// function module. Modules left over (remainder bits) stay light.
func (q *qrCode) placeData(cw []byte) {
	i, total := 0, len(cw)*8
	for right := q.size - 1; right >= 1; right -= 2 {
		if right == 6 {
			right = 5
		}
		upward := (right+1)&2 == 0
		for vert := range q.size {
			y := vert
			if upward {
				y = q.size - 1 - vert
			}
			for j := range 2 {
				x := right - j
				if q.fn[y*q.size+x] || i >= total {
					continue
				}
				q.dark[y*q.size+x] = cw[i/8]>>(7-i%8)&1 == 1
				i++
			}
		}
	}
}

// qrMask reports whether mask m inverts the module in row y, column x.
func qrMask(m, x, y int) bool {
	switch m {
	case 0:
		return (x+y)%2 == 0
	case 1:
		return y%2 == 0
	case 2:
		return x%3 == 0
	case 3:
		return (x+y)%3 == 0
	case 4:
		return (y/2+x/3)%2 == 0
	case 5:
		return x*y%2+x*y%3 == 0
	case 6:
		return (x*y%2+x*y%3)%2 == 0
	default:
		return ((x+y)%2+x*y%3)%2 == 0
	}
}

// applyMask XORs mask m into every non-function module.
func (q *qrCode) applyMask(m int) {
	for y := range q.size {
		for x := range q.size {
			if !q.fn[y*q.size+x] && qrMask(m, x, y) {
				q.dark[y*q.size+x] = !q.dark[y*q.size+x]
			}
		}
	}
}

// penalty scores the symbol by the standard's four rules; lower is easier
// to scan. The score only guides the mask choice: any mask decodes, since
// the format bits name it.
func (q *qrCode) penalty() int {
	s := q.size
	score := 0
	line := make([]bool, s)
	for dir := range 2 {
		for a := range s {
			for b := range s {
				if dir == 0 {
					line[b] = q.get(b, a)
				} else {
					line[b] = q.get(a, b)
				}
			}
			score += qrLinePenalty(line)
		}
	}
	// Rule 2: 3 per 2×2 block of one colour.
	for y := 0; y < s-1; y++ {
		for x := 0; x < s-1; x++ {
			c := q.get(x, y)
			if c == q.get(x+1, y) && c == q.get(x, y+1) && c == q.get(x+1, y+1) {
				score += 3
			}
		}
	}
	// Rule 4: 10 per full 5% that the dark share is away from 50%.
	dark := 0
	for _, d := range q.dark {
		if d {
			dark++
		}
	}
	total := s * s
	score += 10 * (abs(dark*20-total*10) / total)
	return score
}

// qrLinePenalty applies rules 1 and 3 to one row or column: 3 + (n-5) for
// each run of n ≥ 5 same-coloured modules, and 40 for each finder-like
// 1:1:3:1:1 pattern with four light modules on one side.
func qrLinePenalty(line []bool) int {
	score, run := 0, 1
	for i := 1; i <= len(line); i++ {
		if i < len(line) && line[i] == line[i-1] {
			run++
			continue
		}
		if run >= 5 {
			score += run - 2
		}
		run = 1
	}
	patA := [11]bool{true, false, true, true, true, false, true, false, false, false, false}
	patB := [11]bool{false, false, false, false, true, false, true, true, true, false, true}
	for i := 0; i+11 <= len(line); i++ {
		if [11]bool(line[i:i+11]) == patA || [11]bool(line[i:i+11]) == patB {
			score += 40
		}
	}
	return score
}

// png renders the symbol with its quiet zone as a 1-bit PNG.
func (q *qrCode) png() ([]byte, error) {
	n := q.size + 2*qrQuietZone
	scale := max(2, (300+n-1)/n)
	img := image.NewPaletted(image.Rect(0, 0, n*scale, n*scale), color.Palette{color.White, color.Black})
	for y := range q.size {
		for x := range q.size {
			if !q.get(x, y) {
				continue
			}
			x0, y0 := (x+qrQuietZone)*scale, (y+qrQuietZone)*scale
			for py := y0; py < y0+scale; py++ {
				row := img.Pix[py*img.Stride:]
				for px := x0; px < x0+scale; px++ {
					row[px] = 1
				}
			}
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Reed-Solomon over GF(256) with the QR polynomial x^8+x^4+x^3+x^2+1.

var gfExp, gfLog = func() (exp [512]byte, log [256]byte) {
	x := 1
	for i := range 255 {
		exp[i] = byte(x)
		log[x] = byte(i)
		x <<= 1
		if x&0x100 != 0 {
			x ^= 0x11D
		}
	}
	for i := 255; i < 512; i++ {
		exp[i] = exp[i-255]
	}
	return
}()

func gfMul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return gfExp[int(gfLog[a])+int(gfLog[b])]
}

// rsGenerator returns the generator polynomial (x-α^0)(x-α^1)…(x-α^(n-1)),
// highest degree first, leading coefficient 1.
func rsGenerator(n int) []byte {
	g := []byte{1}
	for i := range n {
		next := make([]byte, len(g)+1)
		for j, c := range g {
			next[j] ^= c                    // c·x
			next[j+1] ^= gfMul(c, gfExp[i]) // c·α^i (minus is plus in GF(2^8))
		}
		g = next
	}
	return g
}

// rsRemainder returns the len(gen)-1 EC codewords of data: the remainder of
// data(x)·x^n divided by gen(x).
func rsRemainder(data, gen []byte) []byte {
	n := len(gen) - 1
	rem := make([]byte, n)
	for _, d := range data {
		f := d ^ rem[0]
		copy(rem, rem[1:])
		rem[n-1] = 0
		for i := range n {
			rem[i] ^= gfMul(gen[i+1], f)
		}
	}
	return rem
}
