package bench

import (
	"math/bits"
	"time"
)

// The latency histogram is log-linear: values below histLinear nanoseconds
// get one bucket each, and every power of two above that is split into
// histSub equal buckets. That bounds the relative error of a reported
// percentile to 1/(2*histSub) (under 1%) with a fixed 18 KiB array, so each
// worker can own one per op type and record without locks or allocation.
const (
	histSubBits = 6
	histSub     = 1 << histSubBits // buckets per power of two
	histLinear  = 2 * histSub      // values below this are recorded exactly
	histMaxBits = 40               // 2^40 ns ≈ 18 min; longer values are clamped
	histBuckets = (histMaxBits-histSubBits-1)*histSub + histLinear
)

type histogram struct {
	counts   [histBuckets]uint64
	total    uint64
	min, max time.Duration // exact, so Max is never a bucket approximation
}

func histIndex(v uint64) int {
	if v < histLinear {
		return int(v)
	}
	if v >= 1<<histMaxBits {
		v = 1<<histMaxBits - 1
	}
	shift := bits.Len64(v) - (histSubBits + 1)
	// v>>shift lies in [histSub, 2*histSub), so consecutive powers of two
	// occupy consecutive runs of histSub buckets.
	return shift*histSub + int(v>>shift)
}

// histBucketRange returns the lowest value and the width of bucket i.
func histBucketRange(i int) (lo, width uint64) {
	if i < histLinear {
		return uint64(i), 1
	}
	shift := i/histSub - 1
	mant := uint64(i%histSub + histSub)
	return mant << shift, 1 << shift
}

func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	if h.total == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.counts[histIndex(uint64(d))]++
	h.total++
}

func (h *histogram) merge(o *histogram) {
	if o.total == 0 {
		return
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
}

// quantile returns the smallest recorded value v such that at least
// permyriad/10000 of all samples are <= v (nearest-rank definition), as the
// midpoint of its bucket clamped to the observed min and max. Integer
// permyriads avoid float rounding turning rank 90 into 91.
func (h *histogram) quantile(permyriad uint64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := (permyriad*h.total + 9999) / 10000
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen < rank {
			continue
		}
		if i == histBuckets-1 {
			return h.max // the clamp bucket: its values may lie beyond its range
		}
		lo, width := histBucketRange(i)
		v := time.Duration(lo + (width-1)/2)
		return min(max(v, h.min), h.max)
	}
	return h.max
}
