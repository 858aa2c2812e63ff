// Package clock is the time source of data protection: Object Lock
// retention checks, default retention, lifecycle rules and later other
// schedulers read the time from a Clock rather than from time.Now, so that
// tests of a real binary can let retention run out and lifecycle rules
// come due without waiting.
//
// Only data protection uses it. Authentication (SigV4 clock skew,
// presigned expiry), TOTP codes, STS session expiry and TLS always read
// the real time: moving this clock must never let an expired credential
// or a stale signature through.
package clock

import (
	"sync/atomic"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// Real is the system clock.
var Real Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Offset is a clock that runs at the pace of Base but can be moved
// forward. It never goes back: retention that has run out stays run out,
// so a test cannot resurrect protection it already let expire.
type Offset struct {
	Base Clock // Real if nil
	off  atomic.Int64
}

// Now returns the base time plus the offset.
func (o *Offset) Now() time.Time {
	b := o.Base
	if b == nil {
		b = Real
	}
	return b.Now().Add(time.Duration(o.off.Load()))
}

// Advance moves the clock forward by d (negative d is ignored) and
// returns the total offset.
func (o *Offset) Advance(d time.Duration) time.Duration {
	if d < 0 {
		d = 0
	}
	return time.Duration(o.off.Add(int64(d)))
}

// Offset returns how far the clock was moved.
func (o *Offset) Offset() time.Duration { return time.Duration(o.off.Load()) }

// Fixed is a clock stopped at a time, for unit tests.
type Fixed time.Time

// Now returns the fixed time.
func (f Fixed) Now() time.Time { return time.Time(f) }
