package kms_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/coffer-io/coffer/internal/kms"
)

func TestEncryptDecrypt(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, acct)
	if err := f.svc.CreateAlias(ctx, acct, "alias/k", k.ID); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		pt   []byte
		id   string
		code string
	}{
		{"one byte", []byte{0}, k.ID, ""},
		{"max size", bytes.Repeat([]byte{1}, 4096), k.ARN, ""},
		{"via alias", []byte("x"), "alias/k", ""},
		{"via alias arn", []byte("x"), "arn:aws:kms:us-east-1:" + acct + ":alias/k", ""},
		{"empty", nil, k.ID, kms.CodeValidation},
		{"too large", make([]byte, 4097), k.ID, kms.CodeValidation},
		{"unknown key", []byte("x"), "alias/none", kms.CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ec := map[string]string{"purpose": "test"}
			out, err := f.svc.Encrypt(ctx, acct, tc.id, tc.pt, ec)
			wantCode(t, err, tc.code)
			if err != nil {
				return
			}
			if out.KeyID != k.ARN {
				t.Errorf("KeyID = %s", out.KeyID)
			}
			// Documented size: 55-byte header (12-digit account, UUID key),
			// 12-byte nonce, 16-byte tag.
			if want := 55 + 12 + len(tc.pt) + 16; len(out.CiphertextBlob) != want || want > kms.MaxCiphertextSize {
				t.Errorf("blob of %d bytes, want %d within %d", len(out.CiphertextBlob), want, kms.MaxCiphertextSize)
			}
			dec, err := f.svc.Decrypt(ctx, acct, out.CiphertextBlob, "", ec)
			if err != nil || !bytes.Equal(dec.Plaintext, tc.pt) || dec.KeyID != k.ARN || dec.MaterialVersion != 1 {
				t.Fatalf("Decrypt = %+v, %v", dec, err)
			}
		})
	}
	// Same input twice gives different blobs (random nonce).
	a, b := f.encrypt(t, k.ID, "same", nil), f.encrypt(t, k.ID, "same", nil)
	if bytes.Equal(a, b) {
		t.Error("two encryptions produced the same blob")
	}
}

func TestEncryptionContext(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, acct)
	enc := map[string]string{"aws:s3:arn": "arn:aws:s3:::b/o", "dept": "Eng"}
	blob := f.encrypt(t, k.ID, "payload", enc)
	for _, tc := range []struct {
		name string
		ec   map[string]string
		code string
	}{
		{"identical", map[string]string{"aws:s3:arn": "arn:aws:s3:::b/o", "dept": "Eng"}, ""},
		{"missing", nil, kms.CodeInvalidCiphertext},
		{"subset", map[string]string{"dept": "Eng"}, kms.CodeInvalidCiphertext},
		{"superset", map[string]string{"aws:s3:arn": "arn:aws:s3:::b/o", "dept": "Eng", "x": ""}, kms.CodeInvalidCiphertext},
		{"other value", map[string]string{"aws:s3:arn": "arn:aws:s3:::b/o2", "dept": "Eng"}, kms.CodeInvalidCiphertext},
		{"value case", map[string]string{"aws:s3:arn": "arn:aws:s3:::b/o", "dept": "eng"}, kms.CodeInvalidCiphertext},
		{"key case", map[string]string{"aws:s3:arn": "arn:aws:s3:::b/o", "Dept": "Eng"}, kms.CodeInvalidCiphertext},
		{"moved boundary", map[string]string{"aws:s3:arn": "arn:aws:s3:::b/o", "dep": "tEng"}, kms.CodeInvalidCiphertext},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dec, err := f.svc.Decrypt(ctx, acct, blob, "", tc.ec)
			wantCode(t, err, tc.code)
			if err == nil && string(dec.Plaintext) != "payload" {
				t.Errorf("plaintext %q", dec.Plaintext)
			}
		})
	}
	// nil and empty contexts are the same.
	blob = f.encrypt(t, k.ID, "p", map[string]string{})
	if _, err := f.svc.Decrypt(ctx, acct, blob, "", nil); err != nil {
		t.Errorf("empty vs nil context: %v", err)
	}
}

