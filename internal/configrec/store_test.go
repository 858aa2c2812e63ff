package configrec_test

import (
	"testing"

	"github.com/coffer-io/coffer/internal/configrec"
	"github.com/coffer-io/coffer/internal/configrec/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) configrec.Store { return configrec.NewMemoryStore() })
}
