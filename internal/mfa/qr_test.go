package mfa

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The tests below check the encoder against values from ISO/IEC 18004 (and
// its widely published examples), and decode every symbol with a reader
// written here from the standard's description, which verifies the
// Reed-Solomon codewords by their syndromes rather than by re-encoding.

func TestRSKnownVector(t *testing.T) {
	// "HELLO WORLD" as version 1-M: the standard worked example's data
	// codewords and their 10 EC codewords.
	data := []byte{32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17}
	want := []byte{196, 35, 39, 119, 235, 215, 231, 226, 93, 23}
	if got := rsRemainder(data, rsGenerator(10)); !bytes.Equal(got, want) {
		t.Errorf("EC codewords = %v, want %v", got, want)
	}
}

func TestFormatBits(t *testing.T) {
	// Level M rows of the format information table.
	want := []string{"101010000010010", "101000100100101", "101111001111100", "101101101001011",
		"100010111111001", "100000011001110", "100111110010111", "100101010100000"}
	for m, w := range want {
		if got := fmt.Sprintf("%015b", qrFormatBits(m)); got != w {
			t.Errorf("format bits for mask %d = %s, want %s", m, got, w)
		}
	}
}

func TestVersionBits(t *testing.T) {
	want := map[int]int{7: 0x07C94, 8: 0x085BC, 9: 0x09A99, 10: 0x0A4D3, 20: 0x149A6, 32: 0x209D5, 40: 0x28C69}
	for v, w := range want {
		if got := qrVersionBits(v); got != w {
			t.Errorf("version bits for %d = %05X, want %05X", v, got, w)
		}
	}
	for v := 7; v <= qrMaxVersion; v++ {
		if gf2Mod(qrVersionBits(v), 0x1F25) != 0 || qrVersionBits(v)>>12 != v {
			t.Errorf("version %d bits are not a BCH codeword", v)
		}
	}
}

// gf2Mod returns a mod g for polynomials over GF(2) held in bits.
func gf2Mod(a, g int) int {
	gl := bitLen(g)
	for bitLen(a) >= gl {
		a ^= g << (bitLen(a) - gl)
	}
	return a
}

func bitLen(x int) int {
	n := 0
	for ; x > 0; x >>= 1 {
		n++
	}
	return n
}

// Alignment pattern centres (ISO/IEC 18004 annex E).
var alignTable = [][]int{nil, nil,
	{6, 18}, {6, 22}, {6, 26}, {6, 30}, {6, 34},
	{6, 22, 38}, {6, 24, 42}, {6, 26, 46}, {6, 28, 50}, {6, 30, 54}, {6, 32, 58}, {6, 34, 62},
	{6, 26, 46, 66}, {6, 26, 48, 70}, {6, 26, 50, 74}, {6, 30, 54, 78}, {6, 30, 56, 82}, {6, 30, 58, 86}, {6, 34, 62, 90},
	{6, 28, 50, 72, 94}, {6, 26, 50, 74, 98}, {6, 30, 54, 78, 102}, {6, 28, 54, 80, 106}, {6, 32, 58, 84, 110}, {6, 30, 58, 86, 114}, {6, 34, 62, 90, 118},
	{6, 26, 50, 74, 98, 122}, {6, 30, 54, 78, 102, 126}, {6, 26, 52, 78, 104, 130}, {6, 30, 56, 82, 108, 134}, {6, 34, 60, 86, 112, 138}, {6, 30, 58, 86, 114, 142}, {6, 34, 62, 90, 118, 146},
	{6, 30, 54, 78, 102, 126, 150}, {6, 24, 50, 76, 102, 128, 154}, {6, 28, 54, 80, 106, 132, 158}, {6, 32, 58, 84, 110, 136, 162}, {6, 26, 54, 82, 110, 138, 166}, {6, 30, 58, 86, 114, 142, 170},
}

// Total codewords per version and byte-mode capacity at level M.
var (
	totalCodewords = []int{0, 26, 44, 70, 100, 134, 172, 196, 242, 292, 346, 404, 466, 532, 581, 655, 733, 815, 901, 991, 1085,
		1156, 1258, 1364, 1474, 1588, 1706, 1828, 1921, 2051, 2185, 2323, 2465, 2611, 2761, 2876, 3034, 3196, 3362, 3532, 3706}
	byteCapacityM = []int{0, 14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560, 624, 666,
		711, 779, 857, 911, 997, 1059, 1125, 1190, 1264, 1370, 1452, 1538, 1628, 1722, 1809, 1911, 1989, 2099, 2213, 2331}
)

func TestVersionTables(t *testing.T) {
	for v := qrMinVersion; v <= qrMaxVersion; v++ {
		if got := qrAlignPositions(v); fmt.Sprint(got) != fmt.Sprint(alignTable[v]) {
			t.Errorf("v%d alignment %v, want %v", v, got, alignTable[v])
		}
		q := newQRTemplate(v)
		free := 0
		for _, f := range q.fn {
			if !f {
				free++
			}
		}
		if free != qrRawModules(v) {
			t.Errorf("v%d: template leaves %d modules, formula says %d", v, free, qrRawModules(v))
		}
		if free/8 != totalCodewords[v] {
			t.Errorf("v%d: %d codewords, want %d", v, free/8, totalCodewords[v])
		}
		rem := 0
		switch {
		case v >= 2 && v <= 6:
			rem = 7
		case v >= 14 && v <= 20 || v >= 28 && v <= 34:
			rem = 3
		case v >= 21 && v <= 27:
			rem = 4
		}
		if free%8 != rem {
			t.Errorf("v%d: %d remainder bits, want %d", v, free%8, rem)
		}
		bits := 8*qrDataCodewords(v) - 4 - qrCountBits(v)
		if bits/8 != byteCapacityM[v] {
			t.Errorf("v%d-M holds %d bytes, want %d", v, bits/8, byteCapacityM[v])
		}
	}
}

func TestQRVersionChoice(t *testing.T) {
	for v := qrMinVersion; v <= qrMaxVersion; v++ {
		q, err := encodeQR(make([]byte, byteCapacityM[v]))
		if err != nil || q.version != v {
			t.Errorf("%d bytes: version %d, %v; want %d", byteCapacityM[v], q.version, err, v)
		}
		if v < qrMaxVersion {
			q, err = encodeQR(make([]byte, byteCapacityM[v]+1))
			if err != nil || q.version != v+1 {
				t.Errorf("%d bytes: version %d, %v; want %d", byteCapacityM[v]+1, q.version, err, v+1)
			}
		}
	}
	if _, err := QRCodePNG(strings.Repeat("x", 2332)); !errors.Is(err, ErrQRTooLong) {
		t.Errorf("2332 bytes: err = %v, want ErrQRTooLong", err)
	}
}

// decodeQR reads a symbol back: format and version information, unmasking,
// the zigzag, de-interleaving, Reed-Solomon syndromes and the byte segment.
func decodeQR(dark []bool, size int) ([]byte, int, error) {
	v := (size - 17) / 4
	if size != 17+4*v || v < 1 || v > 40 {
		return nil, 0, fmt.Errorf("bad size %d", size)
	}
	at := func(row, col int) bool { return dark[row*size+col] }
	rd := func(pos [][2]int) int {
		x := 0
		for i, p := range pos {
			if at(p[0], p[1]) {
				x |= 1 << i
			}
		}
		return x
	}

	// Format information, both copies, bit 0 first, as (row, column).
	var f1, f2 [][2]int
	for i := 0; i < 15; i++ {
		switch {
		case i < 6:
			f1 = append(f1, [2]int{i, 8})
		case i < 8:
			f1 = append(f1, [2]int{i + 1, 8})
		case i == 8:
			f1 = append(f1, [2]int{8, 7})
		default:
			f1 = append(f1, [2]int{8, 14 - i})
		}
		if i < 8 {
			f2 = append(f2, [2]int{8, size - 1 - i})
		} else {
			f2 = append(f2, [2]int{size - 15 + i, 8})
		}
	}
	format := rd(f1)
	if rd(f2) != format {
		return nil, 0, fmt.Errorf("format copies differ: %015b %015b", format, rd(f2))
	}
	format ^= 0x5412
	if gf2Mod(format, 0x537) != 0 {
		return nil, 0, fmt.Errorf("format %015b fails BCH", format)
	}
	if format>>13 != 0 {
		return nil, 0, fmt.Errorf("level bits %02b, want M", format>>13)
	}
	mask := format >> 10 & 7
	if !at(size-8, 8) {
		return nil, 0, errors.New("dark module missing")
	}

	// Function modules.
	fn := make([]bool, size*size)
	mark := func(r0, c0, r1, c1 int) { // inclusive rectangle
		for r := r0; r <= r1; r++ {
			for c := c0; c <= c1; c++ {
				fn[r*size+c] = true
			}
		}
	}
	mark(0, 0, 8, 8)
	mark(0, size-8, 8, size-1)
	mark(size-8, 0, size-1, 8)
	mark(6, 0, 6, size-1)
	mark(0, 6, size-1, 6)
	al := alignTable[v]
	for i, r := range al {
		for j, c := range al {
			if (i == 0 && (j == 0 || j == len(al)-1)) || (j == 0 && i == len(al)-1) {
				continue
			}
			mark(r-2, c-2, r+2, c+2)
		}
	}
	if v >= 7 {
		var p1, p2 [][2]int
		for i := 0; i < 18; i++ {
			p1 = append(p1, [2]int{i / 3, size - 11 + i%3})
			p2 = append(p2, [2]int{size - 11 + i%3, i / 3})
		}
		if rd(p1) != rd(p2) || rd(p1)>>12 != v || gf2Mod(rd(p1), 0x1F25) != 0 {
			return nil, 0, fmt.Errorf("version information %05X / %05X for v%d", rd(p1), rd(p2), v)
		}
		mark(0, size-11, 5, size-9)
		mark(size-11, 0, size-9, 5)
	}

	// Zigzag over column pairs from the right, upwards first; the pair
	// that would hold the timing column shifts one to the left.
	var bits []bool
	pair := 0
	for col := size - 1; col > 0; col -= 2 {
		if col == 6 {
			col--
		}
		for k := 0; k < size; k++ {
			row := k
			if pair%2 == 0 {
				row = size - 1 - k
			}
			for _, c := range []int{col, col - 1} {
				if fn[row*size+c] {
					continue
				}
				i, j := row, c
				var m bool
				switch mask {
				case 0:
					m = (i+j)%2 == 0
				case 1:
					m = i%2 == 0
				case 2:
					m = j%3 == 0
				case 3:
					m = (i+j)%3 == 0
				case 4:
					m = (i/2+j/3)%2 == 0
				case 5:
					m = (i*j)%2+(i*j)%3 == 0
				case 6:
					m = ((i*j)%2+(i*j)%3)%2 == 0
				case 7:
					m = ((i+j)%2+(i*j)%3)%2 == 0
				}
				bits = append(bits, at(row, c) != m)
			}
		}
		pair++
	}
	cw := make([]byte, len(bits)/8)
	for i := range cw {
		for b := 0; b < 8; b++ {
			if bits[8*i+b] {
				cw[i] |= 0x80 >> b
			}
		}
	}
	for _, b := range bits[len(cw)*8:] {
		if b {
			return nil, 0, errors.New("remainder bit set")
		}
	}

	// De-interleave and check each block's syndromes S_i = c(α^i).
	nb, ec := qrBlocksM[v], qrECPerBlockM[v]
	nData := len(cw) - nb*ec
	short, long := nData/nb, nData%nb
	blocks := make([][]byte, nb)
	k := 0
	for i := 0; i <= short; i++ {
		for b := 0; b < nb; b++ {
			if i < short || b >= nb-long {
				blocks[b] = append(blocks[b], cw[k])
				k++
			}
		}
	}
	for i := 0; i < ec; i++ {
		for b := 0; b < nb; b++ {
			blocks[b] = append(blocks[b], cw[k])
			k++
		}
	}
	var data []byte
	for b, blk := range blocks {
		for i := 0; i < ec; i++ {
			var s byte
			for _, c := range blk {
				s = gfMul(s, gfExp[i]) ^ c
			}
			if s != 0 {
				return nil, 0, fmt.Errorf("block %d: syndrome %d is %d", b, i, s)
			}
		}
		data = append(data, blk[:len(blk)-ec]...)
	}

	// Byte segment, terminator, padding.
	pos := 0
	read := func(n int) int {
		x := 0
		for ; n > 0; n-- {
			x = x<<1 | int(data[pos/8]>>(7-pos%8)&1)
			pos++
		}
		return x
	}
	if m := read(4); m != 0b0100 {
		return nil, 0, fmt.Errorf("mode %04b", m)
	}
	countBits := 16
	if v <= 9 {
		countBits = 8
	}
	n := read(countBits)
	if pos+8*n > 8*len(data) {
		return nil, 0, fmt.Errorf("count %d too large", n)
	}
	out := make([]byte, n)
	for i := range out {
		out[i] = byte(read(8))
	}
	if t := min(4, 8*len(data)-pos); read(t) != 0 {
		return nil, 0, errors.New("bad terminator")
	}
	if pos%8 != 0 && read(8-pos%8) != 0 {
		return nil, 0, errors.New("bad bit padding")
	}
	for i := pos / 8; i < len(data); i++ {
		if want := []byte{0xEC, 0x11}[(i-pos/8)%2]; data[i] != want {
			return nil, 0, fmt.Errorf("pad codeword %d is %#x, want %#x", i, data[i], want)
		}
	}
	return out, mask, nil
}

// checkPatterns checks finders, separators, timing and alignment patterns.
func checkPatterns(t *testing.T, q *qrCode) {
	t.Helper()
	s := q.size
	for _, c := range [][2]int{{0, 0}, {s - 7, 0}, {0, s - 7}} {
		for dy := -1; dy <= 7; dy++ {
			for dx := -1; dx <= 7; dx++ {
				x, y := c[0]+dx, c[1]+dy
				if x < 0 || y < 0 || x >= s || y >= s {
					continue
				}
				ring := max(abs(2*dx-6), abs(2*dy-6)) / 2 // 0 centre … 3 edge, 4 separator
				if want := ring != 2 && ring != 4; q.get(x, y) != want {
					t.Fatalf("v%d finder at %v: module (%d,%d) is %v", q.version, c, x, y, q.get(x, y))
				}
			}
		}
	}
	for i := 8; i < s-8; i++ {
		if q.get(i, 6) != (i%2 == 0) || q.get(6, i) != (i%2 == 0) {
			t.Fatalf("v%d timing module %d wrong", q.version, i)
		}
	}
	al := alignTable[q.version]
	for i, y := range al {
		for j, x := range al {
			if (i == 0 && (j == 0 || j == len(al)-1)) || (j == 0 && i == len(al)-1) {
				continue
			}
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					if want := max(abs(dx), abs(dy)) != 1; q.get(x+dx, y+dy) != want {
						t.Fatalf("v%d alignment at (%d,%d) wrong", q.version, x, y)
					}
				}
			}
		}
	}
}

