// Package keys tests the root-key providers and escrow end to end: the
// real coffer binary, real objects, restarts and fresh machines.
package keys

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/coffer-io/coffer/test/harness"
)

// env is the environment for coffer commands: no configuration file and
// no root-key or Vault settings from the machine.
func env(extra ...string) []string {
	var out []string
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, "COFFER_") || strings.HasPrefix(e, "VAULT_") {
			continue
		}
		out = append(out, e)
	}
	return append(append(out, "COFFER_CONFIG="), extra...)
}

// coffer runs the binary to completion and returns stdout, stderr and
// the exit error.
func coffer(t *testing.T, environ []string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, harness.Binary(t), args...)
	cmd.Env = environ
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// startFails runs `coffer server` expecting it to refuse to start with a
// message containing every want.
func startFails(t *testing.T, environ []string, dir string, args []string, want ...string) {
	t.Helper()
	all := append([]string{"server", "--data", dir, "--address", "127.0.0.1:0"}, args...)
	_, stderr, err := coffer(t, environ, all...)
	if err == nil {
		t.Fatalf("server started (%v)", args)
	}
	t.Logf("start refused: %s", strings.TrimSpace(stderr))
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("start error does not mention %q:\n%s", w, stderr)
		}
	}
}

func client(t *testing.T, s *harness.Server) *minio.Client {
	t.Helper()
	mc, err := minio.New(s.Addr, &minio.Options{
		Creds:        miniocreds.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Secure:       true,
		Transport:    s.HTTPClient().Transport,
		Region:       s.Region,
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return mc
}

func randomBody(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// putObjects writes objects of several sizes (inline, single-package,
// many packages, multipart) and returns them by key.
func putObjects(t *testing.T, s *harness.Server, bucket string, sizes map[string]int) map[string][]byte {
	t.Helper()
	ctx := t.Context()
	mc := client(t, s)
	if err := mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	objs := map[string][]byte{}
	for key, n := range sizes {
		body := randomBody(t, n)
		// 5 MiB parts: anything larger goes up as a multipart upload.
		info, err := mc.PutObject(ctx, bucket, key, bytes.NewReader(body), int64(n), minio.PutObjectOptions{PartSize: 5 << 20})
		if err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
		if n > 5<<20 && !strings.Contains(info.ETag, "-") {
			t.Fatalf("%s was not uploaded in parts (ETag %s)", key, info.ETag)
		}
		objs[key] = body
	}
	return objs
}

// checkObjects reads every object back and compares it byte for byte.
func checkObjects(t *testing.T, s *harness.Server, bucket string, objs map[string][]byte) {
	t.Helper()
	mc := client(t, s)
	for key, want := range objs {
		o, err := mc.GetObject(t.Context(), bucket, key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(o)
		o.Close()
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s differs: %d bytes, want %d", key, len(got), len(want))
		}
	}
}
