package stream

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

var (
	testKey      = bytes.Repeat([]byte{0x42}, KeySize)
	testIdentity = []byte("bucket/key/version-0001/part-0")
)

// pattern returns deterministic plaintext whose byte at absolute offset j
// depends only on j, so any authentic byte can be checked by position.
func pattern(n int) []byte {
	p := make([]byte, n)
	for j := range p {
		p[j] = patternByte(int64(j))
	}
	return p
}

func patternByte(j int64) byte { return byte(j*7 + j>>8 + j>>16) }

// encrypt writes plain through a Writer in chunks of the given sizes
// (cycled); chunk 0 means a single Write.
func encrypt(t testing.TB, plain []byte, key, identity []byte, chunks ...int) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := NewWriter(&out, key, identity)
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) == 0 {
		chunks = []int{0}
	}
	rest := plain
	for k := 0; len(rest) > 0; k++ {
		c := chunks[k%len(chunks)]
		if c <= 0 || c > len(rest) {
			c = len(rest)
		}
		n, err := w.Write(rest[:c])
		if err != nil || n != c {
			t.Fatalf("Write = %d, %v; want %d", n, err, c)
		}
		rest = rest[c:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func open(t testing.TB, ct []byte, key, identity []byte) (*ReaderAt, error) {
	t.Helper()
	return NewReaderAt(bytes.NewReader(ct), int64(len(ct)), key, identity)
}

// readAll reads the whole plaintext through ReadAt in one call.
func readAll(r *ReaderAt) ([]byte, error) {
	p := make([]byte, r.Size())
	n, err := r.ReadAt(p, 0)
	if err == io.EOF && n == len(p) {
		err = nil
	}
	return p[:n], err
}

func TestRoundTrip(t *testing.T) {
	const P = PackageSize
	tests := []struct {
		name   string
		size   int
		chunks []int
	}{
		{"empty", 0, nil},
		{"one byte", 1, nil},
		{"package-1", P - 1, nil},
		{"package", P, nil},
		{"package+1", P + 1, nil},
		{"two packages", 2 * P, nil},
		{"many packages", 17*P + 12345, nil},
		{"odd writes 1", 3*P + 7, []int{1, 2, 3, 5, 7, 11, 13}},
		{"odd writes prime", 5*P + 1, []int{4099}},
		{"writes straddling packages", 6 * P, []int{P - 1, P + 1, 2*P + 3, 17}},
		{"large writes", 20*P + 5, []int{3*P + 1}},
		{"exact package writes", 4 * P, []int{P}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plain := pattern(tc.size)
			ct := encrypt(t, plain, testKey, testIdentity, tc.chunks...)
			if got, want := int64(len(ct)), CiphertextSize(int64(tc.size)); got != want {
				t.Fatalf("ciphertext size %d, CiphertextSize says %d", got, want)
			}
			if ps, err := PlaintextSize(int64(len(ct))); err != nil || ps != int64(tc.size) {
				t.Fatalf("PlaintextSize = %d, %v; want %d", ps, err, tc.size)
			}
			r, err := open(t, ct, testKey, testIdentity)
			if err != nil {
				t.Fatal(err)
			}
			if r.Size() != int64(tc.size) {
				t.Fatalf("Size = %d, want %d", r.Size(), tc.size)
			}
			got, err := readAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatal("plaintext mismatch")
			}
			// Sequential read through a SectionReader, the documented way.
			seq, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
			if err != nil || !bytes.Equal(seq, plain) {
				t.Fatalf("sequential read: err %v, equal %v", err, bytes.Equal(seq, plain))
			}
		})
	}
}

func TestSizes(t *testing.T) {
	const P = PackageSize
	for _, n := range []int64{0, 1, 15, 16, 17, P - 1, P, P + 1, 2*P - 1, 2 * P, 2*P + 1, 1 << 40, maxPlaintext} {
		c := CiphertextSize(n)
		got, err := PlaintextSize(c)
		if err != nil || got != n {
			t.Errorf("PlaintextSize(CiphertextSize(%d)=%d) = %d, %v", n, c, got, err)
		}
	}
	for _, n := range []int64{-1, maxPlaintext + 1} {
		if c := CiphertextSize(n); c != -1 {
			t.Errorf("CiphertextSize(%d) = %d, want -1", n, c)
		}
	}
	// Every ciphertext size in a window is either invalid or maps back.
	valid := 0
	for c := int64(-2); c < 3*(P+Overhead)+40; c++ {
		n, err := PlaintextSize(c)
		if err != nil {
			if !errors.Is(err, ErrSize) {
				t.Fatalf("PlaintextSize(%d) error %v", c, err)
			}
			continue
		}
		valid++
		if CiphertextSize(n) != c {
			t.Fatalf("PlaintextSize(%d) = %d but CiphertextSize(%d) = %d", c, n, n, CiphertextSize(n))
		}
	}
	if valid == 0 {
		t.Fatal("no valid sizes")
	}
	for _, c := range []int64{0, 1, HeaderSize + Overhead - 1, HeaderSize + P + Overhead + Overhead, HeaderSize + P + Overhead + 5} {
		if _, err := PlaintextSize(c); !errors.Is(err, ErrSize) {
			t.Errorf("PlaintextSize(%d) err = %v, want ErrSize", c, err)
		}
	}
}

