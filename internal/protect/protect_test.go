package protect

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

var (
	now    = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	later  = now.Add(24 * time.Hour)
	sooner = now.Add(time.Hour)
	past   = now.Add(-time.Hour)
)

func ret(mode string, until time.Time) *meta.Retention {
	return &meta.Retention{Mode: mode, Until: until}
}

func TestCheckRemoval(t *testing.T) {
	plain, bypass := context.Background(), WithGovernanceBypass(context.Background())
	tests := []struct {
		name   string
		v      *meta.ObjectVersion
		ctx    context.Context
		locked bool
	}{
		{"unprotected", &meta.ObjectVersion{}, plain, false},
		{"delete marker", &meta.ObjectVersion{DeleteMarker: true}, plain, false},
		{"compliance", &meta.ObjectVersion{Retention: ret(meta.LockCompliance, later)}, plain, true},
		{"compliance with bypass", &meta.ObjectVersion{Retention: ret(meta.LockCompliance, later)}, bypass, true},
		{"compliance expired", &meta.ObjectVersion{Retention: ret(meta.LockCompliance, past)}, plain, false},
		{"compliance ends now", &meta.ObjectVersion{Retention: ret(meta.LockCompliance, now)}, plain, false},
		{"governance", &meta.ObjectVersion{Retention: ret(meta.LockGovernance, later)}, plain, true},
		{"governance with bypass", &meta.ObjectVersion{Retention: ret(meta.LockGovernance, later)}, bypass, false},
		{"legal hold", &meta.ObjectVersion{LegalHold: true}, plain, true},
		{"legal hold with bypass", &meta.ObjectVersion{LegalHold: true}, bypass, true},
		{"legal hold, retention expired", &meta.ObjectVersion{LegalHold: true, Retention: ret(meta.LockGovernance, past)}, bypass, true},
	}
	for _, tc := range tests {
		err := CheckRemoval(tc.ctx, now, tc.v)
		if got := errors.Is(err, meta.ErrObjectLocked); got != tc.locked || (err != nil && !got) {
			t.Errorf("%s: CheckRemoval = %v, want locked=%v", tc.name, err, tc.locked)
		}
	}
}

func TestCheckChange(t *testing.T) {
	plain, bypass := context.Background(), WithGovernanceBypass(context.Background())
	tests := []struct {
		name     string
		old, new *meta.Retention
		ctx      context.Context
		allowed  bool
	}{
		{"set on unprotected", nil, ret(meta.LockCompliance, later), plain, true},
		{"replace expired", ret(meta.LockCompliance, past), ret(meta.LockGovernance, sooner), plain, true},
		{"remove expired", ret(meta.LockCompliance, past), nil, plain, true},
		{"compliance extend", ret(meta.LockCompliance, sooner), ret(meta.LockCompliance, later), plain, true},
		{"compliance same", ret(meta.LockCompliance, sooner), ret(meta.LockCompliance, sooner), plain, true},
		{"compliance shorten", ret(meta.LockCompliance, later), ret(meta.LockCompliance, sooner), bypass, false},
		{"compliance remove", ret(meta.LockCompliance, later), nil, bypass, false},
		{"compliance to governance", ret(meta.LockCompliance, sooner), ret(meta.LockGovernance, later), bypass, false},
		{"governance extend", ret(meta.LockGovernance, sooner), ret(meta.LockGovernance, later), plain, true},
		{"governance shorten", ret(meta.LockGovernance, later), ret(meta.LockGovernance, sooner), plain, false},
		{"governance shorten with bypass", ret(meta.LockGovernance, later), ret(meta.LockGovernance, sooner), bypass, true},
		{"governance remove", ret(meta.LockGovernance, later), nil, plain, false},
		{"governance remove with bypass", ret(meta.LockGovernance, later), nil, bypass, true},
		{"governance to compliance", ret(meta.LockGovernance, sooner), ret(meta.LockCompliance, later), plain, false},
		{"governance to compliance with bypass", ret(meta.LockGovernance, sooner), ret(meta.LockCompliance, later), bypass, true},
	}
	for _, tc := range tests {
		err := CheckChange(tc.ctx, now, &meta.ObjectVersion{Retention: tc.old}, &meta.ObjectVersion{Retention: tc.new})
		if (err == nil) != tc.allowed || (err != nil && !errors.Is(err, meta.ErrObjectLocked)) {
			t.Errorf("%s: CheckChange = %v, want allowed=%v", tc.name, err, tc.allowed)
		}
	}
	// Legal holds come and go freely, even under compliance retention.
	old := &meta.ObjectVersion{LegalHold: true, Retention: ret(meta.LockCompliance, later)}
	if err := CheckChange(plain, now, old, &meta.ObjectVersion{Retention: ret(meta.LockCompliance, later)}); err != nil {
		t.Errorf("lifting a legal hold: %v", err)
	}
}

