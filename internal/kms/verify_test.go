package kms_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/coffer-io/coffer/internal/kms"
)

func TestVerifySealer(t *testing.T) {
	f := newFixture(t)
	right, _ := kms.NewLocalSealer(bytes.Repeat([]byte{0x42}, 32))
	wrong, _ := kms.NewLocalSealer(bytes.Repeat([]byte{0x43}, 32))
	if checked, err := kms.VerifySealer(ctx, f.store, wrong); checked || err != nil {
		t.Fatalf("empty store: checked %v, %v", checked, err)
	}
	f.key(t, acct)
	if checked, err := kms.VerifySealer(ctx, f.store, right); !checked || err != nil {
		t.Fatalf("right root key: checked %v, %v", checked, err)
	}
	if checked, err := kms.VerifySealer(ctx, f.store, wrong); !checked || !errors.Is(err, kms.ErrWrongRootKey) {
		t.Fatalf("wrong root key: checked %v, %v", checked, err)
	}
}