func TestReadAtRanges(t *testing.T) {
	const P = PackageSize
	size := 9*P + 333
	plain := pattern(size)
	ct := encrypt(t, plain, testKey, testIdentity)

	check := func(t *testing.T, off int64, length int) {
		t.Helper()
		r, err := open(t, ct, testKey, testIdentity) // fresh: exercises lazy final check
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, length)
		n, err := r.ReadAt(buf, off)
		var want []byte
		if off < int64(size) {
			want = plain[off:min(int64(size), off+int64(length))]
		}
		wantErr := error(nil)
		if len(want) < length || off >= int64(size) { // bytes.Reader semantics
			wantErr = io.EOF
		}
		if n != len(want) || err != wantErr {
			t.Fatalf("ReadAt(len %d, off %d) = %d, %v; want %d, %v", length, off, n, err, len(want), wantErr)
		}
		if !bytes.Equal(buf[:n], want) {
			t.Fatalf("ReadAt(len %d, off %d): data mismatch", length, off)
		}
	}

	tests := []struct {
		name   string
		off    int64
		length int
	}{
		{"first byte", 0, 1},
		{"zero length", 5, 0},
		{"zero length at EOF", int64(size), 0},
		{"last byte of package 0", P - 1, 1},
		{"across boundary", P - 3, 7},
		{"exact package", P, P},
		{"exact package unaligned end", P, P + 1},
		{"many packages unaligned", 123, 5*P + 77},
		{"more than a batch", 1, (readBatch+3)*P + 9},
		{"whole", 0, size},
		{"to EOF exactly", int64(size) - 10, 10},
		{"last byte", int64(size) - 1, 1},
		{"crossing EOF", int64(size) - 10, 100},
		{"whole plus", 0, size + 1},
		{"at EOF", int64(size), 10},
		{"past EOF", int64(size) + 1000, 10},
		{"final package only", 9 * P, 333},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { check(t, tc.off, tc.length) })
	}
	t.Run("random", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for range 300 {
			off := rng.Int64N(int64(size) + 100)
			length := rng.IntN(3 * P)
			if rng.IntN(4) == 0 {
				length = rng.IntN(64)
			}
			check(t, off, length)
		}
	})
	t.Run("negative offset", func(t *testing.T) {
		r, _ := open(t, ct, testKey, testIdentity)
		if _, err := r.ReadAt(make([]byte, 1), -1); err == nil {
			t.Fatal("want error")
		}
	})
	t.Run("empty object", func(t *testing.T) {
		ct0 := encrypt(t, nil, testKey, testIdentity)
		r, err := open(t, ct0, testKey, testIdentity)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := r.ReadAt(make([]byte, 4), 0); n != 0 || err != io.EOF {
			t.Fatalf("ReadAt = %d, %v; want 0, EOF", n, err)
		}
	})
}

// expectAuthFailure opens ct and reads everything; it must fail with ErrAuth
// at open or read time and never return bytes that differ from the truth.
func expectAuthFailure(t *testing.T, ct, key, identity, truth []byte) {
	t.Helper()
	r, err := open(t, ct, key, identity)
	if err != nil {
		if !errors.Is(err, ErrAuth) {
			t.Fatalf("open error %v, want ErrAuth", err)
		}
		return
	}
	buf := make([]byte, max(r.Size(), int64(len(truth)))+1)
	n, err := r.ReadAt(buf, 0)
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("ReadAt = %d, %v; want ErrAuth", n, err)
	}
	if !bytes.Equal(buf[:n], truth[:min(n, len(truth))]) {
		t.Fatal("returned bytes differ from the authentic plaintext")
	}
	for _, b := range buf[n:] {
		if b != 0 {
			t.Fatal("unauthenticated plaintext left in buffer past n")
		}
	}
}