func TestQRDecodesAllVersionsAndMasks(t *testing.T) {
	lengths := []int{0, 1}
	for v := qrMinVersion; v <= qrMaxVersion; v++ {
		lengths = append(lengths, byteCapacityM[v]-1, byteCapacityM[v])
	}
	for _, n := range lengths {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*7 + n)
		}
		masks := []int{-1}
		if n%3 == 0 || n < 200 {
			masks = []int{-1, 0, 1, 2, 3, 4, 5, 6, 7}
		}
		for _, m := range masks {
			q, err := encodeQRMask(data, m)
			if err != nil {
				t.Fatal(err)
			}
			checkPatterns(t, q)
			got, mask, err := decodeQR(q.dark, q.size)
			if err != nil {
				t.Fatalf("%d bytes, mask %d (v%d): %v", n, m, q.version, err)
			}
			if !bytes.Equal(got, data) || mask != q.mask || (m >= 0 && mask != m) {
				t.Fatalf("%d bytes, mask %d: decoded %d bytes with mask %d", n, m, len(got), mask)
			}
		}
	}
}

func TestQRCodePNG(t *testing.T) {
	uri := URI(rfcSecret, "root-account-mfa-device", "123456789012", AWSIssuer)
	b, err := QRCodePNG(uri)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	q, _ := encodeQR([]byte(uri))
	n := q.size + 2*qrQuietZone
	w := img.Bounds().Dx()
	if img.Bounds().Dy() != w || w%n != 0 || w < 300 {
		t.Fatalf("image %v for %d modules", img.Bounds(), n)
	}
	scale := w / n
	// Sample every module's centre; the quiet zone must be white.
	dark := make([]bool, q.size*q.size)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			r, _, _, _ := img.At(x*scale+scale/2, y*scale+scale/2).RGBA()
			d := r < 0x8000
			inside := x >= qrQuietZone && y >= qrQuietZone && x < n-qrQuietZone && y < n-qrQuietZone
			if !inside {
				if d {
					t.Fatalf("quiet zone module (%d,%d) is dark", x, y)
				}
				continue
			}
			dark[(y-qrQuietZone)*q.size+x-qrQuietZone] = d
		}
	}
	got, _, err := decodeQR(dark, q.size)
	if err != nil || string(got) != uri {
		t.Fatalf("PNG decodes to %q, %v", got, err)
	}
}