func TestApplyDefault(t *testing.T) {
	created := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	lock := func(d *meta.DefaultRetention) *meta.Bucket {
		return &meta.Bucket{Name: "b", ObjectLockEnabled: true, DefaultRetention: d}
	}
	tests := []struct {
		name string
		b    *meta.Bucket
		v    meta.ObjectVersion
		want *meta.Retention
		err  bool
	}{
		{"days", lock(&meta.DefaultRetention{Mode: meta.LockGovernance, Days: 30}), meta.ObjectVersion{},
			ret(meta.LockGovernance, created.AddDate(0, 0, 30)), false},
		{"years", lock(&meta.DefaultRetention{Mode: meta.LockCompliance, Years: 1}), meta.ObjectVersion{},
			ret(meta.LockCompliance, created.AddDate(1, 0, 0)), false},
		{"explicit wins", lock(&meta.DefaultRetention{Mode: meta.LockCompliance, Years: 1}),
			meta.ObjectVersion{Retention: ret(meta.LockGovernance, later)}, ret(meta.LockGovernance, later), false},
		{"no default", lock(nil), meta.ObjectVersion{}, nil, false},
		{"marker", lock(&meta.DefaultRetention{Mode: meta.LockCompliance, Days: 1}), meta.ObjectVersion{DeleteMarker: true}, nil, false},
		{"not lock-enabled", &meta.Bucket{Name: "b"}, meta.ObjectVersion{LegalHold: true}, nil, true},
		{"not lock-enabled, nothing asked", &meta.Bucket{Name: "b"}, meta.ObjectVersion{}, nil, false},
	}
	for _, tc := range tests {
		v := tc.v
		v.LastModified = created
		err := ApplyDefault(tc.b, &v, now)
		if (err != nil) != tc.err {
			t.Errorf("%s: err = %v", tc.name, err)
			continue
		}
		if !sameRetention(v.Retention, tc.want) {
			t.Errorf("%s: retention %+v, want %+v", tc.name, v.Retention, tc.want)
		}
	}
}

func TestCheckBucketChange(t *testing.T) {
	locked := &meta.Bucket{Name: "b", ObjectLockEnabled: true, Versioning: meta.VersioningEnabled}
	tests := []struct {
		name    string
		old, b  *meta.Bucket
		allowed bool
	}{
		{"unlocked changes freely", &meta.Bucket{Versioning: meta.VersioningEnabled}, &meta.Bucket{Versioning: meta.VersioningSuspended}, true},
		{"enabling", &meta.Bucket{Versioning: meta.VersioningEnabled}, locked, true},
		{"default retention changes", locked, &meta.Bucket{ObjectLockEnabled: true, Versioning: meta.VersioningEnabled, DefaultRetention: &meta.DefaultRetention{Mode: meta.LockGovernance, Days: 1}}, true},
		{"disabling", locked, &meta.Bucket{Versioning: meta.VersioningEnabled}, false},
		{"suspending", locked, &meta.Bucket{ObjectLockEnabled: true, Versioning: meta.VersioningSuspended}, false},
	}
	for _, tc := range tests {
		if err := CheckBucketChange(tc.old, tc.b); (err == nil) != tc.allowed {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