func TestTamperedBlobs(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, acct)
	k2 := f.key(t, acct)
	ec := map[string]string{"a": "b"}
	blob := f.encrypt(t, k.ID, "tamper me", ec)
	// Flipping any bit of any byte (header, nonce, ciphertext or tag)
	// must be caught.
	for i := range blob {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(blob)
			bad[i] ^= bit
			_, err := f.svc.Decrypt(ctx, acct, bad, "", ec)
			if kms.ErrorCode(err) != kms.CodeInvalidCiphertext {
				t.Fatalf("byte %d bit %#x flipped: err = %v, want InvalidCiphertextException", i, bit, err)
			}
		}
	}
	// A header rewritten to name another existing key fails too.
	swapped := bytes.Replace(bytes.Clone(blob), []byte(k.ID), []byte(k2.ID), 1)
	_, err := f.svc.Decrypt(ctx, acct, swapped, "", ec)
	wantCode(t, err, kms.CodeInvalidCiphertext)
	for _, tc := range []struct {
		name string
		blob []byte
		code string
	}{
		{"empty", nil, kms.CodeValidation},
		{"one byte", []byte{1}, kms.CodeInvalidCiphertext},
		{"truncated", blob[:len(blob)-1], kms.CodeInvalidCiphertext},
		{"header only", blob[:len(blob)-16-9], kms.CodeInvalidCiphertext},
		{"extended", append(bytes.Clone(blob), 0), kms.CodeInvalidCiphertext},
		{"unknown version", append([]byte{2}, blob[1:]...), kms.CodeInvalidCiphertext},
		{"garbage", []byte(strings.Repeat("garbage!", 10)), kms.CodeInvalidCiphertext},
		{"oversize", make([]byte, kms.MaxCiphertextSize+1), kms.CodeInvalidCiphertext},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.Decrypt(ctx, acct, tc.blob, "", ec)
			wantCode(t, err, tc.code)
		})
	}
	if _, err := f.svc.CiphertextKeyARN([]byte{9}); kms.ErrorCode(err) != kms.CodeInvalidCiphertext {
		t.Errorf("CiphertextKeyARN(garbage) err = %v", err)
	}
}

func TestDecryptKeyID(t *testing.T) {
	f := newFixture(t)
	k, k2 := f.key(t, acct), f.key(t, acct)
	wantCode(t, f.svc.CreateAlias(ctx, acct, "alias/k", k.ID), "")
	wantCode(t, f.svc.CreateAlias(ctx, acct, "alias/k2", k2.ID), "")
	blob := f.encrypt(t, k.ID, "x", nil)
	for _, tc := range []struct {
		name, keyID, code string
	}{
		{"none", "", ""},
		{"id", k.ID, ""},
		{"arn", k.ARN, ""},
		{"alias", "alias/k", ""},
		{"other key", k2.ID, kms.CodeIncorrectKey},
		{"other alias", "alias/k2", kms.CodeIncorrectKey},
		{"unknown key", "alias/none", kms.CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.Decrypt(ctx, acct, blob, tc.keyID, nil)
			wantCode(t, err, tc.code)
		})
	}
}

