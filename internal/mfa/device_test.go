package mfa

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// Test clock: a time in the middle of step cur.
var (
	cur   = Step(time.Unix(1_700_000_000, 0))
	now   = time.Unix(cur*30+12, 0)
	other = []byte("another secret, not the device's")
)

// at returns the device's code for step cur+d.
func at(d int64) string { return codeAt(rfcSecret, cur+d) }

func TestCodesOfNeighbouringStepsDiffer(t *testing.T) {
	// The tests below assume codes of nearby steps are distinct (a
	// coincidence has odds of 1e-6 per pair); check that for this clock.
	seen := map[string]int64{}
	for d := int64(-25); d <= 25; d++ {
		if p, dup := seen[at(d)]; dup {
			t.Fatalf("steps %d and %d share code %s; pick another test clock", p, d, at(d))
		}
		seen[at(d)] = d
	}
}

// same reports whether two device states are identical.
func same(a, b Device) bool {
	return bytes.Equal(a.Secret, b.Secret) && a.EnabledAt.Equal(b.EnabledAt) &&
		a.LastStep == b.LastStep && a.Drift == b.Drift
}

func enabled() Device {
	return Device{Secret: rfcSecret, EnabledAt: now.Add(-time.Hour), LastStep: cur - 100}
}

func TestEnable(t *testing.T) {
	tests := []struct {
		name         string
		code1, code2 string
		wantStep     int64 // offset from cur, if no error
		wantErr      error
	}{
		{"previous and current", at(-1), at(0), 0, nil},
		{"current and next (device ahead)", at(0), at(1), 1, nil},
		{"two steps back (slow submit)", at(-2), at(-1), -1, nil},
		{"too old", at(-3), at(-2), 0, ErrInvalidAuthenticationCode},
		{"too far ahead", at(1), at(2), 0, ErrInvalidAuthenticationCode},
		{"not consecutive", at(-1), at(1), 0, ErrInvalidAuthenticationCode},
		{"reversed", at(0), at(-1), 0, ErrInvalidAuthenticationCode},
		{"same code twice", at(0), at(0), 0, ErrInvalidAuthenticationCode},
		{"first right, second wrong", at(-1), "000000", 0, ErrInvalidAuthenticationCode},
		{"other secret", codeAt(other, cur-1), codeAt(other, cur), 0, ErrInvalidAuthenticationCode},
		{"letters", "abcdef", at(0), 0, ErrMalformedCode},
		{"five digits", at(-1), "12345", 0, ErrMalformedCode},
		{"seven digits", at(-1) + "0", at(0), 0, ErrMalformedCode},
		{"empty", "", "", 0, ErrMalformedCode},
		{"spaces", " " + at(-1)[1:], at(0), 0, ErrMalformedCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Device{Secret: rfcSecret}
			got, err := d.Enable(tt.code1, tt.code2, now)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if !errors.Is(err, ErrInvalidAuthenticationCode) {
					t.Errorf("err %v does not match ErrInvalidAuthenticationCode", err)
				}
				if got.Enabled() || got.LastStep != 0 {
					t.Errorf("failed Enable changed state: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if !got.EnabledAt.Equal(now) || got.LastStep != cur+tt.wantStep || got.Drift != 0 {
				t.Errorf("got %+v, want EnabledAt %v LastStep %d Drift 0", got, now, cur+tt.wantStep)
			}
			if d.Enabled() || d.LastStep != 0 {
				t.Errorf("Enable modified its receiver: %+v", d)
			}
		})
	}
}

