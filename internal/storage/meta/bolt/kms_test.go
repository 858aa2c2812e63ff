package bolt

import (
	"testing"

	"github.com/coffer-io/coffer/internal/kms"
	"github.com/coffer-io/coffer/internal/kms/kmstest"
)

func TestKMSConformance(t *testing.T) {
	kmstest.Run(t, func(t *testing.T) kms.Store {
		s, _ := openTemp(t)
		return s.KMS()
	})
}
