package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/coffer-io/coffer/internal/storage/blob"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// health answers the liveness and readiness probes. Liveness says the
// process serves HTTP; readiness says requests can succeed: the metadata
// store answers, the blob store accepts a write, the KMS root key is
// loaded, and the server is not shutting down. Neither reveals data: the
// answer names only which check failed.
type health struct {
	meta      meta.Store
	blobs     blob.Store
	accountID string
	keys      func() bool
	stopping  atomic.Bool
}

type healthCheck struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

func (hc *health) live(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "ok\n")
}

func (hc *health) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	checks := []healthCheck{
		check("metadata", func() error {
			_, err := hc.meta.GetAccount(ctx, hc.accountID)
			return err
		}),
		check("blobs", func() error {
			// A probe write that is never committed: it proves the
			// store can take data and leaves nothing behind.
			bw, err := hc.blobs.Create(ctx)
			if err != nil {
				return err
			}
			defer bw.Abort()
			_, err = bw.Write([]byte{0})
			return err
		}),
		check("keys", func() error {
			if hc.keys == nil || !hc.keys() {
				return errNotLoaded
			}
			return nil
		}),
		check("serving", func() error {
			if hc.stopping.Load() {
				return errStopping
			}
			return nil
		}),
	}
	status := http.StatusOK
	for _, c := range checks {
		if !c.OK {
			status = http.StatusServiceUnavailable
		}
	}
	body, _ := json.Marshal(struct {
		Status string        `json:"status"`
		Checks []healthCheck `json:"checks"`
	}{map[bool]string{true: "ready", false: "not ready"}[status == http.StatusOK], checks})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

type healthError string

func (e healthError) Error() string { return string(e) }

const (
	errNotLoaded = healthError("not loaded")
	errStopping  = healthError("shutting down")
)

// check runs one readiness check. The error text goes out only when it is
// one of ours; a store's own error is summarised, since its text may name
// paths.
func check(name string, fn func() error) healthCheck {
	err := fn()
	if err == nil {
		return healthCheck{Name: name, OK: true}
	}
	if he, ok := err.(healthError); ok {
		return healthCheck{Name: name, Error: string(he)}
	}
	return healthCheck{Name: name, Error: "unavailable"}
}