func TestEnableStates(t *testing.T) {
	d, err := Device{Secret: rfcSecret}.Enable(at(-1), at(0), now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Enable(at(0), at(1), now); !errors.Is(err, ErrAlreadyEnabled) {
		t.Errorf("second Enable: err = %v, want ErrAlreadyEnabled", err)
	}
	// The codes used to enable cannot then be used to sign in.
	for _, c := range []string{at(-1), at(0)} {
		if _, err := d.Verify(c, now); !errors.Is(err, ErrCodeReused) {
			t.Errorf("Verify(enable code) err = %v, want ErrCodeReused", err)
		}
	}
	// Deactivated and enabled again: codes already used stay used.
	off := d.Disable()
	if off.Enabled() || off.LastStep != d.LastStep {
		t.Fatalf("Disable gave %+v", off)
	}
	if _, err := off.Verify(at(1), now); !errors.Is(err, ErrNotEnabled) {
		t.Errorf("Verify on disabled device: err = %v, want ErrNotEnabled", err)
	}
	if _, err := off.Enable(at(-1), at(0), now); !errors.Is(err, ErrCodeReused) {
		t.Errorf("re-Enable with used codes: err = %v, want ErrCodeReused", err)
	}
	if _, err := off.Enable(at(0), at(1), now); !errors.Is(err, ErrCodeReused) {
		t.Errorf("re-Enable with one used code: err = %v, want ErrCodeReused", err)
	}
	later := now.Add(Period)
	if _, err := off.Enable(at(1), at(2), later); err != nil {
		t.Errorf("re-Enable with fresh codes: %v", err)
	}
}

func TestVerifyWindow(t *testing.T) {
	tests := []struct {
		name    string
		offset  int64
		code    string
		wantErr error
	}{
		{"current", 0, at(0), nil},
		{"one step behind", -1, at(-1), nil},
		{"one step ahead", 1, at(1), nil},
		{"two steps behind", 0, at(-2), ErrInvalidAuthenticationCode},
		{"two steps ahead", 0, at(2), ErrInvalidAuthenticationCode},
		{"far away", 0, at(1000), ErrInvalidAuthenticationCode},
		{"other secret", 0, codeAt(other, cur), ErrInvalidAuthenticationCode},
		{"letters", 0, "12a456", ErrMalformedCode},
		{"too short", 0, "12345", ErrMalformedCode},
		{"too long", 0, "1234567", ErrMalformedCode},
		{"empty", 0, "", ErrMalformedCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := enabled()
			got, err := d.Verify(tt.code, now)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if !same(got, d) {
					t.Errorf("failed Verify changed state: %+v", got)
				}
				return
			}
			if got.LastStep != cur+tt.offset {
				t.Errorf("LastStep = %d, want %d", got.LastStep, cur+tt.offset)
			}
			if d.LastStep != cur-100 {
				t.Errorf("Verify modified its receiver")
			}
		})
	}
}

func TestVerifyAtStepEdges(t *testing.T) {
	// The window is in whole steps: at the first and last second of step
	// cur the same three codes are accepted.
	for _, tm := range []time.Time{time.Unix(cur*30, 0), time.Unix(cur*30+29, 999_999_999)} {
		for d := int64(-2); d <= 2; d++ {
			_, err := enabled().Verify(at(d), tm)
			if ok := err == nil; ok != (d >= -1 && d <= 1) {
				t.Errorf("at %v, code of step cur%+d: err = %v", tm, d, err)
			}
		}
	}
}

func TestVerifyReplay(t *testing.T) {
	d := enabled()
	d1, err := d.Verify(at(0), now)
	if err != nil {
		t.Fatal(err)
	}
	// The same code again, now or later in its window: refused.
	for _, tm := range []time.Time{now, now.Add(15 * time.Second), now.Add(Period)} {
		if _, err := d1.Verify(at(0), tm); !errors.Is(err, ErrCodeReused) {
			t.Errorf("reuse at %v: err = %v, want ErrCodeReused", tm, err)
		}
	}
	// An older code still inside the window: refused as well.
	if _, err := d1.Verify(at(-1), now); !errors.Is(err, ErrCodeReused) {
		t.Errorf("older code: err = %v, want ErrCodeReused", err)
	}
	// The next code is fine, and afterwards the current one is not.
	d2, err := d1.Verify(at(1), now)
	if err != nil {
		t.Fatalf("next code: %v", err)
	}
	if d2.LastStep != cur+1 {
		t.Errorf("LastStep = %d, want %d", d2.LastStep, cur+1)
	}
	if _, err := d2.Verify(at(0), now); !errors.Is(err, ErrCodeReused) {
		t.Errorf("older code after newer: err = %v, want ErrCodeReused", err)
	}
	// Reuse reports the same AWS error as a wrong code.
	var e *Error
	if _, err := d2.Verify(at(0), now); !errors.As(err, &e) ||
		e.Code != "InvalidAuthenticationCode" || e.Message != "Authentication code for device is not valid." {
		t.Errorf("reuse error %#v lacks AWS's code and message", err)
	}
	// A concurrent request that read the same state d would also pass its
	// check; the caller's compare-and-swap on LastStep is what stops it.
	// Both results name the state they replace.
	a, errA := d.Verify(at(0), now)
	b, errB := d.Verify(at(0), now)
	if errA != nil || errB != nil || a.LastStep != b.LastStep || d.LastStep == a.LastStep {
		t.Errorf("pure Verify: %v %v %+v %+v", errA, errB, a, b)
	}
}

func TestVerifyNotEnabled(t *testing.T) {
	d := Device{Secret: rfcSecret}
	if _, err := d.Verify(at(0), now); !errors.Is(err, ErrNotEnabled) {
		t.Errorf("err = %v, want ErrNotEnabled", err)
	}
}

func TestVerifyBefore1970(t *testing.T) {
	d := Device{Secret: rfcSecret, EnabledAt: now}
	tm := time.Unix(-1000, 0)
	if _, err := d.Verify(Code(rfcSecret, tm), tm); err == nil {
		t.Error("a code for a time before 1970 verified")
	}
}

