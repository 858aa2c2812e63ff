package cse

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testKMS is a stand-in KMS for this pure package's unit tests: blobs are
// keyID ‖ 0 ‖ AES-GCM(master, context as AAD). The real KMS is exercised
// by the end-to-end tests.
type testKMS struct{ master []byte }

func (k *testKMS) GenerateDataKey(_ context.Context, keyID string, ec map[string]string) ([]byte, []byte, error) {
	g, _ := aesGCM(k.master)
	key := make([]byte, KeySize)
	iv := make([]byte, IVSize)
	rand.Read(key)
	rand.Read(iv)
	blob := append([]byte(keyID+"\x00"), g.Seal(iv, iv, key, []byte(encodeContext(ec)))...)
	return key, blob, nil
}

func (k *testKMS) Decrypt(_ context.Context, keyID string, blob []byte, ec map[string]string) ([]byte, error) {
	id, rest, ok := bytes.Cut(blob, []byte{0})
	if !ok || (keyID != "" && keyID != string(id)) || len(rest) < IVSize {
		return nil, errors.New("IncorrectKeyException")
	}
	g, _ := aesGCM(k.master)
	p, err := g.Open(nil, rest[:IVSize], rest[IVSize:], []byte(encodeContext(ec)))
	if err != nil {
		return nil, errors.New("InvalidCiphertextException")
	}
	return p, nil
}

func randKey() []byte { k := make([]byte, KeySize); rand.Read(k); return k }

var rsaKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

func seal(t *testing.T, kr Keyring, plain []byte) (*Envelope, []byte) {
	t.Helper()
	s, err := Encrypt(context.Background(), kr, bytes.NewReader(plain), int64(len(plain)))
	if err != nil {
		t.Fatal(err)
	}
	ct, err := io.ReadAll(s.Body)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(ct)) != s.Size {
		t.Fatalf("body %d bytes, Size %d", len(ct), s.Size)
	}
	return s.Envelope, ct
}

func TestRoundTrip(t *testing.T) {
	kms := &testKMS{master: randKey()}
	aesKey := randKey()
	plain := make([]byte, 70000)
	rand.Read(plain)
	ec := map[string]string{"project": "x"}
	for _, tc := range []struct {
		name     string
		kr       Keyring
		u        *Unwrapper
		wrapAlg  string
		matDesc  string
		viaInstr bool
	}{
		{"kms+context", &KMSKeyring{KMS: kms, KeyID: "k1", Context: ec}, &Unwrapper{KMS: kms, Context: ec}, WrapKMSContext, `{"aws:x-amz-cek-alg":"AES/GCM/NoPadding","project":"x"}`, false},
		{"kms+context no user context", &KMSKeyring{KMS: kms, KeyID: "k1"}, &Unwrapper{KMS: kms, KMSKeyID: "k1"}, WrapKMSContext, `{"aws:x-amz-cek-alg":"AES/GCM/NoPadding"}`, true},
		{"AES/GCM", &AESKeyring{Key: aesKey}, &Unwrapper{AESKey: aesKey}, WrapAESGCM, "{}", false},
		{"AES/GCM instruction file", &AESKeyring{Key: aesKey}, &Unwrapper{AESKey: aesKey}, WrapAESGCM, "{}", true},
		{"RSA-OAEP-SHA1", &RSAKeyring{Public: &rsaKey.PublicKey}, &Unwrapper{RSAKey: rsaKey}, WrapRSAOAEP, "{}", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, ct := seal(t, tc.kr, plain)
			if env.WrapAlg != tc.wrapAlg || env.MatDesc != tc.matDesc || env.CEKAlg != CEKAESGCM || env.TagLen != "128" || env.PlainLen != "70000" {
				t.Fatalf("envelope %+v", env)
			}
			var got *Envelope
			var err error
			if tc.viaInstr {
				got, err = ParseInstruction(env.Instruction())
			} else {
				got, err = FromMetadata(env.Metadata())
			}
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			n, err := Decrypt(context.Background(), tc.u, got, bytes.NewReader(ct), &out)
			if err != nil || n != int64(len(plain)) || !bytes.Equal(out.Bytes(), plain) {
				t.Fatalf("decrypt: %d, %v", n, err)
			}
		})
	}
}