func TestGenerateDataKey(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, acct)
	for _, tc := range []struct {
		name string
		in   kms.DataKeyInput
		n    int
		code string
	}{
		{"AES_256", kms.DataKeyInput{KeySpec: "AES_256"}, 32, ""},
		{"AES_128", kms.DataKeyInput{KeySpec: "AES_128"}, 16, ""},
		{"1 byte", kms.DataKeyInput{NumberOfBytes: 1}, 1, ""},
		{"1024 bytes", kms.DataKeyInput{NumberOfBytes: 1024}, 1024, ""},
		{"both", kms.DataKeyInput{KeySpec: "AES_256", NumberOfBytes: 32}, 0, kms.CodeValidation},
		{"neither", kms.DataKeyInput{}, 0, kms.CodeValidation},
		{"too many bytes", kms.DataKeyInput{NumberOfBytes: 1025}, 0, kms.CodeValidation},
		{"negative", kms.DataKeyInput{NumberOfBytes: -1}, 0, kms.CodeValidation},
		{"bad spec", kms.DataKeyInput{KeySpec: "AES_512"}, 0, kms.CodeValidation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ec := map[string]string{"k": tc.name}
			out, err := f.svc.GenerateDataKey(ctx, acct, k.ID, tc.in, ec)
			wantCode(t, err, tc.code)
			if err != nil {
				return
			}
			if len(out.Plaintext) != tc.n || out.KeyID != k.ARN {
				t.Fatalf("got %d bytes, key %s", len(out.Plaintext), out.KeyID)
			}
			dec, err := f.svc.Decrypt(ctx, acct, out.CiphertextBlob, k.ID, ec)
			if err != nil || !bytes.Equal(dec.Plaintext, out.Plaintext) {
				t.Fatalf("Decrypt = %v", err)
			}
			wp, err := f.svc.GenerateDataKeyWithoutPlaintext(ctx, acct, k.ARN, tc.in, ec)
			if err != nil || wp.Plaintext != nil {
				t.Fatalf("WithoutPlaintext = %+v, %v", wp, err)
			}
			dec, err = f.svc.Decrypt(ctx, acct, wp.CiphertextBlob, "", ec)
			if err != nil || len(dec.Plaintext) != tc.n {
				t.Fatalf("Decrypt(WithoutPlaintext) = %v", err)
			}
		})
	}
	_, err := f.svc.GenerateDataKeyWithoutPlaintext(ctx, acct, k.ID, kms.DataKeyInput{}, nil)
	wantCode(t, err, kms.CodeValidation)
	_, err = f.svc.GenerateDataKey(ctx, acct, "alias/none", kms.DataKeyInput{KeySpec: "AES_256"}, nil)
	wantCode(t, err, kms.CodeNotFound)
}

func TestReEncrypt(t *testing.T) {
	f := newFixture(t)
	src, dst := f.key(t, acct), f.key(t, acct)
	srcEC, dstEC := map[string]string{"s": "1"}, map[string]string{"d": "2"}
	blob := f.encrypt(t, src.ID, "move me", srcEC)
	out, err := f.svc.ReEncrypt(ctx, acct, kms.ReEncryptInput{CiphertextBlob: blob, SourceEncryptionContext: srcEC, DestinationKeyID: dst.ID, DestinationEncryptionContext: dstEC})
	if err != nil || out.SourceKeyID != src.ARN || out.KeyID != dst.ARN {
		t.Fatalf("ReEncrypt = %+v, %v", out, err)
	}
	dec, err := f.svc.Decrypt(ctx, acct, out.CiphertextBlob, dst.ID, dstEC)
	if err != nil || string(dec.Plaintext) != "move me" {
		t.Fatalf("Decrypt re-encrypted = %v", err)
	}
	wantCode(t, f.svc.DisableKey(ctx, acct, dst.ID), "")
	for _, tc := range []struct {
		name string
		in   kms.ReEncryptInput
		code string
	}{
		{"wrong source context", kms.ReEncryptInput{CiphertextBlob: blob, DestinationKeyID: src.ID}, kms.CodeInvalidCiphertext},
		{"wrong source key", kms.ReEncryptInput{CiphertextBlob: blob, SourceEncryptionContext: srcEC, SourceKeyID: dst.ID, DestinationKeyID: src.ID}, kms.CodeIncorrectKey},
		{"disabled destination", kms.ReEncryptInput{CiphertextBlob: blob, SourceEncryptionContext: srcEC, DestinationKeyID: dst.ID}, kms.CodeDisabled},
		{"missing destination", kms.ReEncryptInput{CiphertextBlob: blob, SourceEncryptionContext: srcEC, DestinationKeyID: "alias/none"}, kms.CodeNotFound},
		{"same key", kms.ReEncryptInput{CiphertextBlob: blob, SourceEncryptionContext: srcEC, SourceKeyID: src.ARN, DestinationKeyID: src.ID}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.ReEncrypt(ctx, acct, tc.in)
			wantCode(t, err, tc.code)
		})
	}
}

