package cse

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"io"
	"runtime"
	"testing"
)

// TestForeignWrappedKeys builds wrapped data keys by hand, following the
// AWS clients' layouts rather than this package's code, and checks that
// they unwrap: AES/GCM is IV ‖ GCM(kek, key, AAD = "AES/GCM/NoPadding"),
// RSA-OAEP-SHA1 is OAEP(SHA-1) of len ‖ key ‖ "AES/GCM/NoPadding".
func TestForeignWrappedKeys(t *testing.T) {
	dataKey, kek := randKey(), randKey()
	plain := []byte("interoperable")
	iv := make([]byte, IVSize)
	rand.Read(iv)
	body := stdSeal(t, dataKey, iv, plain)

	g, _ := aesGCM(kek)
	wiv := make([]byte, IVSize)
	rand.Read(wiv)
	aesWrapped := append(bytes.Clone(wiv), g.Seal(nil, wiv, dataKey, []byte("AES/GCM/NoPadding"))...)

	pseudo := append(append([]byte{32}, dataKey...), "AES/GCM/NoPadding"...)
	rsaWrapped, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, &rsaKey.PublicKey, pseudo, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		wrapAlg string
		wrapped []byte
		u       *Unwrapper
	}{
		{"AES/GCM", aesWrapped, &Unwrapper{AESKey: kek}},
		{"RSA-OAEP-SHA1", rsaWrapped, &Unwrapper{RSAKey: rsaKey}},
	} {
		meta := map[string]string{
			"x-amz-key-v2": b64.EncodeToString(tc.wrapped), "x-amz-iv": b64.EncodeToString(iv),
			"x-amz-matdesc": "{}", "x-amz-wrap-alg": tc.wrapAlg, "x-amz-cek-alg": "AES/GCM/NoPadding",
			"x-amz-tag-len": "128", "x-amz-unencrypted-content-length": "13",
		}
		env, err := FromMetadata(meta)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if _, err := Decrypt(context.Background(), tc.u, env, bytes.NewReader(body), &out); err != nil || out.String() != string(plain) {
			t.Fatalf("%s: %q, %v", tc.wrapAlg, out.String(), err)
		}
	}
}

// TestMemoryFlat encrypts and decrypts 32 MiB through the streaming path
// and checks that the heap allocated stays far below the object size.
func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 64 MiB")
	}
	const size = 32 << 20
	kr := &AESKeyring{Key: randKey()}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err := Encrypt(context.Background(), kr, io.LimitReader(zeros{}, size), size)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	go func() { _, err := io.Copy(pw, s.Body); pw.CloseWithError(err) }()
	n, err := Decrypt(context.Background(), &Unwrapper{AESKey: kr.Key}, s.Envelope, pr, io.Discard)
	if err != nil || n != size {
		t.Fatalf("%d, %v", n, err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Fatalf("allocated %d bytes to move %d", alloc, size)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
