package boltstore

import (
	"path/filepath"
	"testing"

	"github.com/coffer-io/coffer/internal/macie"
	"github.com/coffer-io/coffer/internal/macie/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) macie.Store {
		s, err := Open(filepath.Join(t.TempDir(), "discovery.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
