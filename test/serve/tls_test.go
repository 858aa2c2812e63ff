package serve

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coffer-io/coffer/test/harness"
)

// testCA issues server certificates for 127.0.0.1 with a chosen common
// name, so that a test can tell which certificate a server presents.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

func (ca *testCA) pem() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})
}

// issue returns PEM certificate and key for 127.0.0.1 named cn.
func (ca *testCA) issue(t *testing.T, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// replace installs a file the way deployment tools do: a new file renamed
// over the old one.
func replace(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// servedName opens a new TLS connection and returns the common name of
// the server's certificate.
func servedName(t *testing.T, addr string, pool *x509.CertPool) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].Subject.CommonName
}

// tlsServer starts a server with --tls-cert/--tls-key from ca, named cn.
// The harness trusts DIR/tls/ca.pem, so the test CA goes there.
func tlsServer(t *testing.T, ca *testCA, cn string, args ...string) (s *harness.Server, certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "tls"), 0o700)
	os.WriteFile(filepath.Join(dir, "tls", "ca.pem"), ca.pem(), 0o644)
	files := t.TempDir()
	certFile, keyFile = filepath.Join(files, "cert.pem"), filepath.Join(files, "key.pem")
	c, k := ca.issue(t, cn)
	os.WriteFile(certFile, c, 0o644)
	os.WriteFile(keyFile, k, 0o600)
	s = harness.Start(t, harness.WithDir(dir), harness.WithArgs(append([]string{"--tls-cert", certFile, "--tls-key", keyFile}, args...)...))
	return s, certFile, keyFile
}

// Certificates given as files are reloaded without a restart: a new
// connection sees a replaced pair, a broken pair leaves the old one
// serving, and SIGHUP reloads at once.
func TestTLSCertificateReload(t *testing.T) {
	ca := newTestCA(t)
	s, certFile, keyFile := tlsServer(t, ca, "first")
	if got := servedName(t, s.Addr, ca.pool); got != "first" {
		t.Fatalf("serving %q", got)
	}
	waitFor := func(want string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			got := servedName(t, s.Addr, ca.pool)
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("still serving %q, want %q", got, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	c2, k2 := ca.issue(t, "second")
	replace(t, keyFile, k2)
	replace(t, certFile, c2)
	waitFor("second")

	// A certificate without its key: the old pair keeps serving.
	c3, k3 := ca.issue(t, "third")
	replace(t, certFile, c3)
	time.Sleep(5 * time.Second)
	if got := servedName(t, s.Addr, ca.pool); got != "second" {
		t.Fatalf("broken pair: serving %q", got)
	}
	// The check runs on a handshake and its log line reaches us through
	// the process's output, so wait for it rather than look once.
	logDeadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.Logs(), "TLS certificate not reloaded") {
		if time.Now().After(logDeadline) {
			t.Fatalf("broken pair not logged:\n%s", s.Logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	replace(t, keyFile, k3)
	waitFor("third")

	// SIGHUP reloads (even unchanged files) and does not stop the server.
	if err := s.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.Logs(), "reason=SIGHUP") {
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP did not reload:\n%s", s.Logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := servedName(t, s.Addr, ca.pool); got != "third" {
		t.Fatalf("after SIGHUP: serving %q", got)
	}
}

// --tls-min-version 1.3 refuses TLS 1.2 clients; the default accepts
// them; other values stop the start.
func TestTLSMinVersion(t *testing.T) {
	ca := newTestCA(t)
	handshake := func(addr string, max uint16) (uint16, error) {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.pool, ServerName: "127.0.0.1", MaxVersion: max})
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.ConnectionState().Version, nil
	}
	s13, _, _ := tlsServer(t, ca, "strict", "--tls-min-version", "1.3")
	if _, err := handshake(s13.Addr, tls.VersionTLS12); err == nil {
		t.Fatal("a TLS 1.2-only client completed a handshake with --tls-min-version 1.3")
	}
	if v, err := handshake(s13.Addr, 0); err != nil || v != tls.VersionTLS13 {
		t.Fatalf("TLS 1.3 client: version %x, %v", v, err)
	}
	s12, _, _ := tlsServer(t, ca, "default")
	if v, err := handshake(s12.Addr, tls.VersionTLS12); err != nil || v != tls.VersionTLS12 {
		t.Fatalf("TLS 1.2 client against the default: version %x, %v", v, err)
	}
	// The data directory's own CA path takes the setting too.
	own := harness.Start(t, harness.WithArgs("--tls-min-version", "1.3"))
	if _, err := tls.Dial("tcp", own.Addr, &tls.Config{RootCAs: own.CAPool(), MaxVersion: tls.VersionTLS12}); err == nil {
		t.Fatal("TLS 1.2 accepted with --tls-min-version 1.3 and the local CA")
	}
	for _, bad := range []string{"1.1", "1.0", "TLS1.3", "1.4"} {
		_, stderr, err := coffer(t, append(os.Environ(), "COFFER_CONFIG="), "server", "--data", t.TempDir(), "--address", "127.0.0.1:0", "--tls-min-version", bad)
		if err == nil || !strings.Contains(stderr, "--tls-min-version") {
			t.Fatalf("--tls-min-version %s: %v %s", bad, err, stderr)
		}
	}
}