func TestTamper(t *testing.T) {
	const P = PackageSize
	plain := pattern(4*P + 100)
	ct := encrypt(t, plain, testKey, testIdentity)
	pkg := func(i int) (int, int) { // ciphertext extent of package i
		s := HeaderSize + i*(P+Overhead)
		return s, min(len(ct), s+P+Overhead)
	}
	mutate := func(f func([]byte) []byte) []byte {
		return f(bytes.Clone(ct))
	}

	t.Run("flip bytes", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		positions := []int{0, 1, 2, P, HeaderSize + P + Overhead - 1, HeaderSize + P + Overhead, len(ct) - 17, len(ct) - 16, len(ct) - 1}
		for range 60 {
			positions = append(positions, rng.IntN(len(ct)))
		}
		for _, pos := range positions {
			bad := mutate(func(b []byte) []byte { b[pos] ^= 1 << rng.IntN(8); return b })
			expectAuthFailure(t, bad, testKey, testIdentity, plain)
		}
	})

	tests := []struct {
		name string
		ct   []byte
	}{
		{"truncate last package by 1", ct[:len(ct)-1]},
		{"truncate last package by 17", ct[:len(ct)-17]},
		{"truncate to package boundary", ct[:HeaderSize+4*(P+Overhead)]},
		{"truncate to one package", ct[:HeaderSize+P+Overhead]},
		{"truncate to empty-sized stream", ct[:HeaderSize+Overhead]},
		{"drop final package", mutate(func(b []byte) []byte { s, _ := pkg(4); return b[:s] })},
		{"drop middle package", mutate(func(b []byte) []byte {
			s, e := pkg(1)
			return append(b[:s], b[e:]...)
		})},
		{"swap packages 0 and 1", mutate(func(b []byte) []byte {
			s0, e0 := pkg(0)
			s1, e1 := pkg(1)
			tmp := bytes.Clone(b[s0:e0])
			copy(b[s0:e0], b[s1:e1])
			copy(b[s1:e1], tmp)
			return b
		})},
		{"duplicate package", mutate(func(b []byte) []byte {
			s0, e0 := pkg(0)
			s2, _ := pkg(2)
			copy(b[s2:], b[s0:e0])
			return b
		})},
		{"append garbage", append(bytes.Clone(ct), make([]byte, P+Overhead)...)},
		{"append copy of final package", mutate(func(b []byte) []byte {
			s, e := pkg(4)
			return append(b, b[s:e]...)
		})},
		{"bad version", mutate(func(b []byte) []byte { b[0] = 2; return b })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			expectAuthFailure(t, tc.ct, testKey, testIdentity, plain)
		})
	}

	t.Run("other identity", func(t *testing.T) {
		expectAuthFailure(t, ct, testKey, []byte("bucket/key/version-0002/part-0"), plain)
		expectAuthFailure(t, ct, testKey, nil, plain)
	})
	t.Run("wrong key", func(t *testing.T) {
		k := bytes.Clone(testKey)
		k[31] ^= 1
		expectAuthFailure(t, ct, k, testIdentity, plain)
	})
	t.Run("empty object with other identity", func(t *testing.T) {
		ct0 := encrypt(t, nil, testKey, testIdentity)
		expectAuthFailure(t, ct0, testKey, []byte("other"), nil)
	})
	t.Run("replace with other object of same size", func(t *testing.T) {
		other := encrypt(t, plain, testKey, []byte("bucket/other/v1"))
		expectAuthFailure(t, other, testKey, testIdentity, plain)
	})
	t.Run("declared size larger than blob", func(t *testing.T) {
		short := ct[:len(ct)-P]
		r, err := NewReaderAt(bytes.NewReader(short), int64(len(ct)), testKey, testIdentity)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.ReadAt(make([]byte, 10), r.Size()-5); !errors.Is(err, ErrAuth) {
			t.Fatalf("err %v, want ErrAuth", err)
		}
	})
	t.Run("EOF needs authentic final package", func(t *testing.T) {
		// Truncated at a package boundary: early packages are authentic,
		// but reaching the (claimed) end must fail, never report io.EOF.
		bad := ct[:HeaderSize+2*(P+Overhead)]
		r, err := open(t, bad, testKey, testIdentity)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := r.ReadAt(make([]byte, 10), 0); n != 10 || err != nil {
			t.Fatalf("read of authentic prefix = %d, %v", n, err)
		}
		if _, err := r.ReadAt(make([]byte, 10), r.Size()); !errors.Is(err, ErrAuth) {
			t.Fatalf("read at EOF err %v, want ErrAuth", err)
		}
	})
}

