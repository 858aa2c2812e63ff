package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadiness(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acct, _, err := bootstrap(context.Background(), st, filepath.Join(dir, "credentials"))
	if err != nil {
		t.Fatal(err)
	}
	type check struct {
		Name  string
		OK    bool
		Error string
	}
	probe := func(hc *health) (int, map[string]check) {
		rec := httptest.NewRecorder()
		hc.ready(rec, httptest.NewRequest(http.MethodGet, "/_coffer/health/ready", nil))
		var body struct{ Checks []check }
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%v: %s", err, rec.Body)
		}
		by := map[string]check{}
		for _, c := range body.Checks {
			by[c.Name] = c
		}
		return rec.Code, by
	}
	loaded := func() bool { return true }
	for _, c := range []struct {
		name    string
		hc      *health
		status  int
		failing string
		reason  string
	}{
		{"ready", &health{meta: st.Meta, blobs: st.Blobs, accountID: acct.ID, keys: loaded}, 200, "", ""},
		{"metadata unusable", &health{meta: st.Meta, blobs: st.Blobs, accountID: "000000000000", keys: loaded}, 503, "metadata", "unavailable"},
		{"keys not loaded", &health{meta: st.Meta, blobs: st.Blobs, accountID: acct.ID, keys: func() bool { return false }}, 503, "keys", "not loaded"},
		{"shutting down", func() *health {
			hc := &health{meta: st.Meta, blobs: st.Blobs, accountID: acct.ID, keys: loaded}
			hc.stopping.Store(true)
			return hc
		}(), 503, "serving", "shutting down"},
	} {
		status, checks := probe(c.hc)
		if status != c.status {
			t.Errorf("%s: status %d, want %d", c.name, status, c.status)
		}
		for name, ch := range checks {
			if ch.OK == (name == c.failing) {
				t.Errorf("%s: check %s ok=%v", c.name, name, ch.OK)
			}
			if name == c.failing && ch.Error != c.reason {
				t.Errorf("%s: reason %q, want %q", c.name, ch.Error, c.reason)
			}
			if strings.Contains(ch.Error, dir) {
				t.Errorf("%s: the answer names a path: %q", c.name, ch.Error)
			}
		}
		if len(checks) != 4 {
			t.Errorf("%s: checks %v", c.name, checks)
		}
	}
}
