package s3api

import (
	"strings"
	"testing"
	"time"
)

func TestMetricsExposition(t *testing.T) {
	var m Metrics
	m.observe(OpPutObject, 200, 100, 0, 3*time.Millisecond)
	m.observe(OpPutObject, 403, 0, 250, 500*time.Microsecond)
	m.observeDenial(OpPutObject, "denied", 403, "AccessDenied")
	m.observe(OpGetObject, 403, 0, 200, time.Millisecond)
	m.observeDenial(OpGetObject, "failed", 403, "SignatureDoesNotMatch")
	m.observe(OpGetObject, 404, 0, 300, 2*time.Second)
	m.observeDenial(OpGetObject, "failed", 404, "NoSuchKey") // not a denial
	m.observe(OpListBuckets, 403, 0, 10, time.Millisecond)
	m.observeDenial(OpListBuckets, "failed", 403, "SomethingNew")
	var b strings.Builder
	m.WritePrometheus(&b)
	got := b.String()
	for _, want := range []string{
		"# TYPE coffer_s3_requests_total counter\n",
		`coffer_s3_requests_total{op="PutObject",code="2xx"} 1` + "\n",
		`coffer_s3_requests_total{op="PutObject",code="4xx"} 1` + "\n",
		`coffer_s3_requests_total{op="GetObject",code="4xx"} 2` + "\n",
		`coffer_s3_bytes_total{op="PutObject",direction="in"} 100` + "\n",
		`coffer_s3_bytes_total{op="PutObject",direction="out"} 250` + "\n",
		`coffer_s3_bytes_total{op="GetObject",direction="out"} 500` + "\n",
		"# TYPE coffer_s3_denied_requests_total counter\n",
		`coffer_s3_denied_requests_total{op="PutObject",reason="AccessDenied"} 1` + "\n",
		`coffer_s3_denied_requests_total{op="GetObject",reason="SignatureDoesNotMatch"} 1` + "\n",
		`coffer_s3_denied_requests_total{op="ListBuckets",reason="other"} 1` + "\n",
		"# TYPE coffer_s3_request_duration_seconds histogram\n",
		`coffer_s3_request_duration_seconds_bucket{op="PutObject",le="0.001"} 1` + "\n",
		`coffer_s3_request_duration_seconds_bucket{op="PutObject",le="0.005"} 2` + "\n",
		`coffer_s3_request_duration_seconds_bucket{op="PutObject",le="+Inf"} 2` + "\n",
		`coffer_s3_request_duration_seconds_count{op="PutObject"} 2` + "\n",
		`coffer_s3_request_duration_seconds_sum{op="PutObject"} 0.0035` + "\n",
		`coffer_s3_request_duration_seconds_bucket{op="GetObject",le="1"} 1` + "\n",
		`coffer_s3_request_duration_seconds_bucket{op="GetObject",le="5"} 2` + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("exposition lacks %q\n%s", want, got)
		}
	}
	if strings.Contains(got, "NoSuchKey") {
		t.Error("a 404 was counted as a denial")
	}
}

func TestMetricsObserveAllocates(t *testing.T) {
	var m Metrics
	n := testing.AllocsPerRun(100, func() {
		m.observe(OpGetObject, 200, 1, 2, time.Millisecond)
		m.observeDenial(OpGetObject, "denied", 403, "AccessDenied")
	})
	if n != 0 {
		t.Errorf("recording allocates %v times per request", n)
	}
}
