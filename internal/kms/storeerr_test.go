package kms_test

import (
	"context"
	"errors"
	"testing"

	"github.com/coffer-io/coffer/internal/kms"
)

// failingStore fails every transaction, as a broken backend would.
type failingStore struct{ kms.Store }

var errDisk = errors.New("disk on fire")

func (failingStore) Update(context.Context, string, func(kms.Tx) error) error { return errDisk }
func (failingStore) View(context.Context, string, func(kms.Tx) error) error   { return errDisk }
func (failingStore) Accounts(context.Context) ([]string, error)               { return nil, errDisk }

func TestStoreFailuresAreInternal(t *testing.T) {
	f := newFixture(t, func(c *kms.Config) { c.Store = failingStore{} })
	checks := map[string]error{}
	_, checks["CreateKey"] = f.svc.CreateKey(ctx, acct, kms.CreateKeyInput{})
	_, checks["DescribeKey"] = f.svc.DescribeKey(ctx, acct, "alias/x")
	_, _, checks["ListKeys"] = f.svc.ListKeys(ctx, acct, kms.Page{})
	_, checks["DefaultKey"] = f.svc.DefaultKey(ctx, acct)
	checks["CreateAlias"] = f.svc.CreateAlias(ctx, acct, "alias/x", "k")
	_, checks["RotateDue"] = f.svc.RotateDue(ctx, f.clock.Now())
	_, checks["Purge"] = f.svc.Purge(ctx, f.clock.Now())
	for op, err := range checks {
		if kms.ErrorCode(err) != kms.CodeInternal || !errors.Is(err, errDisk) {
			t.Errorf("%s err = %v, want KMSInternalException wrapping the cause", op, err)
		}
		var e *kms.Error
		if errors.As(err, &e) && e.Message != "internal error" {
			t.Errorf("%s leaks details to clients: %q", op, e.Message)
		}
	}
}

func TestCancelledContext(t *testing.T) {
	f := newFixture(t)
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.svc.CreateKey(c, acct, kms.CreateKeyInput{}); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateKey err = %v", err)
	}
	if _, err := f.svc.DescribeKey(c, acct, "alias/x"); !errors.Is(err, context.Canceled) {
		t.Errorf("DescribeKey err = %v", err)
	}
}
