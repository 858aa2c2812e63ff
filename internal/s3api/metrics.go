package s3api

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// Metrics are the S3 front door's counters, kept with atomics so that
// recording costs nothing measurable on the request path.
type Metrics struct {
	ops     [numAllOps]opMetrics
	denials [numAllOps][len(denialReasons) + 1]atomic.Uint64
}

// denialReasons are the error codes a refused request is counted under;
// anything else is "other". A fixed list keeps the label set bounded
// (an attacker cannot grow it) and the counting allocation-free.
var denialReasons = [...]string{
	"AccessDenied", "AccessDeniedException", "AllAccessDisabled",
	"SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidClientTokenId",
	"ExpiredToken", "InvalidToken", "RequestTimeTooSkewed",
	"AuthorizationHeaderMalformed", "AuthorizationQueryParametersError",
	"MissingSecurityHeader", "InvalidSignatureException", "UnrecognizedClientException",
	"IncompleteSignature", "MissingAuthenticationToken",
}

// observeDenial counts a request refused by authentication or
// authorization: outcome denied, or a 403 answer.
func (m *Metrics) observeDenial(op Op, outcome string, status int, code string) {
	if outcome != "denied" && status != 403 {
		return
	}
	i := len(denialReasons)
	for j, r := range denialReasons {
		if r == code {
			i = j
			break
		}
	}
	m.denials[op][i].Add(1)
}

type opMetrics struct {
	requests [6]atomic.Uint64 // by status class: 1xx..5xx (index 1..5)
	bytesIn  atomic.Uint64
	bytesOut atomic.Uint64
	nanos    atomic.Uint64
	buckets  [numLatencyBuckets + 1]atomic.Uint64
}

const numLatencyBuckets = 11

var latencyBuckets = [numLatencyBuckets]time.Duration{
	time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond,
	50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 5 * time.Second, 30 * time.Second,
}

func (m *Metrics) observe(op Op, status int, in, out int64, d time.Duration) {
	om := &m.ops[op]
	class := status / 100
	if class < 1 || class > 5 {
		class = 5
	}
	om.requests[class].Add(1)
	om.bytesIn.Add(uint64(in))
	om.bytesOut.Add(uint64(out))
	om.nanos.Add(uint64(d))
	i := 0
	for i < len(latencyBuckets) && d > latencyBuckets[i] {
		i++
	}
	om.buckets[i].Add(1)
}

// WritePrometheus writes the metrics in the Prometheus text format.
// Labels carry only operation names and status classes: no bucket or key
// names, so the endpoint discloses nothing about stored data.
func (m *Metrics) WritePrometheus(w io.Writer) {
	fmt.Fprintln(w, "# HELP coffer_s3_requests_total S3 requests by operation and status class.")
	fmt.Fprintln(w, "# TYPE coffer_s3_requests_total counter")
	for op := Op(0); op < numAllOps; op++ {
		for c := 1; c <= 5; c++ {
			if n := m.ops[op].requests[c].Load(); n > 0 {
				fmt.Fprintf(w, "coffer_s3_requests_total{op=%q,code=\"%dxx\"} %d\n", op.String(), c, n)
			}
		}
	}
	fmt.Fprintln(w, "# HELP coffer_s3_bytes_total Request and response body bytes by operation.")
	fmt.Fprintln(w, "# TYPE coffer_s3_bytes_total counter")
	for op := Op(0); op < numAllOps; op++ {
		om := &m.ops[op]
		if in, out := om.bytesIn.Load(), om.bytesOut.Load(); in+out > 0 {
			fmt.Fprintf(w, "coffer_s3_bytes_total{op=%q,direction=\"in\"} %d\n", op.String(), in)
			fmt.Fprintf(w, "coffer_s3_bytes_total{op=%q,direction=\"out\"} %d\n", op.String(), out)
		}
	}
	fmt.Fprintln(w, "# HELP coffer_s3_denied_requests_total Requests refused by authentication or authorization, by operation and reason (error code).")
	fmt.Fprintln(w, "# TYPE coffer_s3_denied_requests_total counter")
	for op := Op(0); op < numAllOps; op++ {
		for i := range m.denials[op] {
			if n := m.denials[op][i].Load(); n > 0 {
				reason := "other"
				if i < len(denialReasons) {
					reason = denialReasons[i]
				}
				fmt.Fprintf(w, "coffer_s3_denied_requests_total{op=%q,reason=%q} %d\n", op.String(), reason, n)
			}
		}
	}
	fmt.Fprintln(w, "# HELP coffer_s3_request_duration_seconds S3 request latency by operation.")
	fmt.Fprintln(w, "# TYPE coffer_s3_request_duration_seconds histogram")
	for op := Op(0); op < numAllOps; op++ {
		om := &m.ops[op]
		var cum uint64
		var total uint64
		for i := range om.buckets {
			total += om.buckets[i].Load()
		}
		if total == 0 {
			continue
		}
		for i, b := range latencyBuckets {
			cum += om.buckets[i].Load()
			fmt.Fprintf(w, "coffer_s3_request_duration_seconds_bucket{op=%q,le=\"%g\"} %d\n", op.String(), b.Seconds(), cum)
		}
		fmt.Fprintf(w, "coffer_s3_request_duration_seconds_bucket{op=%q,le=\"+Inf\"} %d\n", op.String(), total)
		fmt.Fprintf(w, "coffer_s3_request_duration_seconds_sum{op=%q} %g\n", op.String(), time.Duration(om.nanos.Load()).Seconds())
		fmt.Fprintf(w, "coffer_s3_request_duration_seconds_count{op=%q} %d\n", op.String(), total)
	}
}
