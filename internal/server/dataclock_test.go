//go:build !coffertest

package server

import (
	"testing"

	"github.com/coffer-io/coffer/internal/clock"
)

// TestNormalBuildHasNoTestClock: without the coffertest tag the
// data-protection clock is the real one and no endpoint can move it.
func TestNormalBuildHasNoTestClock(t *testing.T) {
	if dataClock != clock.Real {
		t.Fatalf("data clock is %T, want the real clock", dataClock)
	}
	if testRoutes != nil {
		t.Fatal("a normal build registers test-only routes")
	}
}
