package bench

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func sampleReport() *Report {
	get := &Report{Op: OpGet, Ops: 900, Bytes: 900 << 20, Elapsed: 10 * time.Second, OpsPerSec: 90, MiBPerSec: 90,
		P50: 1500 * time.Microsecond, P90: 4 * time.Millisecond, P99: 12 * time.Millisecond, Max: 2 * time.Second}
	put := &Report{Op: OpPut, Ops: 100, Errors: 3, Bytes: 100 << 20, Elapsed: 10 * time.Second, OpsPerSec: 10, MiBPerSec: 10,
		P50: 3 * time.Millisecond, P90: 8 * time.Millisecond, P99: 20 * time.Millisecond, Max: 25 * time.Millisecond,
		ErrorSamples: []ErrorSample{{Op: OpPut, Status: 500, Code: "InternalError", Count: 3}}}
	return &Report{
		Op: OpMixed, Ops: 1000, Errors: 3, Bytes: 1000 << 20, Elapsed: 10 * time.Second, OpsPerSec: 100, MiBPerSec: 100,
		P50: 1600 * time.Microsecond, P90: 5 * time.Millisecond, P99: 15 * time.Millisecond, Max: 2 * time.Second,
		PerOp:       map[string]*Report{OpGet: get, OpPut: put},
		Concurrency: 16, ObjectSize: 1 << 20, Mix: "get=90,put=10",
		ErrorSamples: put.ErrorSamples,
	}
}

func TestWriteText(t *testing.T) {
	var buf bytes.Buffer
	sampleReport().WriteText(&buf)
	out := buf.String()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	tests := []struct {
		line int
		want []string
	}{
		{0, []string{"elapsed 10s", "concurrency 16", "object size 1 MiB", "mix get=90,put=10"}},
		{1, []string{"op", "ops", "errors", "ops/s", "MiB/s", "p50", "p90", "p99", "max"}},
		{2, []string{"put", "100", "3", "10.0", "10.00", "3.00ms", "8.00ms", "20.0ms", "25.0ms"}}, // ops in fixed order
		{3, []string{"get", "900", "90.0", "1.50ms", "4.00ms", "12.0ms", "2.00s"}},
		{4, []string{"total", "1000", "100.0", "1.60ms"}},
		{5, []string{"errors:"}},
		{6, []string{"put", "3", "HTTP 500 InternalError"}},
	}
	if len(lines) != len(tests) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(tests), out)
	}
	for _, tc := range tests {
		for _, w := range tc.want {
			if !strings.Contains(lines[tc.line], w) {
				t.Errorf("line %d %q lacks %q", tc.line, lines[tc.line], w)
			}
		}
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	sampleReport().WriteJSON(&buf)
	var got struct {
		Op         string  `json:"op"`
		Ops        int64   `json:"ops"`
		ElapsedSec float64 `json:"elapsed_sec"`
		P50Ms      float64 `json:"p50_ms"`
		MaxMs      float64 `json:"max_ms"`
		PerOp      map[string]struct {
			Ops   int64   `json:"ops"`
			P99Ms float64 `json:"p99_ms"`
		} `json:"per_op"`
		ErrorSamples []ErrorSample `json:"error_samples"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, buf.String())
	}
	if got.Op != OpMixed || got.Ops != 1000 || got.ElapsedSec != 10 || got.P50Ms != 1.6 || got.MaxMs != 2000 {
		t.Errorf("top level: %+v", got)
	}
	if got.PerOp[OpGet].Ops != 900 || got.PerOp[OpPut].P99Ms != 20 {
		t.Errorf("per op: %+v", got.PerOp)
	}
	if len(got.ErrorSamples) != 1 || got.ErrorSamples[0].Code != "InternalError" {
		t.Errorf("error samples: %+v", got.ErrorSamples)
	}
}

func TestFormatLatency(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "-"},
		{750, "750ns"},
		{1500, "1.50µs"},
		{999_700, "1000µs"},
		{12_345_678, "12.3ms"},
		{123_456_789, "123ms"},
		{90 * time.Second, "90.0s"},
	}
	for _, tc := range tests {
		if got := formatLatency(tc.in); got != tc.want {
			t.Errorf("formatLatency(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
