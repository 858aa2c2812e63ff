package checksum

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"hash/crc64"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
)

// pattern returns n deterministic bytes that are not periodic in any small
// power of two, so slicing-table bugs cannot cancel out.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i%251) ^ byte(i>>11)
	}
	return b
}

// refCRC64NVME is a bit-at-a-time CRC-64/NVME written from the normal-form
// polynomial, independent of the reflected constant used by the package.
func refCRC64NVME(p []byte) uint64 {
	crc := ^uint64(0)
	for _, b := range p {
		crc ^= uint64(bits.Reverse8(b)) << 56
		for range 8 {
			if crc>>63 != 0 {
				crc = crc<<1 ^ 0xad93d23594c93659
			} else {
				crc <<= 1
			}
		}
	}
	return bits.Reverse64(crc) ^ ^uint64(0)
}

// oracle computes the digest of p with standard-library code (plus the
// reference CRC64) only, never the package's own implementations.
func oracle(t testing.TB, alg Algorithm, p []byte) []byte {
	switch alg {
	case CRC32:
		return binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(p))
	case CRC32C:
		return binary.BigEndian.AppendUint32(nil, crc32.Checksum(p, crc32.MakeTable(crc32.Castagnoli)))
	case CRC64NVME:
		// As the AWS SDK does: hash/crc64 with the reflected polynomial.
		std := crc64.Checksum(p, crc64.MakeTable(0x9a6c9329ac4bc9b5))
		if len(p) <= 1<<20 {
			if ref := refCRC64NVME(p); ref != std {
				t.Fatalf("oracles disagree: bitwise %#x, hash/crc64 %#x", ref, std)
			}
		}
		return binary.BigEndian.AppendUint64(nil, std)
	case SHA1:
		s := sha1.Sum(p)
		return s[:]
	case SHA256:
		s := sha256.Sum256(p)
		return s[:]
	}
	t.Fatalf("no oracle for %q", alg)
	return nil
}

