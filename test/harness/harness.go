// Package harness starts the real coffer binary for end-to-end tests: it
// builds the binary once per test process, runs a server on a free
// loopback port with a fresh data directory, and hands tests what real
// clients need (endpoint, credentials file, CA bundle, keys).
package harness

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/awscreds"
)

// build is one build of the binary, per set of build tags.
type build struct {
	once sync.Once
	path string
	err  error
}

var (
	buildsMu sync.Mutex
	builds   = map[string]*build{}
)

// Binary returns the path of a coffer binary built from this checkout
// (or $COFFER_BIN when set).
func Binary(t testing.TB) string { return binary(t, "") }

// TestBinary returns a coffer binary built with the coffertest tag, whose
// data-protection clock tests can move (or $COFFER_TEST_BIN when set).
func TestBinary(t testing.TB) string { return binary(t, "coffertest") }

func binary(t testing.TB, tags string) string {
	t.Helper()
	env := "COFFER_BIN"
	if tags != "" {
		env = "COFFER_TEST_BIN"
	}
	if p := os.Getenv(env); p != "" {
		return p
	}
	buildsMu.Lock()
	b := builds[tags]
	if b == nil {
		b = &build{}
		builds[tags] = b
	}
	buildsMu.Unlock()
	b.once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		dir, err := os.MkdirTemp("", "coffer-bin-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, "coffer")
		args := []string{"build", "-o", b.path}
		if tags != "" {
			args = append(args, "-tags", tags)
		}
		cmd := exec.Command("go", append(args, "./cmd/coffer")...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// Server is a running coffer server.
type Server struct {
	t        testing.TB
	Dir      string // data directory
	Endpoint string // https://127.0.0.1:PORT
	Addr     string // 127.0.0.1:PORT
	HTTPAddr string // plain-HTTP address, if requested
	CAFile   string
	CredFile string
	Region   string
	// AccessKey and SecretKey are the default account root's credentials.
	AccessKey, SecretKey string
	Args                 []string
	// testBuild runs the coffertest build (see WithTestClock).
	testBuild bool
	cmd       *exec.Cmd
	done      chan struct{} // closed when the process has exited
	logs      *bytes.Buffer
	logMu     *sync.Mutex
}

// Option adjusts a server before start.
type Option func(*Server)

// WithArgs adds command-line arguments to `coffer server`.
func WithArgs(args ...string) Option { return func(s *Server) { s.Args = append(s.Args, args...) } }

// WithDir uses an existing data directory.
func WithDir(dir string) Option { return func(s *Server) { s.Dir = dir } }

// WithTestClock runs a binary built with the coffertest tag, whose
// data-protection clock AdvanceClock moves. Only tests of retention and
// other time-driven data protection need it.
func WithTestClock() Option { return func(s *Server) { s.testBuild = true } }

// WithHTTP also starts the plain-HTTP listener.
func WithHTTP() Option { return func(s *Server) { s.HTTPAddr = freeAddr(s.t) } }

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Start runs a server and stops it when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{t: t, Region: "us-east-1"}
	for _, o := range opts {
		o(s)
	}
	if s.Dir == "" {
		s.Dir = t.TempDir()
	}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() {
	t := s.t
	t.Helper()
	// The free port found by freeAddr can be taken by another process
	// before the server binds it; a server that exits during start-up is
	// retried on a fresh port.
	for attempt := 0; ; attempt++ {
		err := s.startOnce()
		if err == nil {
			break
		}
		if attempt == 2 || !s.exited() {
			t.Fatalf("%v; logs:\n%s", err, s.Logs())
		}
	}
	var err error
	if s.AccessKey, s.SecretKey, _, err = awscreds.Load(s.CredFile, "default"); err != nil {
		t.Fatal(err)
	}
}

func (s *Server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (s *Server) startOnce() error {
	t := s.t
	s.Addr = freeAddr(t)
	args := []string{"server", "--data", s.Dir, "--address", s.Addr, "--log-level", "debug"}
	if s.HTTPAddr != "" {
		args = append(args, "--http-address", s.HTTPAddr)
	}
	args = append(args, s.Args...)
	bin := Binary(t)
	if s.testBuild {
		bin = TestBinary(t)
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = append(os.Environ(), "COFFER_CONFIG=")
	s.logs, s.logMu = &bytes.Buffer{}, &sync.Mutex{}
	s.cmd.Stdout = &lockedWriter{s.logs, s.logMu}
	s.cmd.Stderr = &lockedWriter{s.logs, s.logMu}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(s.cmd, s.done)
	s.Endpoint = "https://" + s.Addr
	s.CAFile = filepath.Join(s.Dir, "tls", "ca.pem")
	s.CredFile = filepath.Join(s.Dir, "credentials")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if time.Now().After(deadline) {
			return fmt.Errorf("server did not become ready")
		}
		if s.exited() {
			return fmt.Errorf("server exited during start-up")
		}
		if s.healthy() {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) healthy() bool {
	if _, err := os.Stat(s.CAFile); err != nil {
		return false
	}
	c := s.HTTPClient()
	c.Timeout = time.Second
	resp, err := c.Get(s.Endpoint + "/_coffer/health")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// AdvanceClock moves the server's data-protection clock forward by d
// (servers started WithTestClock only).
func (s *Server) AdvanceClock(d time.Duration) {
	s.t.Helper()
	if !s.testBuild {
		s.t.Fatal("AdvanceClock needs a server started WithTestClock")
	}
	resp, err := s.HTTPClient().Post(s.Endpoint+"/_coffer/test/clock?advance="+d.String(), "", nil)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("advancing the clock: %s", resp.Status)
	}
}

// Logs returns what the server printed.
func (s *Server) Logs() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.logs.String()
}

// Stop stops the server gracefully.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil || s.exited() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	if s.t.Failed() {
		s.t.Logf("server logs:\n%s", s.Logs())
	}
}

// Kill stops the server with SIGKILL, as a crash would.
func (s *Server) Kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// Signal sends sig to the server process (SIGHUP reloads certificates).
func (s *Server) Signal(sig os.Signal) error { return s.cmd.Process.Signal(sig) }

// Restart starts the server again on the same data directory.
func (s *Server) Restart() {
	s.Stop()
	s.start()
}

// CAPool returns a pool trusting the server's CA.
func (s *Server) CAPool() *x509.CertPool {
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		s.t.Fatal(err)
	}
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(pem)
	return p
}

// HTTPClient returns a client trusting the server's CA.
func (s *Server) HTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: s.CAPool(), MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: 64,
	}, Timeout: 10 * time.Minute}
}

// Env returns the environment for AWS tools talking to this server.
func (s *Server) Env() []string {
	env := []string{}
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, "AWS_") {
			continue
		}
		env = append(env, e)
	}
	return append(env,
		"AWS_SHARED_CREDENTIALS_FILE="+s.CredFile,
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_CA_BUNDLE="+s.CAFile,
		"AWS_DEFAULT_REGION="+s.Region,
		"AWS_REGION="+s.Region,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
	)
}

// Run runs a command with the server's AWS environment and returns its
// combined output; a non-zero exit fails the test.
func (s *Server) Run(ctx context.Context, name string, args ...string) string {
	s.t.Helper()
	out, err := s.RunErr(ctx, name, args...)
	if err != nil {
		s.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// RunErr is Run without failing the test.
func (s *Server) RunErr(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = s.Env()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
