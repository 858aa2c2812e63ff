package kms_test

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coffer-io/coffer/internal/kms"
)

// TestConcurrentUse encrypts and decrypts from many goroutines while the
// key rotates: every blob must decrypt, whatever version it used.
func TestConcurrentUse(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, acct)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range kms.MaxOnDemandRotations {
			if _, err := f.svc.RotateKeyOnDemand(ctx, acct, k.ID); err != nil {
				t.Error(err)
			}
		}
		close(stop)
	}()
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					if i > 0 {
						return
					}
				default:
				}
				ec := map[string]string{"g": fmt.Sprint(g), "i": fmt.Sprint(i)}
				dk, err := f.svc.GenerateDataKey(ctx, acct, k.ID, kms.DataKeyInput{KeySpec: "AES_256"}, ec)
				if err != nil {
					t.Error(err)
					return
				}
				dec, err := f.svc.Decrypt(ctx, acct, dk.CiphertextBlob, k.ARN, ec)
				if err != nil || !bytes.Equal(dec.Plaintext, dk.Plaintext) {
					t.Errorf("Decrypt: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if d, _ := f.svc.DescribeKey(ctx, acct, k.ID); d.CurrentVersion != kms.MaxOnDemandRotations+1 {
		t.Errorf("lost rotations: version %d", d.CurrentVersion)
	}
}

// TestConcurrentAliasAndState checks that conflicting management calls
// are serialized: one alias wins, and deletion scheduling happens once.
func TestConcurrentAliasAndState(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, acct)
	var created, scheduled atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			err := f.svc.CreateAlias(ctx, acct, "alias/race", k.ID)
			switch kms.ErrorCode(err) {
			case "":
				created.Add(1)
			case kms.CodeAlreadyExists, kms.CodeInvalidState: // lost to the other alias, or to the scheduling
			default:
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			_, err := f.svc.ScheduleKeyDeletion(ctx, acct, k.ID, 7)
			switch kms.ErrorCode(err) {
			case "":
				scheduled.Add(1)
			case kms.CodeInvalidState:
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if scheduled.Load() != 1 {
		t.Errorf("deletion scheduled %d times", scheduled.Load())
	}
	// CreateAlias may lose to the scheduling (pending keys take no
	// aliases), but never succeed twice.
	if created.Load() > 1 {
		t.Errorf("alias created %d times", created.Load())
	}
}

// TestConcurrentCreateKeys creates keys from many goroutines in two
// accounts; none may be lost.
func TestConcurrentCreateKeys(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			account := acct
			if i%2 == 1 {
				account = other
			}
			if _, err := f.svc.CreateKey(ctx, account, kms.CreateKeyInput{}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, a := range []string{acct, other} {
		ks, _, err := f.svc.ListKeys(ctx, a, kms.Page{})
		if err != nil || len(ks) != 20 {
			t.Errorf("%s: %d keys, %v", a, len(ks), err)
		}
	}
}
