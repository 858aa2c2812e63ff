package server

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"github.com/coffer-io/coffer/internal/fsutil"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pair issues a certificate for host from a test CA and returns its PEM
// files' contents.
func pair(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, host string) (certPEM, keyPEM []byte) {
	t.Helper()
	c, err := serverCertificate(ca, caKey, []string{host})
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(c.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

func hasHost(c *tls.Certificate, host string) bool {
	for _, n := range c.Leaf.DNSNames {
		if n == host {
			return true
		}
	}
	return false
}

func TestCertReloader(t *testing.T) {
	dir := t.TempDir()
	ca, caKey, err := localCA(filepath.Join(dir, "ca"))
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	install := func(c, k []byte) {
		t.Helper()
		if err := fsutil.WriteFileAtomic(certFile, c, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := fsutil.WriteFileAtomic(keyFile, k, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	aCert, aKey := pair(t, ca, caKey, "a.test")
	install(aCert, aKey)
	var logs bytes.Buffer
	r, err := newCertReloader(certFile, keyFile, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return now }
	r.checked = now
	serving := func(host string) bool {
		t.Helper()
		c, err := r.GetCertificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		return hasHost(c, host)
	}
	if !serving("a.test") {
		t.Fatal("not serving the first certificate")
	}

	// A new pair is seen at the next check, not before.
	bCert, bKey := pair(t, ca, caKey, "b.test")
	install(bCert, bKey)
	if !serving("a.test") {
		t.Fatal("reloaded before the interval")
	}
	now = now.Add(certReloadInterval)
	if !serving("b.test") {
		t.Fatal("new certificate not picked up after the interval")
	}

	// A broken pair (certificate without its key) keeps the old one and
	// is logged once however many checks see it.
	cCert, cKey := pair(t, ca, caKey, "c.test")
	install(cCert, bKey)
	for range 3 {
		now = now.Add(certReloadInterval)
		if !serving("b.test") {
			t.Fatal("a broken pair replaced the serving certificate")
		}
	}
	if n := strings.Count(logs.String(), "TLS certificate not reloaded"); n != 1 {
		t.Fatalf("broken pair logged %d times:\n%s", n, logs.String())
	}
	install(cCert, cKey)
	now = now.Add(certReloadInterval)
	if !serving("c.test") {
		t.Fatal("the repaired pair was not loaded")
	}

	// A missing file keeps the certificate too.
	os.Rename(keyFile, keyFile+".away")
	now = now.Add(certReloadInterval)
	if !serving("c.test") {
		t.Fatal("a missing key file replaced the serving certificate")
	}
	os.Rename(keyFile+".away", keyFile)

	// SIGHUP reloads at once.
	dCert, dKey := pair(t, ca, caKey, "d.test")
	install(dCert, dKey)
	r.Reload("SIGHUP")
	if !serving("d.test") {
		t.Fatal("Reload did not load the new pair")
	}
	if !strings.Contains(logs.String(), "reason=SIGHUP") {
		t.Errorf("reload not logged:\n%s", logs.String())
	}
}

func TestTLSMinVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint16
		err  bool
	}{
		{"", tls.VersionTLS12, false},
		{"1.2", tls.VersionTLS12, false},
		{"1.3", tls.VersionTLS13, false},
		{"1.1", 0, true},
		{"1.0", 0, true},
		{"tls1.3", 0, true},
		{"1.4", 0, true},
	} {
		got, err := tlsMinVersion(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("tlsMinVersion(%q) = %v, %v", tc.in, got, err)
		}
	}
}