func sum(alg Algorithm, p []byte) []byte {
	h := New(alg)
	h.Write(p)
	return h.Sum(nil)
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestPolynomialReflection(t *testing.T) {
	if got := bits.Reverse64(0xad93d23594c93659); got != crc64NVMEPoly {
		t.Fatalf("reflected poly = %#x, const = %#x", got, uint64(crc64NVMEPoly))
	}
}

func TestKnownVectors(t *testing.T) {
	// Published check values ("123456789") and empty-input digests.
	cases := []struct {
		alg          Algorithm
		empty, check string // hex
		helloWorld   string // base64 as S3/AWS SDK send it
	}{
		{CRC32, "00000000", "cbf43926", "DUoRhQ=="},
		{CRC32C, "00000000", "e3069283", "yZRlqg=="},
		{CRC64NVME, "0000000000000000", "ae8b14860a799888", "jSnVw/bqjr4="},
		{SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709",
			"f7c3bc1d808e04732adf679965ccc34ca7ae3441",
			"Kq5sNclPz7QV2+lfQIuc6R7oRu0="},
		{SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			"15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225",
			"uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="},
	}
	mib := pattern(1 << 20)
	for _, c := range cases {
		t.Run(string(c.alg), func(t *testing.T) {
			if got := sum(c.alg, nil); !bytes.Equal(got, mustHex(c.empty)) {
				t.Errorf("empty = %x, want %s", got, c.empty)
			}
			if got := sum(c.alg, []byte("123456789")); !bytes.Equal(got, mustHex(c.check)) {
				t.Errorf("check = %x, want %s", got, c.check)
			}
			if got := Encode(sum(c.alg, []byte("hello world"))); got != c.helloWorld {
				t.Errorf("hello world = %s, want %s", got, c.helloWorld)
			}
			for _, in := range [][]byte{nil, []byte("123456789"), []byte("hello world"), mib} {
				if got, want := sum(c.alg, in), oracle(t, c.alg, in); !bytes.Equal(got, want) {
					t.Errorf("len %d: got %x, oracle %x", len(in), got, want)
				}
			}
			if got := len(sum(c.alg, mib)); got != c.alg.Size() || New(c.alg).Size() != got {
				t.Errorf("digest size %d, Size() %d", got, c.alg.Size())
			}
		})
	}
}

// Writes split at arbitrary points must not change the result; this
// exercises the slicing loop and byte tail of CRC64NVME at every alignment.
func TestIncrementalWrites(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := pattern(70_000)
	for _, alg := range Algorithms() {
		for n := range 40 {
			in := data[:n]
			if !bytes.Equal(sum(alg, in), oracle(t, alg, in)) {
				t.Fatalf("%s: short input %d mismatch", alg, n)
			}
		}
		want := oracle(t, alg, data)
		for range 20 {
			h := New(alg)
			for p := data; len(p) > 0; {
				k := min(len(p), rng.IntN(5000))
				h.Write(p[:k])
				p = p[k:]
			}
			if got := h.Sum(nil); !bytes.Equal(got, want) {
				t.Fatalf("%s: chunked %x, want %x", alg, got, want)
			}
			h.Reset()
			h.Write(data)
			if got := h.Sum(nil); !bytes.Equal(got, want) {
				t.Fatalf("%s: after Reset %x, want %x", alg, got, want)
			}
		}
	}
}

func TestParseAlgorithm(t *testing.T) {
	for _, s := range []string{"crc32", "CRC32", "Crc32"} {
		if a, err := ParseAlgorithm(s); err != nil || a != CRC32 {
			t.Errorf("ParseAlgorithm(%q) = %q, %v", s, a, err)
		}
	}
	want := map[string]Algorithm{"cRc32c": CRC32C, "crc64nvme": CRC64NVME, "shA1": SHA1, "sHA256": SHA256}
	for s, w := range want {
		if a, err := ParseAlgorithm(s); err != nil || a != w {
			t.Errorf("ParseAlgorithm(%q) = %q, %v", s, a, err)
		}
	}
	for _, s := range []string{"", "md5", "crc64", "sha-256", "SHA512", " crc32", "crc32 "} {
		if _, err := ParseAlgorithm(s); !errors.Is(err, ErrUnknownAlgorithm) {
			t.Errorf("ParseAlgorithm(%q) err = %v", s, err)
		}
	}
	if got := len(Algorithms()); got != 5 {
		t.Errorf("Algorithms() has %d entries", got)
	}
	if Algorithm("MD5").Valid() || Algorithm("crc32").Valid() {
		t.Error("non-canonical algorithm reported valid")
	}
}

func TestHeaderNames(t *testing.T) {
	want := map[Algorithm]string{
		CRC32:     "x-amz-checksum-crc32",
		CRC32C:    "x-amz-checksum-crc32c",
		CRC64NVME: "x-amz-checksum-crc64nvme",
		SHA1:      "x-amz-checksum-sha1",
		SHA256:    "x-amz-checksum-sha256",
	}
	for _, a := range Algorithms() {
		if got := HeaderName(a); got != want[a] || a.HeaderName() != got {
			t.Errorf("HeaderName(%s) = %q", a, got)
		}
		// Both raw and Go-canonicalised header spellings map back.
		for _, h := range []string{want[a], strings.ToUpper(want[a]), "X-Amz-Checksum-" + strings.ToUpper(string(a[:1])) + strings.ToLower(string(a[1:]))} {
			if got, ok := AlgorithmFromHeader(h); !ok || got != a {
				t.Errorf("AlgorithmFromHeader(%q) = %q, %v", h, got, ok)
			}
		}
	}
	for _, h := range []string{"x-amz-checksum-algorithm", "X-Amz-Checksum-Type", "x-amz-checksum-mode", "x-amz-checksum-", "content-md5", "x-amz-checksum"} {
		if a, ok := AlgorithmFromHeader(h); ok {
			t.Errorf("AlgorithmFromHeader(%q) = %q", h, a)
		}
	}
	if HeaderName("bogus") != "" {
		t.Error("HeaderName of unknown algorithm not empty")
	}
}

func TestNewPanicsOnUnknown(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New(bogus) did not panic")
		}
	}()
	New("bogus")
}