func TestDecryptFailures(t *testing.T) {
	kms := &testKMS{master: randKey()}
	aesKey := randKey()
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	plain := []byte("attack at dawn")
	kmsEnv, kmsCT := seal(t, &KMSKeyring{KMS: kms, KeyID: "k1", Context: map[string]string{"a": "1"}}, plain)
	aesEnv, aesCT := seal(t, &AESKeyring{Key: aesKey}, plain)
	rsaEnv, rsaCT := seal(t, &RSAKeyring{Public: &rsaKey.PublicKey}, plain)
	with := func(e *Envelope, f func(*Envelope)) *Envelope { c := *e; f(&c); return &c }
	flipped := func(ct []byte) []byte { c := bytes.Clone(ct); c[3] ^= 1; return c }
	for _, tc := range []struct {
		name string
		u    *Unwrapper
		env  *Envelope
		ct   []byte
		want error // nil: any error
	}{
		{"kms wrong context", &Unwrapper{KMS: kms, Context: map[string]string{"a": "2"}}, kmsEnv, kmsCT, ErrContextMismatch},
		{"kms context missing a key", &Unwrapper{KMS: kms, Context: map[string]string{}}, kmsEnv, kmsCT, ErrContextMismatch},
		{"kms wrong key id", &Unwrapper{KMS: kms, KMSKeyID: "k2"}, kmsEnv, kmsCT, nil},
		{"kms altered matdesc", &Unwrapper{KMS: kms}, with(kmsEnv, func(e *Envelope) { e.MatDesc = strings.Replace(e.MatDesc, `"1"`, `"2"`, 1) }), kmsCT, nil},
		{"kms without a KMS", &Unwrapper{AESKey: aesKey}, kmsEnv, kmsCT, ErrNoKey},
		{"kms tampered body", &Unwrapper{KMS: kms}, kmsEnv, flipped(kmsCT), ErrAuth},
		{"aes but a KMS key required", &Unwrapper{AESKey: aesKey, KMSKeyID: "k1"}, aesEnv, aesCT, nil},
		{"aes wrong key", &Unwrapper{AESKey: randKey()}, aesEnv, aesCT, ErrAuth},
		{"aes tampered body", &Unwrapper{AESKey: aesKey}, aesEnv, flipped(aesCT), ErrAuth},
		{"aes tampered wrapped key", &Unwrapper{AESKey: aesKey}, with(aesEnv, func(e *Envelope) { e.WrappedKey = b64.EncodeToString(flipped(mustB64(e.WrappedKey))) }), aesCT, ErrAuth},
		{"aes tampered iv", &Unwrapper{AESKey: aesKey}, with(aesEnv, func(e *Envelope) { e.IV = b64.EncodeToString(flipped(mustB64(e.IV))) }), aesCT, ErrAuth},
		{"aes wrong length", &Unwrapper{AESKey: aesKey}, with(aesEnv, func(e *Envelope) { e.PlainLen = "13" }), aesCT, nil},
		{"rsa wrong key", &Unwrapper{RSAKey: otherRSA}, rsaEnv, rsaCT, ErrAuth},
		{"rsa no key", &Unwrapper{AESKey: aesKey}, rsaEnv, rsaCT, ErrNoKey},
		{"rsa tampered body", &Unwrapper{RSAKey: rsaKey}, rsaEnv, flipped(rsaCT), ErrAuth},
		{"wrap alg swapped", &Unwrapper{AESKey: aesKey, RSAKey: rsaKey}, with(aesEnv, func(e *Envelope) { e.WrapAlg = WrapRSAOAEP }), aesCT, nil},
		{"cbc content", &Unwrapper{AESKey: aesKey}, with(aesEnv, func(e *Envelope) { e.CEKAlg = "AES/CBC/PKCS5Padding" }), aesCT, ErrUnsupported},
		{"legacy wrap", &Unwrapper{AESKey: aesKey}, with(aesEnv, func(e *Envelope) { e.WrapAlg = "AESWrap" }), aesCT, ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decrypt(context.Background(), tc.u, tc.env, bytes.NewReader(tc.ct), io.Discard)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func mustB64(s string) []byte {
	b, err := b64.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestFormatDetection(t *testing.T) {
	good := map[string]string{MetaKeyV2: "AAAA", MetaIV: b64.EncodeToString(make([]byte, 12)), MetaWrapAlg: WrapAESGCM, MetaCEKAlg: CEKAESGCM, MetaMatDesc: "{}"}
	plus := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		m[k] = v
		return m
	}
	minus := func(k string) map[string]string { m := plus("", ""); delete(m, ""); delete(m, k); return m }
	for _, tc := range []struct {
		name string
		meta map[string]string
		want error // nil: accepted
	}{
		{"v2", good, nil},
		{"plain object", map[string]string{"color": "blue"}, ErrNotEncrypted},
		{"v1", map[string]string{MetaKeyV1: "AAAA", MetaIV: "AAAA"}, ErrUnsupported},
		{"v3", map[string]string{MetaKeyV3: "AAAA"}, ErrUnsupported},
		{"v1 and v2", plus(MetaKeyV1, "AAAA"), ErrUnsupported},
		{"tag length 96", plus(MetaTagLen, "96"), ErrUnsupported},
		{"no cek alg", minus(MetaCEKAlg), ErrUnsupported},
		{"bad iv", plus(MetaIV, "AAAA"), errAny},
		{"bad matdesc", plus(MetaMatDesc, "[1]"), errAny},
		{"bad length", plus(MetaPlainLen, "-1"), errAny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromMetadata(tc.meta)
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want == errAny && err == nil, tc.want != nil && tc.want != errAny && !errors.Is(err, tc.want):
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

var errAny = errors.New("any error")

// TestInstructionNumbers accepts lengths written as JSON numbers, as
// other clients do.
func TestInstructionNumbers(t *testing.T) {
	doc := `{"x-amz-key-v2":"AAAA","x-amz-iv":"AAAAAAAAAAAAAAAA","x-amz-matdesc":"{}","x-amz-wrap-alg":"AES/GCM","x-amz-cek-alg":"AES/GCM/NoPadding","x-amz-tag-len":128,"x-amz-unencrypted-content-length":5}`
	e, err := ParseInstruction([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if e.TagLen != "128" || e.PlainLen != "5" {
		t.Fatalf("%+v", e)
	}
	if _, err := ParseInstruction([]byte(`{"x-amz-key-v2":"AAAA","x-amz-tag-len":1.5}`)); err == nil {
		t.Fatal("fractional tag length accepted")
	}
}

func TestEncryptRejectsLengthChange(t *testing.T) {
	for _, tc := range []struct {
		data string
		size int64
	}{{"abc", 4}, {"abcde", 4}} {
		s, err := Encrypt(context.Background(), &AESKeyring{Key: randKey()}, strings.NewReader(tc.data), tc.size)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(s.Body); err == nil {
			t.Errorf("%q declared %d: no error", tc.data, tc.size)
		}
	}
}

func TestParseContext(t *testing.T) {
	m, err := ParseContext([]string{"a=1", "b=x=y"})
	if err != nil || m["a"] != "1" || m["b"] != "x=y" {
		t.Fatalf("%v %v", m, err)
	}
	for _, bad := range [][]string{{"a"}, {"=1"}, {"a=1", "a=2"}, {"aws:x-amz-cek-alg=x"}} {
		if _, err := ParseContext(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestAtomicFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out")
	a, err := CreateAtomic(p)
	if err != nil {
		t.Fatal(err)
	}
	a.Write([]byte("x"))
	a.Abort()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("abort left %v", ents)
	}
	a, _ = CreateAtomic(p)
	a.Write([]byte("y"))
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "y" {
		t.Fatalf("content %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("left %v", ents)
	}
}

func TestParseKeys(t *testing.T) {
	k := randKey()
	for _, in := range [][]byte{k, []byte(b64.EncodeToString(k) + "\n")} {
		got, err := ParseAESKey(in)
		if err != nil || !bytes.Equal(got, k) {
			t.Fatalf("ParseAESKey: %v", err)
		}
	}
	if _, err := ParseAESKey([]byte("short")); err == nil {
		t.Fatal("short AES key accepted")
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	pkix, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	for _, tc := range []struct {
		typ      string
		der      []byte
		priv, ok bool
	}{
		{"RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), true, true},
		{"PRIVATE KEY", pkcs8, true, true},
		{"PUBLIC KEY", pkix, false, true},
		{"RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey), false, true},
		{"RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small), true, false},
		{"CERTIFICATE", pkix, false, false},
	} {
		pub, priv, err := ParseRSAKey(pem.EncodeToMemory(&pem.Block{Type: tc.typ, Bytes: tc.der}))
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.typ, err)
			continue
		}
		if tc.ok && (pub.N.Cmp(rsaKey.N) != 0 || (priv != nil) != tc.priv) {
			t.Errorf("%s: wrong key halves", tc.typ)
		}
	}
}
