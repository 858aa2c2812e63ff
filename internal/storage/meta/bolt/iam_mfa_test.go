package bolt

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/iam"
	"github.com/coffer-io/coffer/internal/iam/iamtest"
	"github.com/coffer-io/coffer/internal/mfa"
)

// MFA devices persist, and bbolt's serialized writers make verification
// a compare-and-swap: one code, many concurrent requests, one success.
func TestIAMMFADevices(t *testing.T) {
	s := openIAM(t)
	ctx := t.Context()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	svc := &iam.Service{Store: s.IAM(), Now: func() time.Time { return now }}
	acct := iamtest.Account
	d, err := svc.CreateVirtualMFADevice(ctx, acct, "", "root-dev", nil)
	if err != nil {
		t.Fatal(err)
	}
	serial := d.SerialNumber(acct)
	cur := mfa.Step(now)
	if err := svc.EnableMFADevice(ctx, acct, "root", serial, mfa.HOTP(d.Seed, uint64(cur-1)), mfa.HOTP(d.Seed, uint64(cur))); err != nil {
		t.Fatal(err)
	}
	now = now.Add(30 * time.Second)
	code := mfa.HOTP(d.Seed, uint64(cur+1))
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, reused := 0, 0
	for range 8 {
		wg.Go(func() {
			err := svc.VerifyMFA(ctx, acct, serial, code)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, iam.ErrInvalidAuthenticationCode):
				reused++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || reused != 7 {
		t.Fatalf("wins %d, refused %d", wins, reused)
	}
	p, err := svc.ListVirtualMFADevices(ctx, acct, "Assigned", iam.ListOptions{})
	if err != nil || len(p.Items) != 1 || !p.Items[0].IsRoot() || p.Items[0].LastStep != cur+1 {
		t.Fatalf("devices %+v, %v", p.Items, err)
	}
	if err := svc.DeleteVirtualMFADevice(ctx, acct, serial); !errors.Is(err, iam.ErrDeleteConflict) {
		t.Fatalf("delete enabled device: %v", err)
	}
}