func TestSealer(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	s, err := kms.NewLocalSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	key[0] = 9 // the sealer keeps its own copy
	sealed, err := s.Seal([]byte("material"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := s.Open(sealed, []byte("aad")); err != nil || string(pt) != "material" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	other, _ := kms.NewLocalSealer(bytes.Repeat([]byte{2}, 32))
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	for _, tc := range []struct {
		name   string
		s      kms.Sealer
		sealed []byte
		aad    string
	}{
		{"wrong aad", s, sealed, "other"},
		{"wrong root key", other, sealed, "aad"},
		{"tampered", s, tampered, "aad"},
		{"short", s, sealed[:10], "aad"},
		{"bad version", s, append([]byte{7}, sealed[1:]...), "aad"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.s.Open(tc.sealed, []byte(tc.aad)); err == nil {
				t.Error("Open succeeded")
			}
		})
	}
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := kms.NewLocalSealer(make([]byte, n)); err == nil {
			t.Errorf("NewLocalSealer accepted a %d-byte key", n)
		}
	}
}

// TestMaterialBoundToKey checks that material moved between keys in the
// store is refused, so a store writer cannot make one key decrypt with
// another's material.
func TestMaterialBoundToKey(t *testing.T) {
	f := newFixture(t)
	a, b := f.key(t, acct), f.key(t, acct)
	err := f.store.Update(ctx, acct, func(tx kms.Tx) error {
		ra, _ := tx.Key(a.ID)
		rb, _ := tx.Key(b.ID)
		rb.Materials = ra.Materials
		return tx.PutKey(rb)
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Encrypt(ctx, acct, b.ID, []byte("x"), nil)
	wantCode(t, err, kms.CodeInternal)
}

// TestCheckUse: CheckUse answers as the operation it stands for would,
// for every key state and the Authorize hook, without key material.
func TestCheckUse(t *testing.T) {
	var seen []kms.AuthzRequest
	deny := errors.New("denied by key policy")
	f := newFixture(t, func(c *kms.Config) {
		c.Authorize = func(_ context.Context, r *kms.AuthzRequest) error {
			seen = append(seen, *r)
			if r.EncryptionContext["deny"] == "yes" {
				return deny
			}
			return nil
		}
	})
	k := f.key(t, acct)
	if err := f.svc.CreateAlias(ctx, acct, "alias/use", k.ID); err != nil {
		t.Fatal(err)
	}
	ec := map[string]string{"aws:s3:arn": "arn:aws:s3:::b"}
	for _, tc := range []struct {
		op, account, id string
		ec              map[string]string
		code            string
	}{
		{"GenerateDataKey", acct, k.ID, ec, ""},
		{"GenerateDataKey", acct, "alias/use", ec, ""},
		{"Decrypt", other, k.ARN, ec, ""},
		{"GenerateDataKey", other, k.ID, ec, kms.CodeNotFound},
		{"Encrypt", acct, k.ID, ec, kms.CodeValidation},
	} {
		seen = nil
		arn, err := f.svc.CheckUse(ctx, tc.op, tc.account, tc.id, tc.ec)
		wantCode(t, err, tc.code)
		if tc.code != "" {
			continue
		}
		if arn != k.ARN || len(seen) != 1 || seen[0].Op != tc.op || seen[0].EncryptionContext["aws:s3:arn"] != "arn:aws:s3:::b" {
			t.Errorf("%s %s: arn %q, hook saw %+v", tc.op, tc.id, arn, seen)
		}
		if tc.id == "alias/use" && seen[0].Alias == "" {
			t.Errorf("the hook did not see the alias")
		}
	}
	if _, err := f.svc.CheckUse(ctx, "Decrypt", acct, k.ID, map[string]string{"deny": "yes"}); err != deny {
		t.Errorf("hook's denial: %v", err)
	}
	if err := f.svc.DisableKey(ctx, acct, k.ID); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.CheckUse(ctx, "Decrypt", acct, k.ID, ec)
	wantCode(t, err, kms.CodeDisabled)
	if err := f.svc.EnableKey(ctx, acct, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ScheduleKeyDeletion(ctx, acct, k.ID, 7); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.CheckUse(ctx, "GenerateDataKey", acct, k.ID, ec)
	wantCode(t, err, kms.CodeInvalidState)
}
