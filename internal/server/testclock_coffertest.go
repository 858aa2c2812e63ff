//go:build coffertest

package server

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/coffer-io/coffer/internal/clock"
)

// Test builds only: the data-protection clock can be moved forward with
// POST /_coffer/test/clock?advance=DURATION, so end-to-end tests can let
// Object Lock retention run out and put hours between trail digest
// periods. It moves nothing else: signatures,
// TOTP codes, STS sessions and TLS keep the real time.
func init() {
	c := &clock.Offset{}
	dataClock = c
	testRoutes = func(mux *http.ServeMux) {
		mux.HandleFunc("POST /_coffer/test/clock", func(w http.ResponseWriter, r *http.Request) {
			d, err := time.ParseDuration(r.URL.Query().Get("advance"))
			if err != nil || d < 0 {
				http.Error(w, "advance must be a non-negative duration", http.StatusBadRequest)
				return
			}
			off := c.Advance(d)
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{
				"offset": off.String(),
				"now":    c.Now().UTC().Format(time.RFC3339Nano),
			})
		})
	}
}