func TestBadArguments(t *testing.T) {
	if _, err := NewWriter(io.Discard, make([]byte, 16), nil); !errors.Is(err, ErrKeySize) {
		t.Errorf("NewWriter short key: %v", err)
	}
	ct := encrypt(t, []byte("x"), testKey, nil)
	if _, err := NewReaderAt(bytes.NewReader(ct), int64(len(ct)), make([]byte, 31), nil); !errors.Is(err, ErrKeySize) {
		t.Errorf("NewReaderAt short key: %v", err)
	}
	w, _ := NewWriter(io.Discard, testKey, nil)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after == 0 {
		return 0, errors.New("disk full")
	}
	f.after--
	return len(p), nil
}

func TestWriterErrorSticky(t *testing.T) {
	w, _ := NewWriter(&failWriter{after: 1}, testKey, nil)
	_, err := w.Write(make([]byte, 3*PackageSize))
	if err == nil {
		t.Fatal("want error")
	}
	if _, err2 := w.Write([]byte("x")); err2 != err {
		t.Fatalf("not sticky: %v", err2)
	}
	if err3 := w.Close(); err3 != err {
		t.Fatalf("Close: %v", err3)
	}
}

func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	plain := pattern(8 * PackageSize)
	ct := encrypt(t, plain, testKey, testIdentity)
	r, _ := open(t, ct, testKey, testIdentity)
	buf := make([]byte, 3*PackageSize)
	r.ReadAt(buf, 100) // warm the pool
	if a := testing.AllocsPerRun(50, func() { r.ReadAt(buf, 100) }); a > 0 {
		t.Errorf("ReadAt allocates %.1f times per call", a)
	}
	w, _ := NewWriter(io.Discard, testKey, testIdentity)
	if a := testing.AllocsPerRun(20, func() { w.Write(plain[:3*PackageSize+7]) }); a > 0 {
		t.Errorf("Write allocates %.1f times per call", a)
	}
}

func FuzzReadAt(f *testing.F) {
	for _, n := range []int{0, 1, 100, PackageSize, PackageSize + 1, 2*PackageSize + 5} {
		ct := encrypt(f, pattern(n), testKey, testIdentity)
		f.Add(ct, int64(0), uint32(n))
		f.Add(ct, int64(n/2), uint32(n))
	}
	f.Add([]byte{}, int64(0), uint32(1))
	f.Add([]byte{1, 2, 3}, int64(-1), uint32(1))
	f.Fuzz(func(t *testing.T, ct []byte, off int64, length uint32) {
		r, err := NewReaderAt(bytes.NewReader(ct), int64(len(ct)), testKey, testIdentity)
		if err != nil {
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("NewReaderAt error %v is not ErrAuth", err)
			}
			return
		}
		p := make([]byte, length%(4*PackageSize))
		n, err := r.ReadAt(p, off)
		if n < 0 || n > len(p) {
			t.Fatalf("n = %d out of range", n)
		}
		if err != nil && err != io.EOF && !errors.Is(err, ErrAuth) && off >= 0 {
			t.Fatalf("unexpected error %v", err)
		}
		// The only authentic plaintext under testKey/testIdentity is the
		// pattern, so anything returned must match it at its offset.
		for k := range n {
			if p[k] != patternByte(off+int64(k)) {
				t.Fatalf("unauthenticated byte returned at offset %d", off+int64(k))
			}
		}
		for _, b := range p[n:] {
			if b != 0 {
				t.Fatal("plaintext left in buffer beyond n")
			}
		}
	})
}

func TestConcurrentReadAt(t *testing.T) {
	size := 12*PackageSize + 5
	plain := pattern(size)
	ct := encrypt(t, plain, testKey, testIdentity)
	r, err := open(t, ct, testKey, testIdentity)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 4)
	for g := range 4 {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			for range 50 {
				off := rng.Int64N(int64(size))
				buf := make([]byte, rng.IntN(2*PackageSize)+1)
				n, err := r.ReadAt(buf, off)
				if err != nil && err != io.EOF {
					errc <- err
					return
				}
				if !bytes.Equal(buf[:n], plain[off:off+int64(n)]) {
					errc <- errors.New("data mismatch")
					return
				}
			}
			errc <- nil
		}()
	}
	for range 4 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}
