package bench

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// Report is the outcome of a run, overall and (for mixed runs) per op type.
//
// Ops counts successful operations and Errors failed ones; OpsPerSec,
// MiBPerSec and the latency percentiles describe successful operations only,
// so fast failures cannot flatter the numbers. Latency is measured from
// sending a request to having read the whole response. Bytes counts object
// payload moved (PUT bodies sent, GET bodies received).
type Report struct {
	Op                   string
	Ops, Errors, Bytes   int64
	Elapsed              time.Duration
	OpsPerSec, MiBPerSec float64
	P50, P90, P99, Max   time.Duration

	// PerOp breaks a mixed run down by op name; nil for single-op runs.
	PerOp map[string]*Report

	// Run parameters, so a saved report says what it measured. Set on the
	// top-level report only.
	Concurrency int
	ObjectSize  int64
	Mix         string

	// ErrorSamples lists the most frequent distinct failures, at most 8.
	ErrorSamples []ErrorSample
}

// ErrorSample is one distinct kind of failure and how often it occurred.
type ErrorSample struct {
	Op     string `json:"op"`
	Status int    `json:"status,omitempty"` // HTTP status; 0 for transport errors
	Code   string `json:"code,omitempty"`   // S3 error code, or the transport error text
	Count  int64  `json:"count"`
}

func (e ErrorSample) describe() string {
	return (&failure{status: e.Status, code: e.Code}).Error()
}

const mib = 1 << 20

// report merges the workers' tallies. Called after all workers have exited.
func (r *runner) report(workers []*worker, elapsed time.Duration) *Report {
	var per [numOps]*opStats
	total := &opStats{}
	errs := make(map[errKey]int64)
	for _, w := range workers {
		for op, st := range w.stats {
			if st == nil {
				continue
			}
			if per[op] == nil {
				per[op] = &opStats{}
			}
			per[op].add(st)
			total.add(st)
		}
		for k, n := range w.errs {
			errs[k] += n
		}
	}
	samples := make([]ErrorSample, 0, len(errs))
	for k, n := range errs {
		samples = append(samples, ErrorSample{Op: k.op.String(), Status: k.status, Code: k.code, Count: n})
	}
	slices.SortFunc(samples, func(a, b ErrorSample) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Op, b.Op),
			cmp.Compare(a.Status, b.Status), cmp.Compare(a.Code, b.Code))
	})
	if len(samples) > maxErrorKinds {
		samples = samples[:maxErrorKinds]
	}

	rep := newReport(r.s.Op, total, elapsed)
	rep.Concurrency = r.s.Concurrency
	rep.ObjectSize = r.s.ObjectSize
	rep.ErrorSamples = samples
	if r.s.mixed {
		rep.Mix = r.s.Mix
		rep.PerOp = make(map[string]*Report)
		for op, st := range per {
			if st == nil {
				continue
			}
			sub := newReport(opKind(op).String(), st, elapsed)
			for _, e := range samples {
				if e.Op == sub.Op {
					sub.ErrorSamples = append(sub.ErrorSamples, e)
				}
			}
			rep.PerOp[sub.Op] = sub
		}
	}
	return rep
}

func (s *opStats) add(o *opStats) {
	s.ops += o.ops
	s.errors += o.errors
	s.bytes += o.bytes
	s.hist.merge(&o.hist)
}

func newReport(op string, st *opStats, elapsed time.Duration) *Report {
	rep := &Report{
		Op: op, Ops: st.ops, Errors: st.errors, Bytes: st.bytes, Elapsed: elapsed,
		P50: st.hist.quantile(5000),
		P90: st.hist.quantile(9000),
		P99: st.hist.quantile(9900),
		Max: st.hist.max,
	}
	if sec := elapsed.Seconds(); sec > 0 {
		rep.OpsPerSec = float64(st.ops) / sec
		rep.MiBPerSec = float64(st.bytes) / mib / sec
	}
	return rep
}

