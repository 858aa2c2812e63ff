//lint:file-ignore SA1019 aws-sdk-go v1 is deprecated, but its s3crypto is the S3 Encryption Client these tests prove interoperability with.

package cse

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/session"
	"github.com/aws/aws-sdk-go/service/s3"

	"github.com/coffer-io/coffer/test/harness"
)

// env is one running server, an SDK session bound to its default
// account, and a scratch directory for files and keys.
type env struct {
	t      *testing.T
	srv    *harness.Server
	sess   *session.Session
	s3     *s3.S3
	dir    string
	bucket string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := harness.Start(t)
	// The v1 SDK replaces the HTTP client's trust with AWS_CA_BUNDLE when
	// that is set, so point it at this server's CA.
	t.Setenv("AWS_CA_BUNDLE", srv.CAFile)
	sess := session.Must(session.NewSession(&aws.Config{
		Endpoint:         aws.String(srv.Endpoint),
		Region:           aws.String(srv.Region),
		Credentials:      credentials.NewStaticCredentials(srv.AccessKey, srv.SecretKey, ""),
		S3ForcePathStyle: aws.Bool(true),
		HTTPClient:       srv.HTTPClient(),
		MaxRetries:       aws.Int(0),
	}))
	e := &env{t: t, srv: srv, sess: sess, s3: s3.New(sess), dir: t.TempDir(), bucket: "cse-test"}
	if _, err := e.s3.CreateBucket(&s3.CreateBucketInput{Bucket: aws.String(e.bucket)}); err != nil {
		t.Fatal(err)
	}
	return e
}

// coffer runs `coffer cse ARGS… --endpoint …` with the server's AWS
// environment and returns its output and error.
func (e *env) coffer(args ...string) (string, error) {
	args = append([]string{"cse"}, args...)
	args = append(args, "--endpoint", e.srv.Endpoint)
	return e.srv.RunErr(context.Background(), harness.Binary(e.t), args...)
}

func (e *env) mustCoffer(args ...string) string {
	e.t.Helper()
	out, err := e.coffer(args...)
	if err != nil {
		e.t.Fatalf("coffer cse %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (e *env) url(key string) string { return "s3://" + e.bucket + "/" + key }

// file writes n random bytes to a new file and returns its path and data.
func (e *env) file(name string, n int) (string, []byte) {
	e.t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		e.t.Fatal(err)
	}
	return p, b
}

// raw returns an object's stored bytes and user metadata (keys lower-case).
func (e *env) raw(key string) ([]byte, map[string]string) {
	e.t.Helper()
	out, err := e.s3.GetObject(&s3.GetObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key)})
	if err != nil {
		e.t.Fatalf("GetObject %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	m := map[string]string{}
	for k, v := range out.Metadata {
		m[strings.ToLower(k)] = aws.StringValue(v)
	}
	return b, m
}

// putRaw stores bytes with user metadata, bypassing any encryption.
func (e *env) putRaw(key string, body []byte, meta map[string]string) {
	e.t.Helper()
	md := map[string]*string{}
	for k, v := range meta {
		md[k] = aws.String(v)
	}
	if _, err := e.s3.PutObject(&s3.PutObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key), Body: bytes.NewReader(body), Metadata: md}); err != nil {
		e.t.Fatalf("PutObject %s: %v", key, err)
	}
}

// exists reports whether an object exists.
func (e *env) exists(key string) bool {
	_, err := e.s3.HeadObject(&s3.HeadObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key)})
	return err == nil
}

// getFails runs a get that must fail, and checks that it left nothing in
// the output directory (no output, no temporary file).
func (e *env) getFails(key, wantMsg string, args ...string) {
	e.t.Helper()
	outDir := e.t.TempDir()
	out, err := e.coffer(append([]string{"get", e.url(key), filepath.Join(outDir, "out")}, args...)...)
	if err == nil {
		e.t.Fatalf("get %s succeeded; want failure", key)
	}
	if !strings.Contains(out, wantMsg) {
		e.t.Errorf("get %s: output %q lacks %q", key, out, wantMsg)
	}
	if ents, _ := os.ReadDir(outDir); len(ents) != 0 {
		e.t.Errorf("failed get left %v behind", ents)
	}
}

func (e *env) getEquals(key string, want []byte, args ...string) {
	e.t.Helper()
	p := filepath.Join(e.t.TempDir(), "out")
	e.mustCoffer(append([]string{"get", e.url(key), p}, args...)...)
	got, err := os.ReadFile(p)
	if err != nil {
		e.t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		e.t.Fatalf("get %s: %d bytes differ from the %d uploaded", key, len(got), len(want))
	}
}