func TestQRStable(t *testing.T) {
	// A fixed URI always gives the same symbol (version, mask, modules),
	// so a change to the encoder cannot slip by unnoticed. The symbol was
	// checked by the decoder above and by an external scanner (zbarimg).
	uri := URI(rfcSecret, "root-account-mfa-device", "123456789012", AWSIssuer)
	q, err := encodeQR([]byte(uri))
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, d := range q.dark {
		if d {
			sb.WriteByte('1')
		} else {
			sb.WriteByte('0')
		}
	}
	sum := sha256.Sum256([]byte(sb.String()))
	got := fmt.Sprintf("v%d mask %d %s", q.version, q.mask, hex.EncodeToString(sum[:8]))
	if want := "v8 mask 2 3c83a088ea9d2748"; got != want {
		t.Errorf("symbol = %s, want %s", got, want)
	}
}

// TestQRZbar scans PNGs with zbarimg when it is installed, as a check by a
// reader that shares nothing with this package.
func TestQRZbar(t *testing.T) {
	if _, err := exec.LookPath("zbarimg"); err != nil {
		t.Skip("zbarimg not installed")
	}
	dir := t.TempDir()
	uris := []string{
		URI(NewSecret(), "root-account-mfa-device", "123456789012", AWSIssuer),
		URI(NewSecret(), strings.Repeat("n", 226), "my-account-alias", AWSIssuer),
		URI(rfcSecret, "alice", "123456789012", ""),
		strings.Repeat("0123456789", 233),
	}
	for i, u := range uris {
		b, err := QRCodePNG(u)
		if err != nil {
			t.Fatal(err)
		}
		f := fmt.Sprintf("%s/%d.png", dir, i)
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("zbarimg", "-q", "--raw", f).Output()
		if got := strings.TrimSuffix(string(out), "\n"); err != nil || got != u {
			t.Errorf("zbarimg read %q, %v; want %q", got, err, u)
		}
	}
}

