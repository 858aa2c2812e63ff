package lifecycle

import (
	"context"
	"sync"
	"time"
)

// Limiter bounds the rate of the worker's actions (a token bucket), so a
// rule that makes millions of versions due at once cannot crowd out
// requests: the metadata store serialises writes, and each expiry is one.
type Limiter struct {
	rate  float64 // tokens per second
	burst float64
	now   func() time.Time

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// NewLimiter allows perSecond actions a second on average and at most
// perSecond in a burst.
func NewLimiter(perSecond int) *Limiter {
	if perSecond < 1 {
		perSecond = 1
	}
	return &Limiter{rate: float64(perSecond), burst: float64(perSecond), tokens: float64(perSecond), now: time.Now}
}

// reserve takes a token and returns how long the caller must wait
// before using it.
func (l *Limiter) reserve() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if !l.last.IsZero() {
		l.tokens += now.Sub(l.last).Seconds() * l.rate
		if l.tokens > l.burst {
			l.tokens = l.burst
		}
	}
	l.last = now
	l.tokens--
	if l.tokens >= 0 {
		return 0
	}
	return time.Duration(-l.tokens / l.rate * float64(time.Second))
}

// cancel gives back a token reserved but not used.
func (l *Limiter) cancel() {
	l.mu.Lock()
	l.tokens++
	l.mu.Unlock()
}

// Wait blocks until the next action may run, or ctx ends.
func (l *Limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d := l.reserve()
	if d == 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		l.cancel()
		return ctx.Err()
	}
}
