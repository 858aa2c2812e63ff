package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// nearestRank is the reference percentile: the smallest sample such that at
// least p/10000 of the samples are <= it.
func nearestRank(sorted []time.Duration, permyriad int) time.Duration {
	rank := (permyriad*len(sorted) + 9999) / 10000
	return sorted[max(rank, 1)-1]
}

func seq(from, to, step time.Duration) []time.Duration {
	var out []time.Duration
	for v := from; v <= to; v += step {
		out = append(out, v)
	}
	return out
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestHistogramPercentiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]time.Duration, 5000)
	for i := range random {
		// Log-uniform between 100µs and 10s, the range real runs cover.
		random[i] = time.Duration(100e3 * float64(uint64(1)<<rng.IntN(17)) * (1 + rng.Float64()))
	}

	tests := []struct {
		name    string
		samples []time.Duration
		// want overrides the reference p50, p90, p99 when set.
		want   []time.Duration
		relTol float64
	}{
		{name: "exact small values", samples: seq(1, 100, 1),
			want: []time.Duration{50, 90, 99}},
		{name: "single sample", samples: []time.Duration{5 * time.Millisecond},
			want: []time.Duration{5 * time.Millisecond, 5 * time.Millisecond, 5 * time.Millisecond}},
		{name: "uniform milliseconds", samples: seq(time.Millisecond, time.Second, time.Millisecond),
			want: []time.Duration{500 * time.Millisecond, 900 * time.Millisecond, 990 * time.Millisecond}, relTol: 0.01},
		{name: "tail below p99", samples: append(repeat(time.Millisecond, 990), repeat(100*time.Millisecond, 10)...),
			want: []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}, relTol: 0.01},
		{name: "tail at p99", samples: append(repeat(time.Millisecond, 980), repeat(100*time.Millisecond, 20)...),
			want: []time.Duration{time.Millisecond, time.Millisecond, 100 * time.Millisecond}, relTol: 0.01},
		{name: "beyond tracked range", samples: []time.Duration{time.Millisecond, 2 * time.Hour},
			want: []time.Duration{time.Millisecond, 2 * time.Hour, 2 * time.Hour}, relTol: 0.01},
		{name: "random log-uniform", samples: random, relTol: 0.01},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h histogram
			for _, s := range tc.samples {
				h.record(s)
			}
			sorted := slices.Sorted(slices.Values(tc.samples))
			want := tc.want
			if want == nil {
				want = []time.Duration{nearestRank(sorted, 5000), nearestRank(sorted, 9000), nearestRank(sorted, 9900)}
			}
			for i, p := range []uint64{5000, 9000, 9900} {
				got := h.quantile(p)
				if diff := float64(got-want[i]) / float64(want[i]); diff > tc.relTol || diff < -tc.relTol {
					t.Errorf("p%d = %v, want %v (±%.0f%%)", p/100, got, want[i], tc.relTol*100)
				}
			}
			if h.max != sorted[len(sorted)-1] || h.min != sorted[0] || h.total != uint64(len(sorted)) {
				t.Errorf("min/max/total = %v/%v/%d, want %v/%v/%d",
					h.min, h.max, h.total, sorted[0], sorted[len(sorted)-1], len(sorted))
			}
		})
	}
}

func TestHistogramEmpty(t *testing.T) {
	var h histogram
	if q := h.quantile(5000); q != 0 || h.max != 0 {
		t.Errorf("empty histogram: p50 %v, max %v", q, h.max)
	}
}

func TestHistogramMerge(t *testing.T) {
	var whole, a, b, empty histogram
	for i := range 2000 {
		d := time.Duration(i*i) * time.Microsecond
		whole.record(d)
		if i%3 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
	}
	var merged histogram
	merged.merge(&empty)
	merged.merge(&b)
	merged.merge(&a)
	merged.merge(&empty)
	if merged != whole {
		t.Fatal("merging the parts differs from recording the whole")
	}
}

// TestHistogramBuckets checks the index mapping: every value lands in a
// bucket that contains it, buckets never go backwards, and a bucket is no
// wider than 1/histSub of its lower bound.
func TestHistogramBuckets(t *testing.T) {
	values := []uint64{0, 1, histLinear - 1, histLinear, histLinear + 1, 1000, 1 << 20, 1<<20 + 12345, 1<<histMaxBits - 1}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		values = append(values, rng.Uint64N(1<<histMaxBits))
	}
	slices.Sort(values)
	prev := -1
	for _, v := range values {
		i := histIndex(v)
		if i < prev || i >= histBuckets {
			t.Fatalf("histIndex(%d) = %d after %d (buckets %d)", v, i, prev, histBuckets)
		}
		prev = i
		lo, width := histBucketRange(i)
		if v < lo || v >= lo+width {
			t.Fatalf("value %d outside its bucket %d [%d, %d)", v, i, lo, lo+width)
		}
		if i >= histLinear && width*histSub > lo {
			t.Fatalf("bucket %d too wide: [%d, +%d)", i, lo, width)
		}
	}
	if got := histIndex(1 << 62); got != histBuckets-1 {
		t.Errorf("out-of-range value maps to %d, want last bucket %d", got, histBuckets-1)
	}
}
