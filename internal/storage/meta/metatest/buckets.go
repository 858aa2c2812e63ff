package metatest

import (
	"fmt"
	"testing"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

func bucketNames(bs []*meta.Bucket) []string {
	names := []string{}
	for _, b := range bs {
		names = append(names, b.Name)
	}
	return names
}

func listBuckets(t *testing.T, s meta.Store, owner string) []string {
	t.Helper()
	bs, err := s.ListBuckets(t.Context(), owner)
	must(t, err)
	return bucketNames(bs)
}

func testBuckets(t *testing.T, s meta.Store) {
	ctx := t.Context()
	b := &meta.Bucket{
		Name:              "photos",
		Owner:             owner,
		Region:            "eu-west-1",
		CreatedAt:         tick(),
		MFADelete:         "Disabled",
		ObjectLockEnabled: true,
		Configs:           map[string][]byte{"cors": []byte("<CORSConfiguration/>"), "tagging": []byte("{}")},
	}
	must(t, s.CreateBucket(ctx, b))
	got, err := s.GetBucket(ctx, "photos")
	must(t, err)
	diff(t, "GetBucket", b, got)

	// Duplicates fail whoever asks.
	for _, o := range []string{owner, otherOwner} {
		err := s.CreateBucket(ctx, &meta.Bucket{Name: "photos", Owner: o, Region: "us-east-1", CreatedAt: tick()})
		wantErr(t, "CreateBucket of an existing name by "+o, err, meta.ErrBucketExists)
	}
	got, err = s.GetBucket(ctx, "photos")
	must(t, err)
	diff(t, "bucket after refused duplicate", b, got)

	_, err = s.GetBucket(ctx, "nope")
	wantErr(t, "GetBucket of a missing bucket", err, meta.ErrBucketNotFound)

	// Listing by owner, by name.
	for _, name := range []string{"zebra", "apple", "mango"} {
		mkBucket(t, s, name, "")
	}
	must(t, s.CreateBucket(ctx, &meta.Bucket{Name: "other", Owner: otherOwner, Region: "us-east-1", CreatedAt: tick()}))
	diff(t, "ListBuckets(owner)", []string{"apple", "mango", "photos", "zebra"}, listBuckets(t, s, owner))
	diff(t, "ListBuckets(other owner)", []string{"other"}, listBuckets(t, s, otherOwner))
	diff(t, "ListBuckets(all)", []string{"apple", "mango", "other", "photos", "zebra"}, listBuckets(t, s, ""))
	diff(t, "ListBuckets(no such owner)", []string{}, listBuckets(t, s, "999999999999"))

	// UpdateBucket changes fields in place.
	must(t, s.UpdateBucket(ctx, "photos", func(b *meta.Bucket) error {
		b.Versioning = meta.VersioningEnabled
		b.Configs["policy"] = []byte(`{"Version":"2012-10-17"}`)
		delete(b.Configs, "cors")
		return nil
	}))
	want := *b
	want.Versioning = meta.VersioningEnabled
	want.Configs = map[string][]byte{"tagging": []byte("{}"), "policy": []byte(`{"Version":"2012-10-17"}`)}
	got, err = s.GetBucket(ctx, "photos")
	must(t, err)
	diff(t, "bucket after UpdateBucket", &want, got)

	// An error from fn aborts, unchanged, and is returned as is.
	wrapped := fmt.Errorf("wrapped: %w", errTest)
	err = s.UpdateBucket(ctx, "photos", func(b *meta.Bucket) error {
		b.Versioning = meta.VersioningSuspended
		b.Region = "changed"
		return wrapped
	})
	wantErr(t, "UpdateBucket with a failing fn", err, errTest)
	got, err = s.GetBucket(ctx, "photos")
	must(t, err)
	diff(t, "bucket after failed UpdateBucket", &want, got)

	// The name is not changeable; the owner is, and listings follow.
	must(t, s.UpdateBucket(ctx, "mango", func(b *meta.Bucket) error {
		b.Name = "renamed"
		b.Owner = otherOwner
		return nil
	}))
	got, err = s.GetBucket(ctx, "mango")
	must(t, err)
	if got.Name != "mango" || got.Owner != otherOwner {
		t.Errorf("after UpdateBucket renaming and re-owning: name %q owner %q, want mango %s", got.Name, got.Owner, otherOwner)
	}
	_, err = s.GetBucket(ctx, "renamed")
	wantErr(t, "GetBucket of the attempted new name", err, meta.ErrBucketNotFound)
	diff(t, "ListBuckets(owner) after re-owning", []string{"apple", "photos", "zebra"}, listBuckets(t, s, owner))
	diff(t, "ListBuckets(other) after re-owning", []string{"mango", "other"}, listBuckets(t, s, otherOwner))

	err = s.UpdateBucket(ctx, "nope", func(b *meta.Bucket) error { return nil })
	wantErr(t, "UpdateBucket of a missing bucket", err, meta.ErrBucketNotFound)
}

func testDeleteBucket(t *testing.T, s meta.Store) {
	ctx := t.Context()
	mkBucket(t, s, "empty", "")
	must(t, s.DeleteBucket(ctx, "empty", nil))
	_, err := s.GetBucket(ctx, "empty")
	wantErr(t, "GetBucket after delete", err, meta.ErrBucketNotFound)
	diff(t, "ListBuckets after delete", []string{}, listBuckets(t, s, owner))
	wantErr(t, "DeleteBucket of a missing bucket", s.DeleteBucket(ctx, "empty", nil), meta.ErrBucketNotFound)

	// check sees the bucket; its error aborts and is returned as is.
	b := mkBucket(t, s, "checked", "")
	var seen *meta.Bucket
	err = s.DeleteBucket(ctx, "checked", func(b *meta.Bucket) error {
		seen = b
		return errTest
	})
	wantErr(t, "DeleteBucket with a failing check", err, errTest)
	diff(t, "bucket passed to check", b, seen)
	if _, err := s.GetBucket(ctx, "checked"); err != nil {
		t.Errorf("bucket gone after a refused delete: %v", err)
	}

	// Not empty while an object, a delete marker or an upload remains.
	obj := mkBucket(t, s, "with-object", "")
	put(t, s, obj.Name, "k")
	wantErr(t, "DeleteBucket with an object", s.DeleteBucket(ctx, obj.Name, nil), meta.ErrBucketNotEmpty)
	del(t, s, obj.Name, "k", "")
	must(t, s.DeleteBucket(ctx, obj.Name, nil))

	dm := mkBucket(t, s, "with-marker", meta.VersioningEnabled)
	v, _ := put(t, s, dm.Name, "k")
	del(t, s, dm.Name, "k", "") // marker on top of v
	wantErr(t, "DeleteBucket with a version and a marker", s.DeleteBucket(ctx, dm.Name, nil), meta.ErrBucketNotEmpty)
	del(t, s, dm.Name, "k", v.VersionID)
	if len(allKeys(t, s, dm.Name)) != 0 {
		t.Fatal("delete marker not latest")
	}
	wantErr(t, "DeleteBucket with only a delete marker", s.DeleteBucket(ctx, dm.Name, nil), meta.ErrBucketNotEmpty)
	for _, v := range allVersions(t, s, dm.Name) {
		del(t, s, dm.Name, v.Key, v.VersionID)
	}
	must(t, s.DeleteBucket(ctx, dm.Name, nil))

	up := mkBucket(t, s, "with-upload", "")
	u := &meta.Upload{Bucket: up.Name, Key: "k", UploadID: newUploadID(), Owner: owner, Initiated: tick()}
	must(t, s.CreateUpload(ctx, u))
	wantErr(t, "DeleteBucket with an upload", s.DeleteBucket(ctx, up.Name, nil), meta.ErrBucketNotEmpty)
	_, err = s.AbortUpload(ctx, up.Name, "k", u.UploadID)
	must(t, err)
	must(t, s.DeleteBucket(ctx, up.Name, nil))

	// A re-created bucket starts empty.
	again := mkBucket(t, s, "with-object", meta.VersioningEnabled)
	diff(t, "objects of a re-created bucket", []ver{}, allVersions(t, s, again.Name))
	got, err := s.GetBucket(ctx, again.Name)
	must(t, err)
	diff(t, "re-created bucket", again, got)
}

// testMissingBucket checks that every per-bucket method reports
// ErrBucketNotFound.
func testMissingBucket(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const b = "missing"
	calls := map[string]func() error{
		"PutObject": func() error {
			_, err := s.PutObject(ctx, newObj(b, "k"), newVID(), nil)
			return err
		},
		"GetObject": func() error {
			_, err := s.GetObject(ctx, b, "k", "")
			return err
		},
		"GetObject(version)": func() error {
			_, err := s.GetObject(ctx, b, "k", "null")
			return err
		},
		"UpdateObject": func() error {
			return s.UpdateObject(ctx, b, "k", "", func(*meta.ObjectVersion) error { return nil })
		},
		"DeleteObject": func() error {
			_, err := s.DeleteObject(ctx, b, "k", "", newVID(), nil)
			return err
		},
		"DeleteObject(version)": func() error {
			_, err := s.DeleteObject(ctx, b, "k", "null", "", nil)
			return err
		},
		"ListObjects": func() error {
			_, err := s.ListObjects(ctx, b, meta.ListOptions{MaxKeys: 10})
			return err
		},
		"ListVersions": func() error {
			_, err := s.ListVersions(ctx, b, meta.ListOptions{MaxKeys: 10})
			return err
		},
		"CreateUpload": func() error {
			return s.CreateUpload(ctx, &meta.Upload{Bucket: b, Key: "k", UploadID: newUploadID(), Initiated: tick()})
		},
		"GetUpload": func() error {
			_, err := s.GetUpload(ctx, b, "k", "u")
			return err
		},
		"PutPart": func() error {
			_, err := s.PutPart(ctx, b, "k", "u", &meta.Part{Number: 1, Blob: newBlob(1)})
			return err
		},
		"ListParts": func() error {
			_, _, err := s.ListParts(ctx, b, "k", "u", 0, 10)
			return err
		},
		"ListUploads": func() error {
			_, err := s.ListUploads(ctx, b, meta.UploadListOptions{MaxUploads: 10})
			return err
		},
		"CompleteUpload": func() error {
			_, err := s.CompleteUpload(ctx, "u", newObj(b, "k"), newVID(), nil)
			return err
		},
		"AbortUpload": func() error {
			_, err := s.AbortUpload(ctx, b, "k", "u")
			return err
		},
	}
	for name, call := range calls {
		wantErr(t, name, call(), meta.ErrBucketNotFound)
	}
}
