package bolt

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-io/coffer/internal/clock"
	"github.com/coffer-io/coffer/internal/protect"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

func TestVersionCodecObjectLock(t *testing.T) {
	until := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	env := &meta.Encryption{Algorithm: "AES256", KeyID: "k", SealedKey: []byte{1}, Identity: []byte{2}}
	for _, v := range []*meta.ObjectVersion{
		{VersionID: "a", Retention: &meta.Retention{Mode: meta.LockCompliance, Until: until}},
		{VersionID: "b", LegalHold: true, ACL: []byte("acl")},
		{VersionID: "c", Retention: &meta.Retention{Mode: meta.LockGovernance, Until: until}, LegalHold: true, Encryption: env,
			Blobs: []meta.BlobRef{{ID: "x", Size: 9}}},
	} {
		v.LastModified = time.Unix(1, 0).UTC()
		data := encodeVersionBinary(v)
		if data[0] != versionCodecV4 {
			t.Fatalf("%s: codec %d, want %d", v.VersionID, data[0], versionCodecV4)
		}
		var got meta.ObjectVersion
		if err := decodeVersionBinary(data, &got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(v, &got); diff != "" {
			t.Fatal(diff)
		}
		for i := 0; i < len(data); i++ {
			if err := decodeVersionBinary(data[:i], new(meta.ObjectVersion)); err == nil {
				t.Fatalf("truncated record of %d bytes decoded", i)
			}
		}
	}
	// Unlocked records keep their older, smaller encodings.
	if c := encodeVersionBinary(&meta.ObjectVersion{VersionID: "d", Encryption: env})[0]; c != versionCodecV3 {
		t.Fatalf("unlocked encrypted record written with codec %d", c)
	}
}

// TestStoreRefusesLockedRemoval: the store itself, whoever calls it,
// neither removes nor weakens a protected version, and lets it go once
// the data-protection clock passes its retention.
func TestStoreRefusesLockedRemoval(t *testing.T) {
	clk := &clock.Offset{}
	s, err := Open(filepath.Join(t.TempDir(), "meta.db"), Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateBucket(ctx, &meta.Bucket{Name: "b", Owner: "111111111111", Versioning: meta.VersioningEnabled, ObjectLockEnabled: true,
		DefaultRetention: &meta.DefaultRetention{Mode: meta.LockGovernance, Days: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket(ctx, &meta.Bucket{Name: "plain", Owner: "111111111111"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	put := func(bucket string, v *meta.ObjectVersion, id string) (string, error) {
		v.Bucket, v.Key, v.LastModified = bucket, "k", now
		res, err := s.PutObject(ctx, v, id, nil)
		return res.VersionID, err
	}
	comp, err := put("b", &meta.ObjectVersion{Retention: &meta.Retention{Mode: meta.LockCompliance, Until: now.Add(time.Hour)}}, "v-compliance")
	if err != nil {
		t.Fatal(err)
	}
	gov, err := put("b", &meta.ObjectVersion{}, "v-default")
	if err != nil {
		t.Fatal(err)
	}
	hold, err := put("b", &meta.ObjectVersion{LegalHold: true}, "v-hold")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := put("plain", &meta.ObjectVersion{LegalHold: true}, ""); !errors.Is(err, meta.ErrObjectLocked) {
		t.Fatalf("legal hold on a bucket without Object Lock: %v", err)
	}
	got, err := s.GetObject(ctx, "b", "k", gov)
	if err != nil {
		t.Fatal(err)
	}
	if r := got.Retention; r == nil || r.Mode != meta.LockGovernance || !r.Until.Equal(now.AddDate(0, 0, 1)) {
		t.Fatalf("default retention: %+v", r)
	}

	bypass := protect.WithGovernanceBypass(ctx)
	del := func(ctx context.Context, vid string) error {
		_, err := s.DeleteObject(ctx, "b", "k", vid, "", nil)
		return err
	}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		vid  string
	}{
		{"compliance", ctx, comp}, {"compliance with bypass", bypass, comp},
		{"governance", ctx, gov}, {"legal hold", ctx, hold}, {"legal hold with bypass", bypass, hold},
	} {
		if err := del(tc.ctx, tc.vid); !errors.Is(err, meta.ErrObjectLocked) {
			t.Errorf("%s: delete: %v, want ErrObjectLocked", tc.name, err)
		}
	}
	// Weakening through an update is refused too; data never changes in place.
	if err := s.UpdateObject(ctx, "b", "k", comp, func(v *meta.ObjectVersion) error { v.Retention = nil; return nil }); !errors.Is(err, meta.ErrObjectLocked) {
		t.Errorf("removing compliance retention: %v", err)
	}
	if err := s.UpdateObject(bypass, "b", "k", comp, func(v *meta.ObjectVersion) error {
		v.Retention.Until = v.Retention.Until.Add(-time.Minute)
		return nil
	}); !errors.Is(err, meta.ErrObjectLocked) {
		t.Errorf("shortening compliance retention in place: %v", err)
	}
	if err := s.UpdateObject(ctx, "b", "k", comp, func(v *meta.ObjectVersion) error {
		v.Retention = &meta.Retention{Mode: meta.LockCompliance, Until: now.Add(2 * time.Hour)}
		v.Blobs = []meta.BlobRef{{ID: "evil"}}
		return nil
	}); err != nil {
		t.Errorf("extending compliance retention: %v", err)
	}
	if v, _ := s.GetObject(ctx, "b", "k", comp); len(v.Blobs) != 0 || !v.Retention.Until.Equal(now.Add(2*time.Hour)) {
		t.Errorf("after extension: %+v", v)
	}
	// Governance yields to the bypass; the legal hold to its removal.
	if err := del(bypass, gov); err != nil {
		t.Errorf("governance with bypass: %v", err)
	}
	if err := s.UpdateObject(ctx, "b", "k", hold, func(v *meta.ObjectVersion) error { v.LegalHold = false; return nil }); err != nil {
		t.Fatal(err)
	}
	// The hold's version also got the one-day default.
	clk.Advance(25 * time.Hour)
	if err := del(ctx, hold); err != nil {
		t.Errorf("after the hold was lifted and retention ran out: %v", err)
	}
	if err := del(ctx, comp); err != nil {
		t.Errorf("compliance after retention ran out: %v", err)
	}
}
