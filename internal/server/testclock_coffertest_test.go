//go:build coffertest

package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestTestClockEndpoint(t *testing.T) {
	mux := http.NewServeMux()
	testRoutes(mux)
	before := dataClock.Now()
	for _, tc := range []struct {
		query string
		code  int
	}{
		{"advance=48h", 200}, {"advance=-1h", 400}, {"advance=soon", 400}, {"", 400},
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("POST", "/_coffer/test/clock?"+tc.query, nil))
		if rec.Code != tc.code {
			t.Errorf("%s: status %d, want %d", tc.query, rec.Code, tc.code)
		}
	}
	if d := dataClock.Now().Sub(before); d < 48*time.Hour {
		t.Fatalf("clock moved by %v", d)
	}
}
