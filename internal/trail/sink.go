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
	// BestEffortReads lets read-only requests be answered before their
	// records are on disk (they are synced with the next write's record,
	// or within a second); requests that change something still wait.
	BestEffortReads bool
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
	if s.BestEffortReads && e.ReadOnly {
		return s.J.AppendNoWait(lines...)
	}
	return s.J.Append(lines...)
}

// Close implements audit.Sink; the journal is closed by its owner.
func (s *Sink) Close() error { return nil }
