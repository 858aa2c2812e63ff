package cse

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func stdSeal(t *testing.T, key, iv, plain []byte) []byte {
	t.Helper()
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		t.Fatal(err)
	}
	return g.Seal(nil, iv, plain, nil)
}

// TestStreamMatchesStandardGCM checks the streaming construction against
// crypto/cipher's GCM over lengths around block and chunk boundaries, and
// with readers that return one byte at a time.
func TestStreamMatchesStandardGCM(t *testing.T) {
	key, iv := make([]byte, KeySize), make([]byte, IVSize)
	rand.Read(key)
	rand.Read(iv)
	for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 33, 1000, 65535, 65536, 65537, 65536 + 16, 200003} {
		plain := make([]byte, n)
		rand.Read(plain)
		want := stdSeal(t, key, iv, plain)
		for _, oneByte := range []bool{false, true} {
			var src io.Reader = bytes.NewReader(plain)
			if oneByte {
				src = iotest.OneByteReader(src)
			}
			er, err := NewEncryptReader(src, key, iv)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(er)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("len %d oneByte=%v: ciphertext differs from crypto/cipher GCM", n, oneByte)
			}
			var ct io.Reader = bytes.NewReader(want)
			if oneByte {
				ct = iotest.OneByteReader(ct)
			}
			var out bytes.Buffer
			m, err := DecryptStream(&out, ct, key, iv)
			if err != nil || m != int64(n) || !bytes.Equal(out.Bytes(), plain) {
				t.Fatalf("len %d oneByte=%v: decrypt = %d, %v", n, oneByte, m, err)
			}
		}
	}
}

func TestDecryptStreamRejects(t *testing.T) {
	key, iv := make([]byte, KeySize), make([]byte, IVSize)
	rand.Read(key)
	rand.Read(iv)
	plain := make([]byte, 100000)
	rand.Read(plain)
	ct := stdSeal(t, key, iv, plain)
	otherKey := bytes.Clone(key)
	otherKey[0] ^= 1
	flip := func(i int) []byte { c := bytes.Clone(ct); c[i] ^= 0x80; return c }
	for _, tc := range []struct {
		name    string
		ct, key []byte
	}{
		{"first byte", flip(0), key},
		{"middle byte", flip(len(ct) / 2), key},
		{"tag byte", flip(len(ct) - 1), key},
		{"truncated", ct[:len(ct)-1], key},
		{"shorter than a tag", ct[:TagSize-1], key},
		{"empty", nil, key},
		{"extended", append(bytes.Clone(ct), 0), key},
		{"wrong key", ct, otherKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecryptStream(io.Discard, bytes.NewReader(tc.ct), tc.key, iv)
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("err = %v, want ErrAuth", err)
			}
		})
	}
}

func BenchmarkEncrypt(b *testing.B) {
	key, iv := make([]byte, KeySize), make([]byte, IVSize)
	plain := make([]byte, 4<<20)
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		r, _ := NewEncryptReader(bytes.NewReader(plain), key, iv)
		io.Copy(io.Discard, r)
	}
}
