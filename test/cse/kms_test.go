//lint:file-ignore SA1019 aws-sdk-go v1 is deprecated, but its s3crypto is the S3 Encryption Client these tests prove interoperability with.

package cse

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/service/kms"
	"github.com/aws/aws-sdk-go/service/s3"
	"github.com/aws/aws-sdk-go/service/s3/s3crypto"
)

// kmsKey creates a KMS key on the server through its KMS JSON API.
func (e *env) kmsKey(k *kms.KMS) string {
	e.t.Helper()
	out, err := k.CreateKey(&kms.CreateKeyInput{Description: aws.String("cse test")})
	if err != nil {
		e.t.Fatalf("KMS CreateKey: %v", err)
	}
	return aws.StringValue(out.KeyMetadata.KeyId)
}

// TestKMSInterop proves that kms+context objects cross between Coffer's
// client and the AWS SDK for Go's S3 Encryption Client (v2 format) both
// ways, with the envelope in metadata or in an instruction file, and that
// a wrong context, a wrong key or altered data fail.
func TestKMSInterop(t *testing.T) {
	e := newEnv(t)
	kc := kms.New(e.sess)
	keyID := e.kmsKey(kc)
	otherKey := e.kmsKey(kc)
	src, plain := e.file("plain.bin", 200_003)

	reg := s3crypto.NewCryptoRegistry()
	if err := s3crypto.RegisterAESGCMContentCipher(reg); err != nil {
		t.Fatal(err)
	}
	if err := s3crypto.RegisterKMSContextWrapWithAnyCMK(reg, kc); err != nil {
		t.Fatal(err)
	}
	dec, err := s3crypto.NewDecryptionClientV2(e.sess, reg)
	if err != nil {
		t.Fatal(err)
	}
	sdkGet := func(t *testing.T, key string) []byte {
		t.Helper()
		out, err := dec.GetObject(&s3.GetObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("s3crypto GetObject %s: %v", key, err)
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		if err != nil {
			t.Fatalf("s3crypto GetObject %s: %v", key, err)
		}
		return b
	}
	sdkPut := func(t *testing.T, key string, matdesc map[string]string, instruction bool) {
		t.Helper()
		md := s3crypto.MaterialDescription{}
		for k, v := range matdesc {
			md[k] = aws.String(v)
		}
		gen := s3crypto.NewKMSContextKeyGenerator(kc, keyID, md)
		enc, err := s3crypto.NewEncryptionClientV2(e.sess, s3crypto.AESGCMContentCipherBuilderV2(gen), func(o *s3crypto.EncryptionClientOptions) {
			if instruction {
				o.SaveStrategy = s3crypto.S3SaveStrategy{Client: e.s3}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := enc.PutObject(&s3.PutObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key), Body: bytes.NewReader(plain)}); err != nil {
			t.Fatalf("s3crypto PutObject: %v", err)
		}
	}

	t.Run("Coffer encrypts, s3crypto decrypts", func(t *testing.T) {
		e.mustCoffer("put", src, e.url("c1"), "--kms-key-id", keyID, "--encryption-context", "project=alpha")
		_, meta := e.raw("c1")
		if meta["x-amz-wrap-alg"] != "kms+context" || meta["x-amz-matdesc"] != `{"aws:x-amz-cek-alg":"AES/GCM/NoPadding","project":"alpha"}` {
			t.Fatalf("metadata %v", meta)
		}
		if got := sdkGet(t, "c1"); !bytes.Equal(got, plain) {
			t.Fatal("s3crypto decrypted different bytes")
		}
		e.getEquals("c1", plain)
		e.getEquals("c1", plain, "--encryption-context", "project=alpha", "--kms-key-id", keyID)
	})

	t.Run("Coffer instruction file, s3crypto decrypts", func(t *testing.T) {
		e.mustCoffer("put", src, e.url("c2"), "--kms-key-id", keyID, "--instruction-file")
		if got := sdkGet(t, "c2"); !bytes.Equal(got, plain) {
			t.Fatal("s3crypto decrypted different bytes")
		}
	})

	t.Run("Coffer multipart, s3crypto decrypts", func(t *testing.T) {
		big, bigPlain := e.file("big.bin", 10<<20+3)
		e.mustCoffer("put", big, e.url("c3"), "--kms-key-id", keyID, "--multipart-threshold", "5MiB", "--part-size", "5MiB")
		if got := sdkGet(t, "c3"); !bytes.Equal(got, bigPlain) {
			t.Fatal("s3crypto decrypted different bytes")
		}
	})

	t.Run("key named by alias", func(t *testing.T) {
		if _, err := kc.CreateAlias(&kms.CreateAliasInput{AliasName: aws.String("alias/cse-test"), TargetKeyId: aws.String(keyID)}); err != nil {
			t.Fatal(err)
		}
		e.mustCoffer("put", src, e.url("c4"), "--kms-key-id", "alias/cse-test")
		if got := sdkGet(t, "c4"); !bytes.Equal(got, plain) {
			t.Fatal("s3crypto decrypted different bytes")
		}
		e.getEquals("c4", plain, "--kms-key-id", "alias/cse-test")
	})

	t.Run("s3crypto encrypts, Coffer decrypts", func(t *testing.T) {
		sdkPut(t, "s1", map[string]string{"project": "beta"}, false)
		e.getEquals("s1", plain)
		e.getEquals("s1", plain, "--encryption-context", "project=beta")
	})

	t.Run("s3crypto instruction file, Coffer decrypts", func(t *testing.T) {
		sdkPut(t, "s2", nil, true)
		if !e.exists("s2.instruction") {
			t.Fatal("s3crypto wrote no instruction file")
		}
		e.getEquals("s2", plain)
	})

	t.Run("wrong context", func(t *testing.T) {
		e.getFails("s1", "encryption context", "--encryption-context", "project=gamma")
		e.getFails("s1", "encryption context", "--encryption-context", "project=beta", "--encryption-context", "extra=1")
		// A context altered in the stored metadata is refused by the KMS.
		body, meta := e.raw("s1")
		meta["x-amz-matdesc"] = strings.Replace(meta["x-amz-matdesc"], "beta", "gamma", 1)
		e.putRaw("s1-altered", body, meta)
		e.getFails("s1-altered", "InvalidCiphertextException")
	})

	t.Run("wrong key", func(t *testing.T) {
		e.getFails("c1", "IncorrectKeyException", "--kms-key-id", otherKey)
	})

	t.Run("tampered ciphertext", func(t *testing.T) {
		body, meta := e.raw("s1")
		body[len(body)/2] ^= 0x20
		e.putRaw("s1-tampered", body, meta)
		e.getFails("s1-tampered", "authentication failed")
	})
}
