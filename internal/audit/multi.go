package audit

import (
	"context"
	"errors"
)

// Multi is a Sink that hands every event to each of its sinks in order:
// the audit log, the trail, the configuration recorder and alerting all
// see the same events without knowing of each other. Record returns the
// errors of all sinks that failed (every sink is still called); a sink
// that must not slow requests down does its own work asynchronously.
type Multi []Sink

// Record implements Sink.
func (m Multi) Record(ctx context.Context, e *Event) error {
	var errs []error
	for _, s := range m {
		if err := s.Record(ctx, e); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close closes every sink, last first.
func (m Multi) Close() error {
	var errs []error
	for i := len(m) - 1; i >= 0; i-- {
		if err := m[i].Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
