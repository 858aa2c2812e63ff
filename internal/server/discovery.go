package server

import (
	"log/slog"
	"path/filepath"
	"time"

	"github.com/coffer-io/coffer/internal/macie"
	"github.com/coffer-io/coffer/internal/macie/boltstore"
)

// openDiscovery opens Macie's records (DIR/discovery.db) and the
// service that serves them.
func openDiscovery(dir, region string, now func() time.Time, log *slog.Logger) (*macie.Service, error) {
	st, err := boltstore.Open(filepath.Join(dir, "discovery.db"))
	if err != nil {
		return nil, err
	}
	return &macie.Service{Store: st, Region: region, Now: now, Logger: log}, nil
}
