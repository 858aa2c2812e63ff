package trail

import (
	"context"
	"encoding/json"

	"github.com/coffer-io/coffer/internal/audit"
)

// Sink is the audit sink that journals every event as CloudTrail records.
// Record returns once the records are durable (unless the journal is best
// effort): the pipeline calls it before the response leaves, so no
// acknowledged request goes unrecorded.
type Sink struct {
	J *Journal
}

// Record implements audit.Sink.
func (s *Sink) Record(_ context.Context, e *audit.Event) error {
	recs := FromEvent(e)
	lines := make([][]byte, 0, len(recs))
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		lines = append(lines, b)
	}
	return s.J.Append(lines...)
}

// Close implements audit.Sink; the journal is closed by its owner.
func (s *Sink) Close() error { return nil }
