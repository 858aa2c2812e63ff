package serve

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/auth/sigv4"
	"github.com/coffer-io/coffer/test/harness"
)

// s3do sends a signed S3 request with the server's root credentials and
// returns the response with its body read.
func s3do(t *testing.T, s *harness.Server, method, path string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sr := &sigv4.Request{Method: req.Method, Host: req.URL.Host, EscapedPath: req.URL.EscapedPath(), Header: req.Header}
	sigv4.SignRequest(sr, s.AccessKey, s.SecretKey, s.Region, "s3", sigv4.HashHex(body), time.Now())
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	return resp, got
}

func mustStatus(t *testing.T, what string, resp *http.Response, body []byte, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s: status %d, want %d: %s", what, resp.StatusCode, want, body)
	}
}

func randomBody(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// fileContaining reports whether a file under dir/blobs holds needle.
func fileContaining(t *testing.T, dir string, needle []byte) bool {
	t.Helper()
	found := false
	filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if raw, err := os.ReadFile(p); err == nil && bytes.Contains(raw, needle) {
				found = true
			}
		}
		return nil
	})
	return found
}

// The default root key is created 0600 in the data directory with a
// warning, survives restarts, and is what the data depends on: with
// another root key, the server refuses to start.
func TestRootKeyDefault(t *testing.T) {
	s := harness.Start(t)
	path := filepath.Join(s.Dir, "keys", "root.key")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("root key mode %v, want 0600", fi.Mode().Perm())
	}
	if !strings.Contains(s.Logs(), "root key is stored in the data directory") {
		t.Errorf("no warning about the root key in the data directory:\n%s", s.Logs())
	}
	big, small := randomBody(t, 100<<10), []byte("small and inline")
	mkBucket(t, s, "rootkey")
	resp, body := s3do(t, s, "PUT", "/rootkey/big", big)
	mustStatus(t, "put big", resp, body, 200)
	if resp.Header.Get("X-Amz-Server-Side-Encryption") != "AES256" {
		t.Errorf("PUT x-amz-server-side-encryption = %q", resp.Header.Get("X-Amz-Server-Side-Encryption"))
	}
	resp, body = s3do(t, s, "PUT", "/rootkey/small", small)
	mustStatus(t, "put small", resp, body, 200)
	if fileContaining(t, s.Dir, big[:4096]) {
		t.Fatal("object data found in clear under blobs/")
	}

	s.Restart()
	for key, want := range map[string][]byte{"big": big, "small": small} {
		resp, body := s3do(t, s, "GET", "/rootkey/"+key, nil)
		mustStatus(t, "get after restart", resp, body, 200)
		if !bytes.Equal(body, want) {
			t.Fatalf("%s differs after restart", key)
		}
	}

	s.Stop()
	other := base64.StdEncoding.EncodeToString(randomBody(t, 32))
	if err := os.WriteFile(path, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	// Another root key is refused at start (by the fingerprint recorded
	// in the data directory) rather than failing object by object.
	_, stderr, err := coffer(t, append(os.Environ(), "COFFER_CONFIG="), "server", "--data", s.Dir, "--address", "127.0.0.1:0")
	if err == nil || !strings.Contains(stderr, "wrong root key for this data directory") {
		t.Fatalf("server under another root key: %v %s", err, stderr)
	}
}

func mkBucket(t *testing.T, s *harness.Server, name string) {
	t.Helper()
	resp, body := s3do(t, s, "PUT", "/"+name, nil)
	mustStatus(t, "create bucket "+name, resp, body, 200)
}

// --root-key-file and COFFER_ROOT_KEY name the same key; a bad key stops
// the server at start.
func TestRootKeyFileAndEnv(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(randomBody(t, 32))
	keyFile := filepath.Join(t.TempDir(), "root.key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := harness.Start(t, harness.WithDir(dir), harness.WithArgs("--root-key-file", keyFile))
	if _, err := os.Stat(filepath.Join(dir, "keys", "root.key")); err == nil {
		t.Fatal("a root key was created in the data directory although one was given")
	}
	data := randomBody(t, 70<<10)
	mkBucket(t, s, "rootkeyfile")
	resp, body := s3do(t, s, "PUT", "/rootkeyfile/obj", data)
	mustStatus(t, "put", resp, body, 200)
	s.Stop()

	t.Setenv("COFFER_ROOT_KEY", key)
	s2 := harness.Start(t, harness.WithDir(dir))
	resp, body = s3do(t, s2, "GET", "/rootkeyfile/obj", nil)
	mustStatus(t, "get with COFFER_ROOT_KEY", resp, body, 200)
	if !bytes.Equal(body, data) {
		t.Fatal("object differs")
	}
	s2.Stop()

	t.Setenv("COFFER_ROOT_KEY", "dG9vIHNob3J0")
	_, stderr, err := coffer(t, os.Environ(), "server", "--data", dir, "--address", "127.0.0.1:0")
	if err == nil || !strings.Contains(stderr, "root key") {
		t.Fatalf("server with a short root key: %v %s", err, stderr)
	}
}

// --insecure-disable-encryption-at-rest writes in clear, with a warning;
// a server without it reads that data and encrypts new writes again.
func TestInsecureDisableEncryption(t *testing.T) {
	dir := t.TempDir()
	s := harness.Start(t, harness.WithDir(dir), harness.WithArgs("--insecure-disable-encryption-at-rest"))
	if !strings.Contains(s.Logs(), "UNENCRYPTED") {
		t.Errorf("no warning about unencrypted writes:\n%s", s.Logs())
	}
	clear := randomBody(t, 80<<10)
	mkBucket(t, s, "insecure")
	resp, body := s3do(t, s, "PUT", "/insecure/clear", clear)
	mustStatus(t, "put", resp, body, 200)
	if v := resp.Header.Get("X-Amz-Server-Side-Encryption"); v != "" {
		t.Errorf("unencrypted PUT reports x-amz-server-side-encryption: %s", v)
	}
	if !fileContaining(t, dir, clear[:4096]) {
		t.Error("the benchmark setting did not write in clear")
	}
	s.Stop()

	s2 := harness.Start(t, harness.WithDir(dir))
	resp, body = s3do(t, s2, "GET", "/insecure/clear", nil)
	mustStatus(t, "get clear object", resp, body, 200)
	if !bytes.Equal(body, clear) || resp.Header.Get("X-Amz-Server-Side-Encryption") != "" {
		t.Fatalf("clear object: equal %v, SSE %q", bytes.Equal(body, clear), resp.Header.Get("X-Amz-Server-Side-Encryption"))
	}
	enc := randomBody(t, 80<<10)
	resp, body = s3do(t, s2, "PUT", "/insecure/enc", enc)
	mustStatus(t, "put", resp, body, 200)
	if resp.Header.Get("X-Amz-Server-Side-Encryption") != "AES256" || fileContaining(t, dir, enc[:4096]) {
		t.Fatal("writes are not encrypted again without the setting")
	}
}