func writeKeys(t *testing.T, dir string) (aesFile, otherAES, rsaPriv, rsaPub, otherRSA string) {
	t.Helper()
	w := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	k := make([]byte, 32)
	rand.Read(k)
	aesFile = w("aes.key", []byte(base64.StdEncoding.EncodeToString(k)+"\n"))
	rand.Read(k)
	otherAES = w("other-aes.key", k) // raw bytes form
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(rk)
	rsaPriv = w("rsa.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
	pub, _ := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	rsaPub = w("rsa.pub.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	ok, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherRSA = w("other-rsa.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(ok)}))
	return
}

// TestLocalKeys covers the AES/GCM and RSA-OAEP-SHA1 keyrings end to end:
// what is stored, both envelope locations, multipart uploads, and every
// way a download must fail without leaving plaintext behind.
func TestLocalKeys(t *testing.T) {
	e := newEnv(t)
	aesKey, otherAES, rsaPriv, rsaPub, otherRSA := writeKeys(t, e.dir)
	src, plain := e.file("plain.bin", 300_001)

	t.Run("AES/GCM in metadata", func(t *testing.T) {
		e.mustCoffer("put", src, e.url("aes"), "--aes-key-file", aesKey)
		body, meta := e.raw("aes")
		if len(body) != len(plain)+16 || bytes.Contains(body, plain[:64]) {
			t.Fatalf("stored %d bytes; want %d bytes of ciphertext", len(body), len(plain)+16)
		}
		for k, v := range map[string]string{"x-amz-wrap-alg": "AES/GCM", "x-amz-cek-alg": "AES/GCM/NoPadding", "x-amz-tag-len": "128", "x-amz-unencrypted-content-length": "300001", "x-amz-matdesc": "{}"} {
			if meta[k] != v {
				t.Errorf("metadata %s = %q, want %q", k, meta[k], v)
			}
		}
		if iv, _ := base64.StdEncoding.DecodeString(meta["x-amz-iv"]); len(iv) != 12 {
			t.Errorf("x-amz-iv %q", meta["x-amz-iv"])
		}
		if wk, _ := base64.StdEncoding.DecodeString(meta["x-amz-key-v2"]); len(wk) != 12+32+16 {
			t.Errorf("x-amz-key-v2 is %d bytes, want IV ‖ key ‖ tag", len(wk))
		}
		if e.exists("aes.instruction") {
			t.Error("an instruction file was written")
		}
		e.getEquals("aes", plain, "--aes-key-file", aesKey)
	})

	t.Run("AES/GCM instruction file", func(t *testing.T) {
		e.mustCoffer("put", src, e.url("aes-inst"), "--aes-key-file", aesKey, "--instruction-file")
		_, meta := e.raw("aes-inst")
		for k := range meta {
			if strings.HasPrefix(k, "x-amz-") {
				t.Errorf("object carries %s though the envelope belongs in the instruction file", k)
			}
		}
		inst, _ := e.raw("aes-inst.instruction")
		var doc map[string]any
		if err := json.Unmarshal(inst, &doc); err != nil || doc["x-amz-wrap-alg"] != "AES/GCM" || doc["x-amz-key-v2"] == nil {
			t.Fatalf("instruction file %s: %v", inst, err)
		}
		e.getEquals("aes-inst", plain, "--aes-key-file", aesKey)                       // found without being told
		e.getEquals("aes-inst", plain, "--aes-key-file", aesKey, "--instruction-file") // and when told
	})

	t.Run("RSA-OAEP-SHA1", func(t *testing.T) {
		e.mustCoffer("put", src, e.url("rsa"), "--rsa-key-file", rsaPub)
		_, meta := e.raw("rsa")
		if meta["x-amz-wrap-alg"] != "RSA-OAEP-SHA1" {
			t.Fatalf("x-amz-wrap-alg = %q", meta["x-amz-wrap-alg"])
		}
		e.getEquals("rsa", plain, "--rsa-key-file", rsaPriv)
		e.getFails("rsa", "private key", "--rsa-key-file", rsaPub)
		e.getFails("rsa", "authentication failed", "--rsa-key-file", otherRSA)
	})

	t.Run("multipart", func(t *testing.T) {
		big, bigPlain := e.file("big.bin", 11<<20+7)
		e.mustCoffer("put", big, e.url("big"), "--aes-key-file", aesKey, "--multipart-threshold", "5MiB", "--part-size", "5MiB")
		out, err := e.s3.HeadObject(&s3.HeadObjectInput{Bucket: aws.String(e.bucket), Key: aws.String("big")})
		if err != nil {
			t.Fatal(err)
		}
		if etag := aws.StringValue(out.ETag); !strings.HasSuffix(etag, `-3"`) {
			t.Errorf("ETag %s: want a 3-part upload", etag)
		}
		e.getEquals("big", bigPlain, "--aes-key-file", aesKey)
	})

	t.Run("key needing escapes", func(t *testing.T) {
		key := "dir/a b+c!é(1)*~'%.txt"
		e.mustCoffer("put", src, e.url(key), "--aes-key-file", aesKey, "--instruction-file")
		if !e.exists(key + ".instruction") {
			t.Fatal("no instruction file under the escaped key")
		}
		e.getEquals(key, plain, "--aes-key-file", aesKey)
	})

	t.Run("empty file", func(t *testing.T) {
		empty, _ := e.file("empty", 0)
		e.mustCoffer("put", empty, e.url("empty"), "--rsa-key-file", rsaPriv)
		e.getEquals("empty", nil, "--rsa-key-file", rsaPriv)
	})

	t.Run("standard output", func(t *testing.T) {
		cmd := exec.Command(harness.Binary(t), "cse", "get", e.url("aes"), "-", "--aes-key-file", aesKey, "--endpoint", e.srv.Endpoint)
		cmd.Env = e.srv.Env()
		got, err := cmd.Output()
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("get to stdout: %v (%d bytes)", err, len(got))
		}
	})

	t.Run("tampered ciphertext", func(t *testing.T) {
		for _, at := range []int{0, len(plain) / 2, len(plain) + 15} {
			body, meta := e.raw("aes")
			body[at] ^= 0x01
			e.putRaw("tampered", body, meta)
			e.getFails("tampered", "authentication failed", "--aes-key-file", aesKey)
		}
	})

	t.Run("truncated ciphertext", func(t *testing.T) {
		body, meta := e.raw("aes")
		e.putRaw("truncated", body[:len(body)-1], meta)
		e.getFails("truncated", "authentication failed", "--aes-key-file", aesKey)
	})

	t.Run("tampered metadata", func(t *testing.T) {
		body, meta := e.raw("aes")
		meta["x-amz-unencrypted-content-length"] = "5"
		e.putRaw("bad-length", body, meta)
		e.getFails("bad-length", "x-amz-unencrypted-content-length", "--aes-key-file", aesKey)
		_, meta = e.raw("aes")
		meta["x-amz-cek-alg"] = "AES/CBC/PKCS5Padding"
		e.putRaw("cbc", body, meta)
		e.getFails("cbc", "unsupported", "--aes-key-file", aesKey)
	})

	t.Run("wrong or missing key", func(t *testing.T) {
		e.getFails("aes", "authentication failed", "--aes-key-file", otherAES)
		e.getFails("aes", "no key given", "--rsa-key-file", rsaPriv)
		e.getFails("aes", "encryption context", "--aes-key-file", aesKey, "--encryption-context", "a=b")
		e.getFails("aes", "not the required KMS key", "--aes-key-file", aesKey, "--kms-key-id", "alias/any")
	})

	t.Run("formats refused", func(t *testing.T) {
		e.putRaw("plain", []byte("hello"), nil)
		e.getFails("plain", "not client-side encrypted", "--aes-key-file", aesKey)
		e.putRaw("v1", []byte("0123456789abcdef"), map[string]string{"x-amz-key": "AAAA", "x-amz-iv": "AAAA", "x-amz-matdesc": "{}"})
		e.getFails("v1", "legacy v1", "--aes-key-file", aesKey)
	})

	t.Run("bad arguments", func(t *testing.T) {
		for _, args := range [][]string{
			{"put", src, e.url("x")},
			{"put", src, e.url("x"), "--aes-key-file", aesKey, "--rsa-key-file", rsaPub},
			{"put", src, e.url("x"), "--aes-key-file", aesKey, "--encryption-context", "a=b"},
			{"put", src, "s3://bucket-only", "--aes-key-file", aesKey},
			{"put", src, e.url("x"), "--kms-key-id", "k", "--encryption-context", "aws:x-amz-cek-alg=x"},
		} {
			if out, err := e.coffer(args...); err == nil {
				t.Errorf("%q accepted:\n%s", args, out)
			}
		}
		if e.exists("x") {
			t.Error("a refused put wrote an object")
		}
	})
}