func TestVerifyUsesDrift(t *testing.T) {
	d := enabled()
	d.Drift = 10
	for off := int64(-3); off <= 13; off++ {
		_, err := d.Verify(at(off), now)
		if ok := err == nil; ok != (off >= 9 && off <= 11) {
			t.Errorf("drift 10, code at cur%+d: err = %v", off, err)
		}
	}
	// A stored drift beyond what Resync can produce is clamped.
	d.Drift = 1 << 62
	if _, err := d.Verify(at(ResyncWindow), now); err != nil {
		t.Errorf("huge drift not clamped: %v", err)
	}
}

func TestResync(t *testing.T) {
	tests := []struct {
		name      string
		d1        int64 // step offset of code2; code1 is the step before
		wantDrift int64
		wantErr   error
	}{
		{"in sync", 0, 0, nil},
		{"one ahead counts as in sync", 1, 0, nil},
		{"one behind counts as in sync", -1, 0, nil},
		{"two ahead", 2, 2, nil},
		{"five minutes ahead", 10, 10, nil},
		{"ten minutes behind", -ResyncWindow, -ResyncWindow, nil},
		{"ten minutes ahead", ResyncWindow, ResyncWindow, nil},
		{"beyond ahead", ResyncWindow + 1, 0, ErrInvalidAuthenticationCode},
		{"beyond behind", -ResyncWindow - 1, 0, ErrInvalidAuthenticationCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := enabled()
			got, err := d.Resync(at(tt.d1-1), at(tt.d1), now)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got.LastStep != cur+tt.d1 || got.Drift != tt.wantDrift || !got.EnabledAt.Equal(d.EnabledAt) {
				t.Errorf("got LastStep %d Drift %d, want %d and %d", got.LastStep-cur, got.Drift, tt.d1, tt.wantDrift)
			}
			// Thirty seconds later the device's next code verifies.
			if _, err := got.Verify(at(tt.d1+1), now.Add(Period)); err != nil {
				t.Errorf("next code after resync: %v", err)
			}
		})
	}
}

func TestResyncThenVerify(t *testing.T) {
	d, err := enabled().Resync(at(9), at(10), now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Verify(at(0), now); err == nil {
		t.Error("server-time code accepted after resync to +10")
	}
	if _, err := d.Verify(at(11), now); err != nil {
		t.Errorf("device-time code refused after resync: %v", err)
	}
	if _, err := d.Verify(at(10), now); !errors.Is(err, ErrCodeReused) {
		t.Errorf("resync code reused: err = %v, want ErrCodeReused", err)
	}
	// Once the device's clock is fixed, its codes are of steps already
	// passed, and a resync cannot go back to them: that would let the
	// used codes in again.
	if _, err := d.Resync(at(1), at(2), now.Add(2*Period)); !errors.Is(err, ErrCodeReused) {
		t.Errorf("resync into used steps: err = %v, want ErrCodeReused", err)
	}
	// When the server's clock has caught up, resync brings drift back to 0.
	d, err = d.Resync(at(11), at(12), now.Add(12*Period))
	if err != nil || d.Drift != 0 {
		t.Errorf("resync back: %+v, %v", d, err)
	}
}

func TestResyncRejects(t *testing.T) {
	d := enabled()
	tests := []struct {
		name         string
		d            Device
		code1, code2 string
		want         error
	}{
		{"not consecutive", d, at(3), at(5), ErrInvalidAuthenticationCode},
		{"reversed", d, at(5), at(4), ErrInvalidAuthenticationCode},
		{"same", d, at(5), at(5), ErrInvalidAuthenticationCode},
		{"garbage", d, "xxxxxx", at(5), ErrMalformedCode},
		{"used codes", Device{Secret: rfcSecret, EnabledAt: now, LastStep: cur + 5}, at(4), at(5), ErrCodeReused},
		{"first code used", Device{Secret: rfcSecret, EnabledAt: now, LastStep: cur + 4}, at(4), at(5), ErrCodeReused},
		{"not enabled", Device{Secret: rfcSecret}, at(4), at(5), ErrNotEnabled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.d.Resync(tt.code1, tt.code2, now)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !same(got, tt.d) {
				t.Errorf("failed Resync changed state")
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	if got := ErrCodeReused.Error(); got != "mfa: InvalidAuthenticationCode: Authentication code for device is not valid. (code already used)" {
		t.Errorf("ErrCodeReused.Error() = %q", got)
	}
	if errors.Is(ErrInvalidAuthenticationCode, ErrCodeReused) {
		t.Error("a plain invalid code matches ErrCodeReused")
	}
}
