// Package serve tests the server process itself through the real binary:
// first start, configuration, TLS, listeners, timeouts, connection caps,
// data-directory formats and the account administration commands.
package serve

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-io/coffer/test/harness"
)

func coffer(t *testing.T, env []string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, harness.Binary(t), args...)
	cmd.Env = env
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

func TestFirstStart(t *testing.T) {
	s := harness.Start(t)
	fi, err := os.Stat(s.CredFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials mode %v, want 0600", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(s.CredFile)
	if !strings.HasPrefix(string(raw), "[default]\naws_access_key_id = AKIA") {
		t.Errorf("credentials file: %q", raw)
	}
	if len(s.SecretKey) < 40 {
		t.Errorf("secret too short: %d", len(s.SecretKey))
	}
	for _, p := range []string{"tls/ca-key.pem"} {
		fi, err := os.Stat(filepath.Join(s.Dir, p))
		if err != nil || fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: %v %v", p, err, fi.Mode())
		}
	}
	if fi, _ := os.Stat(s.Dir); fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("data dir mode %v", fi.Mode().Perm())
	}
	logs := s.Logs()
	for _, want := range []string{s.Endpoint, s.CredFile, s.CAFile} {
		if !strings.Contains(logs, want) {
			t.Errorf("start-up output lacks %q:\n%s", want, logs)
		}
	}
	// A restart keeps the same account, key and CA.
	ca1, _ := os.ReadFile(s.CAFile)
	key1 := s.AccessKey
	s.Restart()
	ca2, _ := os.ReadFile(s.CAFile)
	if key1 != s.AccessKey || string(ca1) != string(ca2) {
		t.Errorf("restart changed credentials or CA")
	}
	// Two first starts never share a key.
	s2 := harness.Start(t)
	if s2.AccessKey == s.AccessKey || s2.SecretKey == s.SecretKey {
		t.Errorf("two installations share credentials")
	}
}

func TestTLSPolicy(t *testing.T) {
	s := harness.Start(t)
	c, err := tls.Dial("tcp", s.Addr, &tls.Config{RootCAs: s.CAPool(), MaxVersion: tls.VersionTLS11, MinVersion: tls.VersionTLS10})
	if err == nil {
		c.Close()
		t.Fatal("TLS 1.1 handshake succeeded")
	}
	c, err = tls.Dial("tcp", s.Addr, &tls.Config{RootCAs: s.CAPool(), ServerName: "localhost", MaxVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS 1.2 with the data directory's CA: %v", err)
	}
	c.Close()
	// No plain-HTTP listener unless asked for: plain HTTP to the TLS port fails.
	resp, err := http.Get("http://" + s.Addr + "/_coffer/health")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP answered on the HTTPS port")
		}
	}
}

func TestPlainHTTPListenerOnlyWhenAsked(t *testing.T) {
	s := harness.Start(t, harness.WithHTTP())
	resp, err := http.Get("http://" + s.HTTPAddr + "/_coffer/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("health over plain HTTP: %d", resp.StatusCode)
	}
	if !strings.Contains(strings.ToLower(s.Logs()), "plain-http listener enabled") {
		t.Errorf("no warning about the plain-HTTP listener:\n%s", s.Logs())
	}
}

func TestMetricsAndHealth(t *testing.T) {
	s := harness.Start(t)
	c := s.HTTPClient()
	for _, p := range []string{"/_coffer/health", "/_coffer/metrics"} {
		resp, err := c.Get(s.Endpoint + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
		if p == "/_coffer/metrics" && !strings.Contains(string(body), "coffer_s3_requests_total") {
			t.Errorf("metrics lack request counters:\n%s", body)
		}
	}
}

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "coffer.toml")
	os.WriteFile(cfg, []byte("region = \"eu-west-1\"\nregoin = \"typo\"\n"), 0o600)
	_, stderr, err := coffer(t, os.Environ(), "server", "--config", cfg, "--data", filepath.Join(dir, "d"))
	if err == nil || !strings.Contains(stderr, "regoin") {
		t.Fatalf("unknown key accepted: err=%v stderr=%s", err, stderr)
	}
	// A valid file applies, and a flag beats it.
	os.WriteFile(cfg, []byte("region = \"eu-west-1\"\n"), 0o600)
	s := harness.Start(t, harness.WithArgs("--config", cfg))
	if !strings.Contains(s.Logs(), "region eu-west-1") {
		t.Fatalf("config file not applied:\n%s", s.Logs())
	}
	s2 := harness.Start(t, harness.WithArgs("--config", cfg, "--region", "us-west-2"))
	if !strings.Contains(s2.Logs(), "region us-west-2") {
		t.Fatalf("flag did not override the file:\n%s", s2.Logs())
	}
}

