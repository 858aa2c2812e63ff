package boltstore

import (
	"path/filepath"
	"testing"

	"github.com/coffer-io/coffer/internal/configrec"
	"github.com/coffer-io/coffer/internal/configrec/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) configrec.Store {
		s, err := Open(filepath.Join(t.TempDir(), "config.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
