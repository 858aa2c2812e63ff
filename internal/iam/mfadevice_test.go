package iam_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/iam"
	"github.com/coffer-io/coffer/internal/iam/iamtest"
	"github.com/coffer-io/coffer/internal/mfa"
)

// fixedClock is a settable clock for MFA tests, where the TOTP step must
// be under the test's control.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fixedClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestMFADeviceLifecycle(t *testing.T) {
	ctx := context.Background()
	clk := &fixedClock{t: t0}
	s := &iam.Service{Store: iamtest.NewMemStore(), Now: clk.now}
	ok[*iam.User](t)(s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "alice"}))

	d := ok[*iam.MFADevice](t)(s.CreateVirtualMFADevice(ctx, acct, "/team/", "alice-phone", nil))
	serial := d.SerialNumber(acct)
	if serial != "arn:aws:iam::"+acct+":mfa/team/alice-phone" || len(d.Seed) != mfa.SecretSize {
		t.Fatalf("serial %s seed %d bytes", serial, len(d.Seed))
	}
	_, err := s.CreateVirtualMFADevice(ctx, acct, "/", "ALICE-phone", nil)
	wantErr(t, err, iam.ErrEntityAlreadyExists, "already exists")

	code := func(step int64) string { return mfa.HOTP(d.Seed, uint64(step)) }
	cur := mfa.Step(clk.now())

	wantErr(t, s.EnableMFADevice(ctx, acct, "alice", serial, "000000", "111111"), iam.ErrInvalidAuthenticationCode, "not valid")
	wantErr(t, s.EnableMFADevice(ctx, acct, "bob", serial, code(cur-1), code(cur)), iam.ErrNoSuchEntity, "bob")
	wantErr(t, s.EnableMFADevice(ctx, acct, "alice", "arn:aws:iam::"+acct+":mfa/nope", code(cur-1), code(cur)), iam.ErrNoSuchEntity, "doesn't exist")
	nilErr(t, s.EnableMFADevice(ctx, acct, "alice", serial, code(cur-1), code(cur)))
	wantErr(t, s.EnableMFADevice(ctx, acct, "alice", serial, code(cur-1), code(cur)), iam.ErrEntityAlreadyExists, "in use")

	// One device per user.
	d2 := ok[*iam.MFADevice](t)(s.CreateVirtualMFADevice(ctx, acct, "", "second", nil))
	wantErr(t, s.EnableMFADevice(ctx, acct, "alice", d2.SerialNumber(acct), mfa.HOTP(d2.Seed, uint64(cur-1)), mfa.HOTP(d2.Seed, uint64(cur))), iam.ErrLimitExceeded, "")
	// The root gets a device with the user name "root".
	nilErr(t, s.EnableMFADevice(ctx, acct, "root", d2.SerialNumber(acct), mfa.HOTP(d2.Seed, uint64(cur-1)), mfa.HOTP(d2.Seed, uint64(cur))))
	if p := ok[iam.Page[*iam.MFADevice]](t)(s.ListMFADevices(ctx, acct, "root", iam.ListOptions{})); len(p.Items) != 1 || !p.Items[0].IsRoot() {
		t.Fatalf("root devices %+v", p.Items)
	}

	// Enabling used the current step: its code cannot verify again.
	wantErr(t, s.VerifyMFA(ctx, acct, serial, code(cur)), iam.ErrInvalidAuthenticationCode, "")
	clk.add(30 * time.Second)
	v := ok[iam.MFAVerification](t)(s.VerifyMFADevice(ctx, acct, serial, code(cur+1)))
	if v.UserName != "alice" {
		t.Fatalf("owner %q", v.UserName)
	}
	wantErr(t, s.VerifyMFA(ctx, acct, serial, code(cur+1)), iam.ErrInvalidAuthenticationCode, "")

	if p := ok[iam.Page[*iam.MFADevice]](t)(s.ListVirtualMFADevices(ctx, acct, "Assigned", iam.ListOptions{})); len(p.Items) != 2 {
		t.Fatalf("assigned %d", len(p.Items))
	}
	wantErr(t, s.DeleteVirtualMFADevice(ctx, acct, serial), iam.ErrDeleteConflict, "")
	wantErr(t, s.DeleteUser(ctx, acct, "alice"), iam.ErrDeleteConflict, "MFA")

	// The phone's clock runs 10 steps ahead.
	now := mfa.Step(clk.now())
	wantErr(t, s.VerifyMFA(ctx, acct, serial, code(now+10)), iam.ErrInvalidAuthenticationCode, "")
	nilErr(t, s.ResyncMFADevice(ctx, acct, "alice", serial, code(now+9), code(now+10)))
	clk.add(30 * time.Second)
	nilErr(t, s.VerifyMFA(ctx, acct, serial, code(now+11)))

	wantErr(t, s.DeactivateMFADevice(ctx, acct, "alice", d2.SerialNumber(acct)), iam.ErrNoSuchEntity, "not associated")
	nilErr(t, s.DeactivateMFADevice(ctx, acct, "alice", serial))
	wantErr(t, s.VerifyMFA(ctx, acct, serial, code(now+12)), iam.ErrNoSuchEntity, "")
	if p := ok[iam.Page[*iam.MFADevice]](t)(s.ListVirtualMFADevices(ctx, acct, "Unassigned", iam.ListOptions{})); len(p.Items) != 1 {
		t.Fatalf("unassigned %d", len(p.Items))
	}
	nilErr(t, s.DeleteVirtualMFADevice(ctx, acct, serial))
	wantErr(t, s.DeleteVirtualMFADevice(ctx, acct, serial), iam.ErrNoSuchEntity, "")
}

// TestVerifyMFAConcurrent: of many concurrent requests with the same code
// exactly one succeeds.
func TestVerifyMFAConcurrent(t *testing.T) {
	ctx := context.Background()
	clk := &fixedClock{t: t0}
	s := &iam.Service{Store: iamtest.NewMemStore(), Now: clk.now}
	d := ok[*iam.MFADevice](t)(s.CreateVirtualMFADevice(ctx, acct, "", "dev", nil))
	cur := mfa.Step(clk.now())
	nilErr(t, s.EnableMFADevice(ctx, acct, "root", d.SerialNumber(acct), mfa.HOTP(d.Seed, uint64(cur-1)), mfa.HOTP(d.Seed, uint64(cur))))
	clk.add(30 * time.Second)
	code := mfa.HOTP(d.Seed, uint64(cur+1))
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 16 {
		wg.Go(func() {
			if s.VerifyMFA(ctx, acct, d.SerialNumber(acct), code) == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d verifications of one code succeeded", wins)
	}
}
