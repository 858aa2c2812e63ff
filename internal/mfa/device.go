package mfa

import (
	"crypto/subtle"
	"time"
)

// Verification windows, in time steps (see the package documentation).
const (
	// VerifyWindow is how many steps either side of the expected one a
	// code may come from: 1 step (30 s) covers a phone clock that is a
	// little off and a user who types a code just before it rolls over.
	VerifyWindow = 1

	// ResyncWindow is how many steps either side of the server's clock
	// ResyncMFADevice searches: 20 steps, 10 minutes. Two consecutive
	// codes are needed, so a guess succeeds with odds of about
	// (2*20+1)/10^12; a device further off than 10 minutes has a clock
	// that must be fixed, not tolerated. It also bounds Drift.
	ResyncWindow = 20
)

// Device is the verification state of one MFA device. It is plain data for
// the caller to persist; the methods return a new Device and leave their
// receiver alone, so the caller holds both the state it read and the state
// to write.
//
// Concurrency: persist the result of Verify, Enable or Resync only if the
// stored LastStep still equals the receiver's LastStep (compare-and-swap).
// On a lost race, load the state again and re-run the check (which refuses
// the code if the winner used it), or simply fail. Without the
// compare-and-swap two requests carrying the same code could both succeed.
type Device struct {
	// Secret is the TOTP seed. It is never modified, so copies of a
	// Device may share it.
	Secret []byte

	// EnabledAt is when EnableMFADevice succeeded (AWS's EnableDate); the
	// zero time means the device is not enabled.
	EnabledAt time.Time

	// LastStep is the latest time step whose code was accepted. Only codes
	// of later steps are accepted, which makes each code single-use and
	// stops replay of older ones. Zero (1970) means none yet.
	LastStep int64

	// Drift is how many steps the device's clock runs ahead of the
	// server's (negative if behind), as found by the last Resync. Verify
	// centres its window on the server's step plus Drift.
	Drift int64
}

// Enabled reports whether the device has been enabled and not disabled.
func (d Device) Enabled() bool { return !d.EnabledAt.IsZero() }

// Enable implements the code check of EnableMFADevice: code1 and code2 must
// be two consecutive codes, code2 from within VerifyWindow of now and code1
// from the step just before it. Users read code1, wait for the app to show
// the next code, and then submit both, so code2 is normally the current
// code. On success the returned device is enabled at now, with LastStep set
// to code2's step (so neither code can be used again) and no drift.
func (d Device) Enable(code1, code2 string, now time.Time) (Device, error) {
	if d.Enabled() {
		return d, ErrAlreadyEnabled
	}
	if !ValidCode(code1) || !ValidCode(code2) {
		return d, ErrMalformedCode
	}
	cur := Step(now)
	step, err := d.findPair(code1, code2, cur-VerifyWindow, cur+VerifyWindow)
	if err != nil {
		return d, err
	}
	d.EnabledAt = now
	d.LastStep = step
	d.Drift = 0
	return d, nil
}

// Disable returns the device as DeactivateMFADevice leaves it: not enabled,
// with Drift forgotten. LastStep is kept so that codes already used stay
// used if the device is enabled again.
func (d Device) Disable() Device {
	d.EnabledAt = time.Time{}
	d.Drift = 0
	return d
}

// Verify checks one code, as STS (TokenCode) and S3 MFA Delete (x-amz-mfa)
// do. The code must belong to a step within VerifyWindow of now's step plus
// Drift, and to a step after LastStep. On success the returned device has
// LastStep set to the code's step.
//
// A code that matches only steps already used fails with ErrCodeReused.
func (d Device) Verify(code string, now time.Time) (Device, error) {
	if !d.Enabled() {
		return d, ErrNotEnabled
	}
	if !ValidCode(code) {
		return d, ErrMalformedCode
	}
	c := Step(now) + clampDrift(d.Drift)
	want := []byte(code)
	var fresh, stale int // 1 if some fresh / used step matched
	var step int64
	// Every step of the window is computed and compared in constant time,
	// and the result is selected without branching on the comparison, so
	// timing reveals neither whether nor where the code matched.
	for s := c - VerifyWindow; s <= c+VerifyWindow; s++ {
		eq := subtle.ConstantTimeCompare([]byte(codeAt(d.Secret, s)), want)
		isFresh := 0
		if s > d.LastStep { // steps and LastStep are not secret
			isFresh = 1
		}
		f := eq & isFresh
		step = selectStep(f, s, step) // ascending, so the latest fresh match wins
		fresh |= f
		stale |= eq &^ isFresh
	}
	switch {
	case fresh == 1:
		d.LastStep = step
		return d, nil
	case stale == 1:
		return d, ErrCodeReused
	}
	return d, ErrInvalidAuthenticationCode
}

// Resync implements ResyncMFADevice: like Enable, code1 and code2 must be
// consecutive codes, but code2's step may be up to ResyncWindow steps from
// the server's clock (ignoring any earlier Drift), and both must be later
// than LastStep. The offset found becomes Drift, except that offsets within
// VerifyWindow count as none, since they cannot be told apart from the time
// the user took to type. The device must be enabled.
//
// LastStep never goes back, so a device whose clock ran ahead and was then
// corrected must wait until real time passes the codes it already used;
// letting a resync reach back would re-open those codes to replay.
func (d Device) Resync(code1, code2 string, now time.Time) (Device, error) {
	if !d.Enabled() {
		return d, ErrNotEnabled
	}
	if !ValidCode(code1) || !ValidCode(code2) {
		return d, ErrMalformedCode
	}
	cur := Step(now)
	step, err := d.findPair(code1, code2, cur-ResyncWindow, cur+ResyncWindow)
	if err != nil {
		return d, err
	}
	d.LastStep = step
	d.Drift = step - cur
	if d.Drift >= -VerifyWindow && d.Drift <= VerifyWindow {
		d.Drift = 0
	}
	return d, nil
}

// findPair returns the latest step s in [lo, hi] with code2 the code of s
// and code1 the code of s-1, where s-1 is after LastStep. Like Verify it
// compares every candidate in constant time.
func (d Device) findPair(code1, code2 string, lo, hi int64) (int64, error) {
	w1, w2 := []byte(code1), []byte(code2)
	prev := subtle.ConstantTimeCompare([]byte(codeAt(d.Secret, lo-1)), w1)
	var fresh, stale int
	var step int64
	for s := lo; s <= hi; s++ {
		c := []byte(codeAt(d.Secret, s))
		eq := prev & subtle.ConstantTimeCompare(c, w2)
		prev = subtle.ConstantTimeCompare(c, w1) // code1 matching s, for s+1
		isFresh := 0
		if s-1 > d.LastStep {
			isFresh = 1
		}
		f := eq & isFresh
		step = selectStep(f, s, step)
		fresh |= f
		stale |= eq &^ isFresh
	}
	switch {
	case fresh == 1:
		return step, nil
	case stale == 1:
		return 0, ErrCodeReused
	}
	return 0, ErrInvalidAuthenticationCode
}

// selectStep returns a if bit is 1 and b if it is 0, without branching.
func selectStep(bit int, a, b int64) int64 {
	m := -int64(bit)
	return a&m | b&^m
}

// clampDrift keeps a stored Drift within the range Resync can produce, so a
// corrupt record cannot widen or move the window arbitrarily.
func clampDrift(d int64) int64 {
	return max(-ResyncWindow, min(ResyncWindow, d))
}