func TestDecode(t *testing.T) {
	for _, a := range Algorithms() {
		d := sum(a, []byte("hello world"))
		s := Encode(d)
		got, err := Decode(a, s)
		if err != nil || !bytes.Equal(got, d) {
			t.Errorf("%s: Decode(%q) = %x, %v", a, s, got, err)
		}
		if want := base64.StdEncoding.EncodeToString(d); s != want {
			t.Errorf("%s: Encode = %q, want %q", a, s, want)
		}
	}
	bad := []struct {
		alg Algorithm
		s   string
	}{
		{CRC32, ""},
		{CRC32, "DUoRhQ="},      // truncated
		{CRC32, "DUoRhQ"},       // unpadded
		{CRC32, "DUoRhQ==="},    // too long
		{CRC32, "jSnVw/bqjr4="}, // CRC64 value for CRC32
		{CRC64NVME, "DUoRhQ=="}, // CRC32 value for CRC64
		{CRC32, "DUoR*Q=="},     // bad alphabet
		{CRC32, "DUoR-Q=="},     // URL alphabet
		{CRC32, "DUoRhR=="},     // non-canonical trailing bits
		{CRC32, "DUo\nhQ=="},    // newline base64 would skip
		{CRC32, "DUoRhQ==\r"},   // trailing CR
		{CRC32C, "yZRl qg="},    // space
		{SHA1, "Kq5sNclPz7QV2+lfQIuc6R7oRu0"},
		{SHA256, "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=="},
		{SHA256, "Kq5sNclPz7QV2+lfQIuc6R7oRu0="}, // SHA1 value for SHA256
	}
	for _, c := range bad {
		if d, err := Decode(c.alg, c.s); !errors.Is(err, ErrInvalidChecksum) {
			t.Errorf("Decode(%s, %q) = %x, %v; want ErrInvalidChecksum", c.alg, c.s, d, err)
		}
	}
	if _, err := Decode("MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Errorf("Decode(MD5) err = %v", err)
	}
}

func TestTypes(t *testing.T) {
	for s, want := range map[string]Type{"COMPOSITE": TypeComposite, "composite": TypeComposite, "FULL_OBJECT": TypeFullObject, "full_object": TypeFullObject} {
		if got, err := ParseType(s); err != nil || got != want {
			t.Errorf("ParseType(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "FULL-OBJECT", "FULLOBJECT"} {
		if _, err := ParseType(s); !errors.Is(err, ErrUnknownType) {
			t.Errorf("ParseType(%q) err = %v", s, err)
		}
	}
	support := map[Algorithm][2]bool{ // {composite, full object}
		CRC32: {true, true}, CRC32C: {true, true}, CRC64NVME: {false, true},
		SHA1: {true, false}, SHA256: {true, false}, "bogus": {false, false},
	}
	for a, w := range support {
		if SupportsType(a, TypeComposite) != w[0] || SupportsType(a, TypeFullObject) != w[1] {
			t.Errorf("SupportsType(%s) wrong", a)
		}
		if a.Valid() && !SupportsType(a, DefaultType(a)) {
			t.Errorf("DefaultType(%s) = %s unsupported", a, DefaultType(a))
		}
	}
	if SupportsType(CRC32, "OTHER") {
		t.Error("unknown type supported")
	}
}

var crcAlgs = []Algorithm{CRC32, CRC32C, CRC64NVME}

func TestCombineProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, 300_000)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	sizes := []int{0, 1, 2, 3, 7, 8, 15, 16, 17, 63, 64, 255, 256, 4096, 65537}
	for range 300 {
		sizes = append(sizes, rng.IntN(len(data)/2+1))
	}
	for _, alg := range crcAlgs {
		for i, la := range sizes {
			lb := sizes[(i*7+3)%len(sizes)]
			a := data[:la]
			b := data[la : la+lb]
			got, err := Combine(alg, sum(alg, a), sum(alg, b), int64(lb))
			if err != nil {
				t.Fatal(err)
			}
			if want := oracle(t, alg, data[:la+lb]); !bytes.Equal(got, want) {
				t.Fatalf("%s: Combine(len %d, len %d) = %x, want %x", alg, la, lb, got, want)
			}
		}
	}
}

