package iamtest

import (
	"testing"

	"github.com/coffer-io/coffer/internal/iam"
)

func TestMemStore(t *testing.T) {
	Run(t, func(*testing.T) iam.Store { return NewMemStore() })
}
