package clock

import (
	"testing"
	"time"
)

func TestOffset(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	o := &Offset{Base: Fixed(base)}
	tests := []struct {
		advance time.Duration
		want    time.Time
	}{
		{0, base},
		{time.Hour, base.Add(time.Hour)},
		{-time.Hour, base.Add(time.Hour)}, // never backwards
		{48 * time.Hour, base.Add(49 * time.Hour)},
	}
	for _, tc := range tests {
		o.Advance(tc.advance)
		if got := o.Now(); !got.Equal(tc.want) {
			t.Errorf("after Advance(%v): Now() = %v, want %v", tc.advance, got, tc.want)
		}
	}
	if o.Offset() != 49*time.Hour {
		t.Errorf("Offset() = %v", o.Offset())
	}
	if d := time.Since(Real.Now()); d < -time.Second || d > time.Second {
		t.Errorf("Real is off by %v", d)
	}
}
