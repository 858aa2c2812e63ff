package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certReloadInterval is how often at most a handshake looks at the
// certificate files: a stat of two files every few seconds costs nothing.
const certReloadInterval = 2 * time.Second

// certReloader serves the certificate of --tls-cert/--tls-key and picks
// up a replaced pair without a restart: handshakes notice a change of the
// files' identity, size or modification time (checked at most every
// interval), and SIGHUP forces a reload. A pair that does not load (a
// half-written file, a key that does not match) leaves the old
// certificate serving and is logged once; the next change is tried again.
type certReloader struct {
	certFile, keyFile string
	interval          time.Duration
	log               *slog.Logger
	now               func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	loaded  [2]os.FileInfo // of the pair serving
	failed  [2]os.FileInfo // of the last pair that did not load
	statErr string         // the last stat failure, logged once
	checked time.Time
}

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, interval: certReloadInterval, log: log, now: time.Now}
	st, err := r.stat()
	if err != nil {
		return nil, fmt.Errorf("loading TLS certificate: %w", err)
	}
	cert, err := loadPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("loading TLS certificate: %w", err)
	}
	r.cert, r.loaded, r.checked = cert, st, r.now()
	return r, nil
}

func loadPair(certFile, keyFile string) (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, err
		}
	}
	return &cert, nil
}

func (r *certReloader) stat() ([2]os.FileInfo, error) {
	c, err := os.Stat(r.certFile)
	if err != nil {
		return [2]os.FileInfo{}, err
	}
	k, err := os.Stat(r.keyFile)
	if err != nil {
		return [2]os.FileInfo{}, err
	}
	return [2]os.FileInfo{c, k}, nil
}

func sameFiles(a, b [2]os.FileInfo) bool {
	for i := range a {
		if a[i] == nil || b[i] == nil || !os.SameFile(a[i], b[i]) || !a[i].ModTime().Equal(b[i].ModTime()) || a[i].Size() != b[i].Size() {
			return false
		}
	}
	return true
}

// GetCertificate is the tls.Config hook.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := r.now(); now.Sub(r.checked) >= r.interval {
		r.checked = now
		r.reloadLocked(false, "files changed")
	}
	return r.cert, nil
}

// Reload loads the pair now, even if the files look unchanged (SIGHUP).
func (r *certReloader) Reload(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checked = r.now()
	r.reloadLocked(true, reason)
}

func (r *certReloader) reloadLocked(force bool, reason string) {
	st, err := r.stat()
	if err != nil {
		if force || err.Error() != r.statErr {
			r.log.Error("TLS certificate not reloaded; the previous one stays in use", "reason", reason, "err", err)
		}
		r.statErr = err.Error()
		return
	}
	r.statErr = ""
	if !force && (sameFiles(st, r.loaded) || sameFiles(st, r.failed)) {
		return
	}
	cert, err := loadPair(r.certFile, r.keyFile)
	if err != nil {
		r.failed = st
		r.log.Error("TLS certificate not reloaded; the previous one stays in use", "reason", reason, "cert", r.certFile, "key", r.keyFile, "err", err)
		return
	}
	r.cert, r.loaded, r.failed = cert, st, [2]os.FileInfo{}
	r.log.Info("reloaded the TLS certificate", "reason", reason, "subject", cert.Leaf.Subject.String(), "notAfter", cert.Leaf.NotAfter)
}
