package trail

import (
	"fmt"
	"io"
)

// WritePrometheus writes the trail's metrics in the Prometheus text
// format: how far delivery lags behind and where the journal stands.
func (s *Service) WritePrometheus(w io.Writer) {
	fmt.Fprintf(w, "# HELP coffer_trail_delivery_lag_seconds Time since the oldest undelivered trail records were last caught up (0: every trail is up to date).\n")
	fmt.Fprintf(w, "# TYPE coffer_trail_delivery_lag_seconds gauge\n")
	fmt.Fprintf(w, "coffer_trail_delivery_lag_seconds %g\n", s.DeliveryLag().Seconds())
	fmt.Fprintf(w, "# HELP coffer_trail_journal_bytes Durable size of the trail journal since it was first written.\n")
	fmt.Fprintf(w, "# TYPE coffer_trail_journal_bytes counter\n")
	fmt.Fprintf(w, "coffer_trail_journal_bytes %d\n", s.cfg.Journal.Durable())
}