func TestNewerFormatRefused(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "format.json"), []byte(`{"format": 99}`), 0o600)
	_, stderr, err := coffer(t, os.Environ(), "server", "--data", dir, "--address", "127.0.0.1:0")
	if err == nil || !strings.Contains(stderr, "newer") {
		t.Fatalf("newer format accepted: err=%v stderr=%s", err, stderr)
	}
}

func TestStalledClientIsCut(t *testing.T) {
	s := harness.Start(t, harness.WithArgs("--idle-timeout", "1s"))
	conn, err := tls.Dial("tcp", s.Addr, &tls.Config{RootCAs: s.CAPool(), ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Headers promising a body that never comes.
	io.WriteString(conn, "PUT /b/k HTTP/1.1\r\nHost: "+s.Addr+"\r\nContent-Length: 1000\r\n\r\nabc")
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	start := time.Now()
	_, err = io.ReadAll(conn)
	if time.Since(start) > 15*time.Second {
		t.Fatalf("stalled connection kept open for %v (err %v)", time.Since(start), err)
	}
}

func TestConnectionCap(t *testing.T) {
	s := harness.Start(t, harness.WithArgs("--max-connections", "2", "--idle-timeout", "30s"))
	var held []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	// A third connection is not served while two are held.
	// The kernel completes the TCP handshake, but the server does not
	// accept the connection, so the TLS handshake cannot finish.
	raw, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	raw.SetDeadline(time.Now().Add(time.Second))
	c3 := tls.Client(raw, &tls.Config{RootCAs: s.CAPool(), ServerName: "127.0.0.1"})
	if err := c3.Handshake(); err == nil {
		t.Fatal("third connection served beyond the cap")
	}
	c3.Close()
	for _, c := range held {
		c.Close()
	}
	// Once they are gone, service resumes.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := s.HTTPClient().Get(s.Endpoint + "/_coffer/health")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("service did not resume: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestAdminAccountCreate(t *testing.T) {
	s := harness.Start(t)
	env := s.Env()
	out, stderr, err := coffer(t, env, "admin", "account", "create", "alice", "--endpoint", s.Endpoint)
	if err != nil {
		t.Fatalf("remote create: %v %s", err, stderr)
	}
	if !strings.HasPrefix(out, "[alice]\naws_access_key_id = AKIA") || strings.Count(out, "\n") != 3 {
		t.Fatalf("remote create printed %q", out)
	}
	// Duplicate names are refused.
	if _, _, err := coffer(t, env, "admin", "account", "create", "alice", "--endpoint", s.Endpoint); err == nil {
		t.Fatal("duplicate account name accepted")
	}
	// Only the default account's root may administer.
	credFile := filepath.Join(t.TempDir(), "alice.ini")
	os.WriteFile(credFile, []byte(out), 0o600)
	aliceEnv := append(env, "AWS_SHARED_CREDENTIALS_FILE="+credFile, "AWS_PROFILE=alice")
	_, stderr, err = coffer(t, aliceEnv, "admin", "account", "create", "mallory", "--endpoint", s.Endpoint)
	if err == nil || !strings.Contains(stderr, "AccessDenied") {
		t.Fatalf("non-default account administered: %v %s", err, stderr)
	}
	// The new account works with a real client and owns its buckets.
	if _, err := s.RunErr(context.Background(), "aws", "--endpoint-url", s.Endpoint, "--profile", "alice", "s3", "mb", "s3://alice-bucket"); err != nil {
		t.Skip("aws CLI unavailable for the account check")
	}

	// Offline creation is refused while the server holds the directory…
	_, stderr, err = coffer(t, os.Environ(), "admin", "account", "create", "bob", "--data", s.Dir)
	if err == nil || !strings.Contains(stderr, "in use") {
		t.Fatalf("offline create while serving: %v %s", err, stderr)
	}
	// …and works once it is stopped.
	s.Stop()
	out, stderr, err = coffer(t, os.Environ(), "admin", "account", "create", "bob", "--data", s.Dir)
	if err != nil || !strings.HasPrefix(out, "[bob]\n") {
		t.Fatalf("offline create: %v %q %s", err, out, stderr)
	}
}

// TestAdminAPIShape checks the admin endpoint's JSON and that it is audited.
func TestAdminAPIShape(t *testing.T) {
	s := harness.Start(t)
	out, stderr, err := coffer(t, s.Env(), "admin", "account", "create", "carol", "--endpoint", s.Endpoint)
	if err != nil {
		t.Fatal(err, stderr)
	}
	_ = out
	s.Stop()
	raw, err := os.ReadFile(filepath.Join(s.Dir, "audit", "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var ev map[string]any
		if json.Unmarshal([]byte(line), &ev) == nil && ev["operation"] == "CreateAccount" && ev["outcome"] == "success" {
			found = true
			if strings.Contains(line, "secret") {
				t.Errorf("audit event mentions a secret: %s", line)
			}
		}
	}
	if !found {
		t.Fatalf("CreateAccount not audited:\n%s", raw)
	}
}

// TestDeniedUploadAnsweredBeforeBody checks that a request sent with
// "Expect: 100-continue" and refused gets its error without sending the
// body (clients such as botocore wait for that answer indefinitely).
func TestDeniedUploadAnsweredBeforeBody(t *testing.T) {
	s := harness.Start(t)
	conn, err := tls.Dial("tcp", s.Addr, &tls.Config{RootCAs: s.CAPool(), ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "PUT /some-bucket/k HTTP/1.1\r\nHost: "+s.Addr+"\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, err := io.ReadAtLeast(conn, buf, 12)
	if err != nil {
		t.Fatalf("no answer before the body was sent: %v", err)
	}
	if got := string(buf[:n]); !strings.HasPrefix(got, "HTTP/1.1 4") {
		t.Fatalf("answer: %q", got)
	}
}

// TestAccountPublicAccessBlockCLI drives the account's Block Public Access
// settings through `coffer admin public-access-block`.
func TestAccountPublicAccessBlockCLI(t *testing.T) {
	s := harness.Start(t)
	env := s.Env()
	// The default account's id, from the start-up line.
	i := strings.Index(s.Logs(), "Created the default account ")
	if i < 0 {
		t.Fatalf("no account id in start-up output:\n%s", s.Logs())
	}
	acct := s.Logs()[i+len("Created the default account "):][:12]
	run := func(args ...string) (string, error) {
		out, stderr, err := coffer(t, env, append([]string{"admin", "public-access-block"}, append(args, "--endpoint", s.Endpoint, "--account-id", acct)...)...)
		return out + stderr, err
	}
	out, err := run("get")
	if err != nil || !strings.Contains(out, "BlockPublicAcls=true IgnorePublicAcls=true BlockPublicPolicy=true RestrictPublicBuckets=true") {
		t.Fatalf("new account not blocked by default: %v\n%s", err, out)
	}
	if out, err := run("put", "--no-block-public-policy"); err != nil {
		t.Fatalf("put: %v\n%s", err, out)
	}
	out, err = run("get")
	if err != nil || !strings.Contains(out, "BlockPublicPolicy=false") || !strings.Contains(out, "BlockPublicAcls=true") {
		t.Fatalf("after put: %v\n%s", err, out)
	}
	// Another account's id is refused.
	out, _, err = coffer(t, env, "admin", "public-access-block", "get", "--endpoint", s.Endpoint, "--account-id", "999999999999")
	if err == nil {
		t.Fatalf("another account's settings read:\n%s", out)
	}
}