// rows returns the table rows: each op of a mixed run in a fixed order and
// then the total, or just the single op.
func (r *Report) rows() []*Report {
	if len(r.PerOp) == 0 {
		return []*Report{r}
	}
	var rows []*Report
	for _, name := range opNames {
		if sub, ok := r.PerOp[name]; ok {
			rows = append(rows, sub)
		}
	}
	total := *r
	total.Op = "total"
	return append(rows, &total)
}

// WriteText writes a human-readable table: op, ops, errors, ops/s, MiB/s,
// p50, p90, p99, max, followed by the error samples if there were failures.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "elapsed %s, concurrency %d, object size %s", r.Elapsed.Round(time.Millisecond), r.Concurrency, formatBytes(r.ObjectSize))
	if r.Mix != "" {
		fmt.Fprintf(w, ", mix %s", r.Mix)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\tops\terrors\tops/s\tMiB/s\tp50\tp90\tp99\tmax\t")
	for _, row := range r.rows() {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.2f\t%s\t%s\t%s\t%s\t\n",
			row.Op, row.Ops, row.Errors, row.OpsPerSec, row.MiBPerSec,
			formatLatency(row.P50), formatLatency(row.P90), formatLatency(row.P99), formatLatency(row.Max))
	}
	_ = tw.Flush()
	if len(r.ErrorSamples) > 0 {
		fmt.Fprintln(w, "errors:")
		for _, e := range r.ErrorSamples {
			fmt.Fprintf(w, "  %-6s %8d  %s\n", e.Op, e.Count, e.describe())
		}
	}
}

// WriteJSON writes the report as indented JSON (see MarshalJSON).
func (r *Report) WriteJSON(w io.Writer) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(r)
}

type jsonReport struct {
	Op           string             `json:"op"`
	Ops          int64              `json:"ops"`
	Errors       int64              `json:"errors"`
	Bytes        int64              `json:"bytes"`
	ElapsedSec   float64            `json:"elapsed_sec"`
	OpsPerSec    float64            `json:"ops_per_sec"`
	MiBPerSec    float64            `json:"mib_per_sec"`
	P50Ms        float64            `json:"p50_ms"`
	P90Ms        float64            `json:"p90_ms"`
	P99Ms        float64            `json:"p99_ms"`
	MaxMs        float64            `json:"max_ms"`
	Concurrency  int                `json:"concurrency,omitempty"`
	ObjectSize   int64              `json:"object_size,omitempty"`
	Mix          string             `json:"mix,omitempty"`
	PerOp        map[string]*Report `json:"per_op,omitempty"`
	ErrorSamples []ErrorSample      `json:"error_samples,omitempty"`
}

// MarshalJSON uses snake_case names and expresses durations as fractional
// milliseconds (elapsed in seconds), which scripts and plots consume more
// easily than nanosecond integers.
func (r *Report) MarshalJSON() ([]byte, error) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return json.Marshal(jsonReport{
		Op: r.Op, Ops: r.Ops, Errors: r.Errors, Bytes: r.Bytes,
		ElapsedSec: r.Elapsed.Seconds(), OpsPerSec: r.OpsPerSec, MiBPerSec: r.MiBPerSec,
		P50Ms: ms(r.P50), P90Ms: ms(r.P90), P99Ms: ms(r.P99), MaxMs: ms(r.Max),
		Concurrency: r.Concurrency, ObjectSize: r.ObjectSize, Mix: r.Mix,
		PerOp: r.PerOp, ErrorSamples: r.ErrorSamples,
	})
}

// formatLatency prints about three significant digits in a fitting unit.
func formatLatency(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d.Nanoseconds())
	case d < time.Millisecond:
		return threeDigits(float64(d)/float64(time.Microsecond)) + "µs"
	case d < time.Second:
		return threeDigits(float64(d)/float64(time.Millisecond)) + "ms"
	default:
		return threeDigits(d.Seconds()) + "s"
	}
}

// threeDigits avoids %g, which switches to exponent form at 1e3.
func threeDigits(v float64) string {
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	default:
		return fmt.Sprintf("%d B", n)
	}
}
