package kms_test

import (
	"testing"

	"github.com/coffer-io/coffer/internal/kms"
	"github.com/coffer-io/coffer/internal/kms/kmstest"
)

func TestMemStoreConformance(t *testing.T) {
	kmstest.Run(t, func(t *testing.T) kms.Store { return kms.NewMemStore() })
}