func TestCombineAll(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	data := pattern(1 << 20)
	for _, alg := range crcAlgs {
		if got, err := CombineAll(alg, nil); err != nil || !bytes.Equal(got, make([]byte, alg.Size())) {
			t.Errorf("%s: CombineAll(nil) = %x, %v", alg, got, err)
		}
		for trial := range 30 {
			n := rng.IntN(len(data) + 1)
			var parts []Part
			for off := 0; off < n || (off == 0 && len(parts) == 0); {
				k := min(n-off, rng.IntN(n/4+2))
				if trial%5 == 0 && rng.IntN(3) == 0 {
					k = 0 // empty parts must be harmless
				}
				parts = append(parts, Part{Checksum: sum(alg, data[off:off+k]), Size: int64(k)})
				off += k
			}
			got, err := CombineAll(alg, parts)
			if err != nil {
				t.Fatal(err)
			}
			if want := oracle(t, alg, data[:n]); !bytes.Equal(got, want) {
				t.Fatalf("%s: %d parts over %d bytes: %x, want %x", alg, len(parts), n, got, want)
			}
		}
	}
}

// Lengths far beyond what can be hashed in a test are checked algebraically:
// shifting by a then b must equal shifting by a+b, and shifting by 2^k bytes
// must equal 2^k successive single-byte shifts for small k.
func TestCombineLargeLengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, alg := range crcAlgs {
		g, _ := gfFor(alg)
		mask := uint64(1)<<(8*alg.Size()) - 1
		if alg.Size() == 8 {
			mask = ^uint64(0)
		}
		for range 200 {
			c := rng.Uint64() & mask
			a := rng.Int64N(1 << 62)
			b := rng.Int64N(1 << 62)
			if x, y := g.shiftBytes(g.shiftBytes(c, a), b), g.shiftBytes(c, a+b); x != y {
				t.Fatalf("%s: shift(%d)+shift(%d) = %#x, shift(sum) = %#x", alg, a, b, x, y)
			}
		}
		c := uint64(0x12345678)
		x := c
		for range 1 << 10 {
			x = g.shiftBytes(x, 1)
		}
		if y := g.shiftBytes(c, 1<<10); x != y {
			t.Fatalf("%s: repeated shift %#x != %#x", alg, x, y)
		}
		// Maximum length must not index past the x^(2^k) table.
		g.shiftBytes(c, 1<<63-1)
	}
}

func TestCombineErrors(t *testing.T) {
	for _, alg := range []Algorithm{SHA1, SHA256} {
		d := sum(alg, []byte("x"))
		if _, err := Combine(alg, d, d, 1); !errors.Is(err, ErrNotCombinable) {
			t.Errorf("Combine(%s) err = %v", alg, err)
		}
		if _, err := CombineAll(alg, []Part{{d, 1}}); !errors.Is(err, ErrNotCombinable) {
			t.Errorf("CombineAll(%s) err = %v", alg, err)
		}
	}
	if _, err := Combine("MD5", nil, nil, 0); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Errorf("Combine(MD5) err = %v", err)
	}
	c32 := sum(CRC32, []byte("x"))
	c64 := sum(CRC64NVME, []byte("x"))
	if _, err := Combine(CRC32, c32, c64, 1); !errors.Is(err, ErrInvalidChecksum) {
		t.Errorf("mismatched length err = %v", err)
	}
	if _, err := Combine(CRC64NVME, c32, c64, 1); !errors.Is(err, ErrInvalidChecksum) {
		t.Errorf("mismatched length err = %v", err)
	}
	if _, err := Combine(CRC32, c32, c32, -1); err == nil {
		t.Error("negative length accepted")
	}
	if _, err := CombineAll(CRC32, []Part{{c32, 1}, {c64, 1}}); !errors.Is(err, ErrInvalidChecksum) {
		t.Errorf("CombineAll bad part err = %v", err)
	}
	if _, err := CombineAll(CRC32, []Part{{c32, -1}}); err == nil {
		t.Error("CombineAll negative length accepted")
	}
}

