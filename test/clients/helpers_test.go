package clients

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-io/coffer/test/harness"
)

// bigSize is the size of the one large file each client uploads. It is over
// 100 MiB so that every client splits it into parts, and deliberately not a
// multiple of any client's part size so that the last part is short.
const bigSize = 100<<20 + 123457

// clientTimeout bounds one client test, so that a hung client cannot eat
// CI's whole budget.
const clientTimeout = 8 * time.Minute

// missingClient skips the test when a client is not installed, or fails it
// when CI demands every client (COFFER_REQUIRE_CLIENTS=1), so that a broken
// install step shows up instead of a quietly shrinking test suite.
func missingClient(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("COFFER_REQUIRE_CLIENTS") == "1" {
		t.Fatalf("%s (COFFER_REQUIRE_CLIENTS=1; run scripts/install-test-tools.sh)", msg)
	}
	t.Skip(msg)
}

// lookClient finds a client binary on PATH or skips/fails the test.
func lookClient(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missingClient(t, "%s not found on PATH", name)
	}
	return p
}

// pathCandidates lists every executable called name in PATH order, so that
// a test can pick the first one with the properties it needs (a version, an
// importable module) rather than just the first one.
func pathCandidates(name string) []string {
	var out []string
	seen := map[string]bool{}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		st, err := os.Stat(p)
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			continue
		}
		// /bin and /usr/bin are often the same directory; one try is enough.
		key := p
		if r, err := filepath.EvalSymlinks(p); err == nil {
			key = r
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, p)
	}
	return out
}

// testContext returns a context that ends before the test's deadline.
func testContext(t *testing.T) context.Context {
	deadline := time.Now().Add(clientTimeout)
	// Leave go test's own deadline room to print the logs of a hung client.
	if dl, ok := t.Deadline(); ok && dl.Add(-30*time.Second).Before(deadline) {
		deadline = dl.Add(-30 * time.Second)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	t.Cleanup(cancel)
	return ctx
}

// runner runs one client binary with a fixed environment.
type runner struct {
	ctx  context.Context
	env  []string
	bin  string
	args []string // prepended to every call
	dir  string
}

// runErr runs the client and returns its combined output.
func (r runner) runErr(t *testing.T, args ...string) (string, error) {
	t.Helper()
	all := append(append([]string{}, r.args...), args...)
	cmd := exec.CommandContext(r.ctx, r.bin, all...)
	cmd.Env = r.env
	cmd.Dir = r.dir
	// Clients must never wait for a prompt.
	cmd.Stdin = nil
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("%s %s (%v)", filepath.Base(r.bin), strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	return string(out), err
}

// run is runErr that fails the test on a non-zero exit.
func (r runner) run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := r.runErr(t, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(r.bin), strings.Join(args, " "), err, out)
	}
	return out
}

// envWithout returns env without the variables named.
func envWithout(env []string, names ...string) []string {
	var out []string
next:
	for _, e := range env {
		for _, n := range names {
			if strings.HasPrefix(e, n+"=") {
				continue next
			}
		}
		out = append(out, e)
	}
	return out
}

// writeBigFile writes size deterministic pseudo-random bytes to path,
// streaming them so the file never sits in memory, and returns its SHA-256.
// Random data keeps any compression along the way from hiding bugs.
func writeBigFile(t *testing.T, path string, size int64) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var seed [32]byte
	copy(seed[:], "coffer client end-to-end data")
	rng := rand.NewChaCha8(seed)
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		n := int64(len(buf))
		if left < n {
			n = left
		}
		for i := int64(0); i < n; i += 8 {
			binary.LittleEndian.PutUint64(buf[i:], rng.Uint64())
		}
		if _, err := w.Write(buf[:n]); err != nil {
			t.Fatal(err)
		}
		left -= n
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sha256File hashes a file without loading it.
func sha256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// readRange returns n bytes of path at off.
func readRange(t *testing.T, path string, off, n int64) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	return b
}

// writeFiles creates files (relative path → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkFiles asserts that dir holds files with the given contents.
func checkFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if string(got) != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
}

// checkSameFile asserts that got has the SHA-256 want.
func checkSameFile(t *testing.T, got, want string) {
	t.Helper()
	if sum := sha256File(t, got); sum != want {
		t.Fatalf("%s: SHA-256 %s, want %s", got, sum, want)
	}
}

// crc32Base64 is the x-amz-checksum-crc32 form of data's CRC32 (IEEE).
func crc32Base64(data []byte) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], crc32.ChecksumIEEE(data))
	return base64.StdEncoding.EncodeToString(b[:])
}

// fetch GETs a URL (a presigned one) trusting only the server's CA.
func fetch(t *testing.T, srv *harness.Server, url string) (int, []byte) {
	t.Helper()
	resp, err := srv.HTTPClient().Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// linesWith returns the output lines that contain substr.
func linesWith(out, substr string) []string {
	var res []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, substr) {
			res = append(res, strings.TrimSpace(l))
		}
	}
	return res
}

// isExitError reports whether err is a client's non-zero exit (rather than
// a failure to run it at all).
func isExitError(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee)
}

// mustContain fails unless out contains every one of subs.
func mustContain(t *testing.T, what, out string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(out, s) {
			t.Errorf("%s: output lacks %q:\n%s", what, s, out)
		}
	}
}

// mustNotContain fails if out contains any of subs.
func mustNotContain(t *testing.T, what, out string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(out, s) {
			t.Errorf("%s: output unexpectedly has %q:\n%s", what, s, out)
		}
	}
}

// boto3Script returns a python3 on PATH that can import boto3 (skipping
// or failing the test as missingClient decides when there is none) and
// the absolute path of the named script in testdata.
func boto3Script(t *testing.T, name string) (python, script string) {
	t.Helper()
	for _, p := range pathCandidates("python3") {
		if exec.Command(p, "-c", "import boto3").Run() == nil {
			python = p
			break
		}
	}
	if python == "" {
		missingClient(t, "no python3 on PATH can import boto3")
	}
	script, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return python, script
}