func TestDecoderNoticesDamage(t *testing.T) {
	// The reader must not be vacuous: one flipped data module breaks a
	// syndrome, and a flipped format module breaks the format check.
	q, err := encodeQR([]byte("otpauth://totp/x@y?secret=GEZDGNBVGY3TQOJQ"))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range q.fn {
		if f {
			continue
		}
		dark := append([]bool(nil), q.dark...)
		dark[i] = !dark[i]
		if _, _, err := decodeQR(dark, q.size); err == nil {
			// A flipped remainder bit is caught too, so every free module counts.
			t.Fatalf("flipping module %d went unnoticed", i)
		}
	}
	dark := append([]bool(nil), q.dark...)
	dark[8*q.size+0] = !dark[8*q.size+0] // format bit 14, first copy
	if _, _, err := decodeQR(dark, q.size); err == nil {
		t.Fatal("damaged format information went unnoticed")
	}
}

func TestLinePenalty(t *testing.T) {
	row := func(s string) []bool {
		b := make([]bool, len(s))
		for i := range s {
			b[i] = s[i] == '1'
		}
		return b
	}
	tests := []struct {
		line string
		want int
	}{
		{"0101", 0},
		{"1111", 0},
		{"11111", 3},        // run of 5
		{"1111111", 5},      // 3 + (7-5)
		{"0000011111", 6},   // two runs of 5
		{"10111010000", 40}, // finder-like; the 4 light modules are no run
		{"00001011101", 40},
	}
	for _, tt := range tests {
		if got := qrLinePenalty(row(tt.line)); got != tt.want {
			t.Errorf("penalty(%s) = %d, want %d", tt.line, got, tt.want)
		}
	}
}
