package metatest

import (
	"context"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/protect"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// testObjectLock: every backend refuses, inside its own transactions, to
// remove a protected version or weaken its protection, whoever calls
// (package protect decides; the store must ask it on every removal).
// Retention dates are relative to the real time, which the backends'
// default data-protection clock reads.
func testObjectLock(t *testing.T, s meta.Store) {
	ctx := t.Context()
	bypass := protect.WithGovernanceBypass(ctx)
	b := &meta.Bucket{Name: "lock", Owner: owner, Region: "us-east-1", CreatedAt: tick(),
		Versioning: meta.VersioningEnabled, ObjectLockEnabled: true}
	must(t, s.CreateBucket(ctx, b))
	mkBucket(t, s, "plain", meta.VersioningEnabled)
	hour := time.Now().UTC().Add(time.Hour).Truncate(time.Millisecond)

	putLocked := func(key string, r *meta.Retention, hold bool) string {
		t.Helper()
		v := newObj("lock", key)
		v.Retention, v.LegalHold = r, hold
		res, err := s.PutObject(ctx, v, newVID(), nil)
		must(t, err)
		got, err := s.GetObject(ctx, "lock", key, res.VersionID)
		must(t, err)
		diff(t, key+" lock state", []any{r, hold}, []any{got.Retention, got.LegalHold})
		return res.VersionID
	}
	comp := putLocked("c", &meta.Retention{Mode: meta.LockCompliance, Until: hour}, false)
	gov := putLocked("g", &meta.Retention{Mode: meta.LockGovernance, Until: hour}, false)
	held := putLocked("h", nil, true)
	expired := putLocked("e", &meta.Retention{Mode: meta.LockCompliance, Until: time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)}, false)

	del := func(ctx context.Context, key, vid string) error {
		_, err := s.DeleteObject(ctx, "lock", key, vid, "", nil)
		return err
	}
	wantErr(t, "delete compliance", del(ctx, "c", comp), meta.ErrObjectLocked)
	wantErr(t, "delete compliance with bypass", del(bypass, "c", comp), meta.ErrObjectLocked)
	wantErr(t, "delete governance", del(ctx, "g", gov), meta.ErrObjectLocked)
	wantErr(t, "delete held with bypass", del(bypass, "h", held), meta.ErrObjectLocked)
	must(t, del(ctx, "e", expired))
	must(t, del(bypass, "g", gov))
	// A delete marker is no removal.
	_, err := s.DeleteObject(ctx, "lock", "c", "", newVID(), nil)
	must(t, err)

	// Protection cannot be weakened, nor data replaced, in place.
	err = s.UpdateObject(ctx, "lock", "c", comp, func(v *meta.ObjectVersion) error { v.Retention = nil; return nil })
	wantErr(t, "remove compliance retention", err, meta.ErrObjectLocked)
	must(t, s.UpdateObject(ctx, "lock", "c", comp, func(v *meta.ObjectVersion) error {
		v.Retention = &meta.Retention{Mode: meta.LockCompliance, Until: hour.Add(time.Hour)}
		v.Blobs, v.Size = nil, 0
		return nil
	}))
	got, err := s.GetObject(ctx, "lock", "c", comp)
	must(t, err)
	if len(got.Blobs) != 1 || got.Size != 11 || !got.Retention.Until.Equal(hour.Add(time.Hour)) {
		t.Errorf("after extending: blobs %v size %d retention %+v", got.Blobs, got.Size, got.Retention)
	}
	must(t, s.UpdateObject(ctx, "lock", "h", held, func(v *meta.ObjectVersion) error { v.LegalHold = false; return nil }))
	must(t, del(ctx, "h", held))

	// Locks need a lock-enabled bucket; Object Lock and versioning stay.
	v := newObj("plain", "k")
	v.LegalHold = true
	_, err = s.PutObject(ctx, v, newVID(), nil)
	wantErr(t, "legal hold on a plain bucket", err, meta.ErrObjectLocked)
	wantErr(t, "disable Object Lock", s.UpdateBucket(ctx, "lock", func(b *meta.Bucket) error { b.ObjectLockEnabled = false; return nil }), meta.ErrObjectLocked)
	wantErr(t, "suspend versioning", s.UpdateBucket(ctx, "lock", func(b *meta.Bucket) error { b.Versioning = meta.VersioningSuspended; return nil }), meta.ErrObjectLocked)
	wantErr(t, "delete the bucket", s.DeleteBucket(ctx, "lock", nil), meta.ErrBucketNotEmpty)

	// Default retention: creation time plus the period.
	must(t, s.UpdateBucket(ctx, "lock", func(b *meta.Bucket) error {
		b.DefaultRetention = &meta.DefaultRetention{Mode: meta.LockGovernance, Days: 2}
		return nil
	}))
	v = newObj("lock", "d")
	v.LastModified = time.Now().UTC().Truncate(time.Millisecond)
	res, err := s.PutObject(ctx, v, newVID(), nil)
	must(t, err)
	got, err = s.GetObject(ctx, "lock", "d", res.VersionID)
	must(t, err)
	diff(t, "default retention", &meta.Retention{Mode: meta.LockGovernance, Until: v.LastModified.AddDate(0, 0, 2)}, got.Retention)
}
