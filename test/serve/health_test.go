package serve

import (
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/coffer-io/coffer/test/harness"
)

func TestHealthLiveReady(t *testing.T) {
	s := harness.Start(t)
	c := s.HTTPClient()
	resp, err := c.Get(s.Endpoint + "/_coffer/health/live")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("live: %d", resp.StatusCode)
	}
	resp, err = c.Get(s.Endpoint + "/_coffer/health/ready")
	if err != nil {
		t.Fatal(err)
	}
	var ready struct {
		Status string
		Checks []struct {
			Name string
			OK   bool
		}
	}
	err = json.NewDecoder(resp.Body).Decode(&ready)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || ready.Status != "ready" {
		t.Fatalf("ready: %d %+v %v", resp.StatusCode, ready, err)
	}
	names := map[string]bool{}
	for _, ch := range ready.Checks {
		names[ch.Name] = ch.OK
	}
	for _, n := range []string{"metadata", "blobs", "keys", "serving"} {
		if !names[n] {
			t.Errorf("check %s missing or failing: %+v", n, ready.Checks)
		}
	}
}

func TestMetricsCountDenials(t *testing.T) {
	s := harness.Start(t)
	c := s.HTTPClient()
	// An anonymous ListBuckets is refused.
	resp, err := c.Get(s.Endpoint + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("anonymous ListBuckets: %d", resp.StatusCode)
	}
	resp, err = c.Get(s.Endpoint + "/_coffer/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`coffer_s3_requests_total{op="ListBuckets",code="4xx"} 1`,
		`coffer_s3_denied_requests_total{op="ListBuckets",reason="AccessDenied"} 1`,
		`coffer_s3_request_duration_seconds_count{op="ListBuckets"} 1`,
		"# TYPE coffer_accesslog_pending_bytes gauge\ncoffer_accesslog_pending_bytes 0\n",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s:\n%s", want, body)
		}
	}
}