func TestComposite(t *testing.T) {
	parts := [][]byte{pattern(5 << 20), []byte("hello world"), []byte("123456789")}
	for _, alg := range Algorithms() {
		// Independent computation: oracle digests of the parts, then the
		// oracle digest of their concatenation.
		var cat []byte
		var digests [][]byte
		for _, p := range parts {
			d := oracle(t, alg, p)
			cat = append(cat, d...)
			digests = append(digests, sum(alg, p))
		}
		want := base64.StdEncoding.EncodeToString(oracle(t, alg, cat)) + "-3"
		got := Composite(alg, digests)
		if got != want {
			t.Errorf("%s: Composite = %q, want %q", alg, got, want)
		}
		d, n, err := ParseComposite(alg, got)
		if err != nil || n != 3 || Encode(d)+"-3" != got {
			t.Errorf("%s: ParseComposite(%q) = %x, %d, %v", alg, got, d, n, err)
		}
		// A single part's composite is the checksum of its checksum, not the
		// part's own checksum.
		one := Composite(alg, digests[:1])
		if !strings.HasSuffix(one, "-1") || strings.TrimSuffix(one, "-1") == Encode(digests[0]) {
			t.Errorf("%s: single-part composite %q", alg, one)
		}
	}
	// Pinned: CRC32 composite of parts "a" and "b" (checked by hand against
	// hash/crc32: crc32(be32(crc32("a")) ‖ be32(crc32("b")))).
	cat := binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE([]byte("a")))
	cat = binary.BigEndian.AppendUint32(cat, crc32.ChecksumIEEE([]byte("b")))
	want := base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(cat))) + "-2"
	if got := Composite(CRC32, [][]byte{sum(CRC32, []byte("a")), sum(CRC32, []byte("b"))}); got != want {
		t.Errorf("Composite(a,b) = %q, want %q", got, want)
	}
	for _, s := range []string{"DUoRhQ==", "DUoRhQ==-", "DUoRhQ==-0", "DUoRhQ==--1", "DUoRhQ==-+1", "DUoRhQ==-x", "DUoRhQ=-2", "-2"} {
		if _, _, err := ParseComposite(CRC32, s); !errors.Is(err, ErrInvalidChecksum) {
			t.Errorf("ParseComposite(%q) err = %v", s, err)
		}
	}
}

func TestMultiHasher(t *testing.T) {
	data := pattern(300_000)
	m, err := NewMultiHasher(CRC32C, SHA256, CRC32C, CRC64NVME)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Algorithms(); len(got) != 3 || got[0] != CRC32C || got[1] != CRC64NVME || got[2] != SHA256 {
		t.Fatalf("Algorithms() = %v", got)
	}
	for round := range 2 {
		for p := data; len(p) > 0; {
			k := min(len(p), 1+len(p)/3)
			if n, err := m.Write(p[:k]); n != k || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
			p = p[k:]
		}
		if m.Size() != int64(len(data)) {
			t.Errorf("Size = %d", m.Size())
		}
		if want := md5.Sum(data); !bytes.Equal(m.MD5(), want[:]) {
			t.Errorf("round %d: MD5 mismatch", round)
		}
		for _, a := range Algorithms() {
			if !m.Has(a) {
				if m.Sum(a) != nil || m.Checksum(a) != "" {
					t.Errorf("%s not requested but has a sum", a)
				}
				continue
			}
			want := oracle(t, a, data)
			if !bytes.Equal(m.Sum(a), want) || m.Checksum(a) != Encode(want) {
				t.Errorf("round %d: %s mismatch", round, a)
			}
		}
		m.Reset()
		if m.Size() != 0 {
			t.Error("Reset did not clear size")
		}
	}
	if m.Has("bogus") || m.Sum("bogus") != nil {
		t.Error("bogus algorithm reported")
	}
	if _, err := NewMultiHasher(CRC32, "MD5"); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Errorf("NewMultiHasher(MD5) err = %v", err)
	}

	only, _ := NewMultiHasher()
	only.Write(data)
	if want := md5.Sum(data); !bytes.Equal(only.MD5(), want[:]) || len(only.Algorithms()) != 0 {
		t.Error("MD5-only hasher wrong")
	}
}

func TestMultiHasherZeroAllocs(t *testing.T) {
	m, _ := NewMultiHasher(Algorithms()...)
	buf := pattern(1 << 20)
	for _, n := range []int{1, 100, 4096, 1 << 20} {
		if a := testing.AllocsPerRun(20, func() { m.Write(buf[:n]) }); a != 0 {
			t.Errorf("Write(%d bytes) allocates %v times", n, a)
		}
	}
}
