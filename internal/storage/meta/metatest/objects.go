package metatest

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

// clone deep-copies a version, to keep what a test expects safe from
// changes made through pointers given to or received from the store.
func clone(v *meta.ObjectVersion) *meta.ObjectVersion {
	c := *v
	c.Headers = maps.Clone(v.Headers)
	c.UserMeta = maps.Clone(v.UserMeta)
	c.Tags = maps.Clone(v.Tags)
	c.Parts = slices.Clone(v.Parts)
	c.Blobs = slices.Clone(v.Blobs)
	return &c
}

func asLatest(v *meta.ObjectVersion, latest bool) *meta.ObjectVersion {
	c := clone(v)
	c.IsLatest = latest
	return c
}

// wantMarker checks a delete marker made by the store: bucket owner,
// a modification time, nothing else.
func wantMarker(t *testing.T, got *meta.ObjectVersion, bucket, key, versionID string, latest bool) {
	t.Helper()
	want := &meta.ObjectVersion{
		Bucket:       bucket,
		Key:          key,
		VersionID:    versionID,
		DeleteMarker: true,
		IsLatest:     latest,
		Owner:        owner,
	}
	diff(t, "delete marker", want, got, cmpopts.IgnoreFields(meta.ObjectVersion{}, "LastModified"))
	if got != nil && got.LastModified.IsZero() {
		t.Error("delete marker has no LastModified")
	}
}

func testUnversioned(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const b = "plain"
	mkBucket(t, s, b, meta.VersioningUnset)

	_, err := s.GetObject(ctx, b, "k", "")
	wantErr(t, "GetObject of a missing key", err, meta.ErrObjectNotFound)

	v1, r1 := put(t, s, b, "k")
	diff(t, "first PUT", meta.PutResult{VersionID: meta.NullVersion}, r1)
	diff(t, "GetObject latest", v1, get(t, s, b, "k", ""))
	diff(t, "GetObject null", v1, get(t, s, b, "k", meta.NullVersion))

	// A second PUT replaces the null version and frees its blobs.
	v2, r2 := put(t, s, b, "k")
	diff(t, "second PUT", meta.PutResult{VersionID: meta.NullVersion, Freed: v1.Blobs}, r2)
	diff(t, "GetObject after replace", v2, get(t, s, b, "k", ""))
	diff(t, "versions after replace", []ver{{"k", meta.NullVersion, false, true, v2.ETag}}, allVersions(t, s, b))

	// A new version that reuses the replaced one's data (a copy onto
	// itself changing only metadata) must not free it.
	same := clone(v2)
	same.UserMeta = map[string]string{"color": "red"}
	r3, err := s.PutObject(ctx, same, newVID(), nil)
	must(t, err)
	diff(t, "PUT reusing the replaced blobs", meta.PutResult{VersionID: meta.NullVersion}, r3)
	v2 = same

	other, _ := put(t, s, b, "other")

	// A version id other than null does not exist here.
	_, err = s.GetObject(ctx, b, "k", newVID())
	wantErr(t, "GetObject of a non-null version", err, meta.ErrVersionNotFound)

	// DELETE removes the null version, frees its blobs, leaves no marker.
	res := del(t, s, b, "k", "")
	diff(t, "DELETE", meta.DeleteResult{VersionID: meta.NullVersion, Freed: v2.Blobs}, res)
	_, err = s.GetObject(ctx, b, "k", "")
	wantErr(t, "GetObject after DELETE", err, meta.ErrObjectNotFound)
	_, err = s.GetObject(ctx, b, "k", meta.NullVersion)
	wantErr(t, "GetObject null after DELETE", err, meta.ErrVersionNotFound)
	diff(t, "versions after DELETE", []ver{{"other", meta.NullVersion, false, true, other.ETag}}, allVersions(t, s, b))

	// Deleting a missing key is no error and does nothing.
	diff(t, "DELETE of a deleted key", meta.DeleteResult{}, del(t, s, b, "k", ""))
	diff(t, "DELETE of a never-written key", meta.DeleteResult{}, del(t, s, b, "never", ""))
	diff(t, "versions after no-op DELETEs", []ver{{"other", meta.NullVersion, false, true, other.ETag}}, allVersions(t, s, b))

	// DELETE of the null version by id works the same.
	res = del(t, s, b, "other", meta.NullVersion)
	diff(t, "DELETE null by id", meta.DeleteResult{VersionID: meta.NullVersion, Freed: other.Blobs}, res)
	diff(t, "versions at the end", []ver{}, allVersions(t, s, b))
}

func testEnabled(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const b = "versioned"
	mkBucket(t, s, b, meta.VersioningEnabled)

	var vs []*meta.ObjectVersion
	for range 3 {
		v := newObj(b, "k")
		vid := newVID()
		res, err := s.PutObject(ctx, v, vid, nil)
		must(t, err)
		diff(t, "PUT result", meta.PutResult{VersionID: vid}, res)
		v.VersionID = vid
		vs = append(vs, v)
	}
	v1, v2, v3 := vs[0], vs[1], vs[2]
	diff(t, "versions", []ver{
		{"k", v3.VersionID, false, true, v3.ETag},
		{"k", v2.VersionID, false, false, v2.ETag},
		{"k", v1.VersionID, false, false, v1.ETag},
	}, allVersions(t, s, b))
	diff(t, "GetObject latest", asLatest(v3, true), get(t, s, b, "k", ""))
	diff(t, "GetObject latest by id", asLatest(v3, true), get(t, s, b, "k", v3.VersionID))
	diff(t, "GetObject older", asLatest(v1, false), get(t, s, b, "k", v1.VersionID))
	_, err := s.GetObject(ctx, b, "k", meta.NullVersion)
	wantErr(t, "GetObject null in a bucket without one", err, meta.ErrVersionNotFound)

	// DELETE adds a marker with the new id, frees nothing.
	dmID := newVID()
	res, err := s.DeleteObject(ctx, b, "k", "", dmID, nil)
	must(t, err)
	diff(t, "DELETE", meta.DeleteResult{VersionID: dmID, DeleteMarker: true}, res)
	wantMarker(t, get(t, s, b, "k", ""), b, "k", dmID, true)
	wantMarker(t, get(t, s, b, "k", dmID), b, "k", dmID, true)
	diff(t, "listing hides a key whose latest is a marker", []string{}, allKeys(t, s, b))
	diff(t, "older version after DELETE", asLatest(v3, false), get(t, s, b, "k", v3.VersionID))

	// Markers stack.
	dm2 := del(t, s, b, "k", "")
	diff(t, "versions after two DELETEs", []ver{
		{"k", dm2.VersionID, true, true, ""},
		{"k", dmID, true, false, ""},
		{"k", v3.VersionID, false, false, v3.ETag},
		{"k", v2.VersionID, false, false, v2.ETag},
		{"k", v1.VersionID, false, false, v1.ETag},
	}, allVersions(t, s, b))

	// DELETE of a key that never existed still adds a marker, as in S3.
	ghost := del(t, s, b, "ghost", "")
	if !ghost.DeleteMarker || ghost.VersionID == "" {
		t.Errorf("DELETE of a missing key in a versioned bucket: %+v, want a marker", ghost)
	}
	wantMarker(t, get(t, s, b, "ghost", ""), b, "ghost", ghost.VersionID, true)

	// A new PUT on top of markers is the latest again.
	v4, r4 := put(t, s, b, "k")
	if len(r4.Freed) != 0 {
		t.Errorf("PUT in a versioned bucket freed %v", r4.Freed)
	}
	diff(t, "GetObject after re-PUT", v4, get(t, s, b, "k", ""))
	diff(t, "listing after re-PUT", []string{"k"}, allKeys(t, s, b))
	if n := len(allVersions(t, s, b)); n != 7 {
		t.Errorf("%d versions, want 7", n)
	}
}

func testSuspended(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const b = "suspended"
	mkBucket(t, s, b, meta.VersioningEnabled)
	a1, _ := put(t, s, b, "k")
	a2, _ := put(t, s, b, "k")
	setVersioning(t, s, b, meta.VersioningSuspended)

	n1, r := put(t, s, b, "k")
	diff(t, "first suspended PUT", meta.PutResult{VersionID: meta.NullVersion}, r)
	n2, r := put(t, s, b, "k")
	diff(t, "second suspended PUT", meta.PutResult{VersionID: meta.NullVersion, Freed: n1.Blobs}, r)
	diff(t, "versions after suspended PUTs", []ver{
		{"k", meta.NullVersion, false, true, n2.ETag},
		{"k", a2.VersionID, false, false, a2.ETag},
		{"k", a1.VersionID, false, false, a1.ETag},
	}, allVersions(t, s, b))
	diff(t, "GetObject null", n2, get(t, s, b, "k", meta.NullVersion))

	// DELETE adds a null marker that replaces (and frees) the null version.
	res, err := s.DeleteObject(ctx, b, "k", "", newVID(), nil)
	must(t, err)
	diff(t, "suspended DELETE", meta.DeleteResult{VersionID: meta.NullVersion, DeleteMarker: true, Freed: n2.Blobs}, res)
	wantMarker(t, get(t, s, b, "k", ""), b, "k", meta.NullVersion, true)
	// Again: the null marker replaces the null marker.
	res = del(t, s, b, "k", "")
	diff(t, "second suspended DELETE", meta.DeleteResult{VersionID: meta.NullVersion, DeleteMarker: true}, res)
	diff(t, "versions after suspended DELETEs", []ver{
		{"k", meta.NullVersion, true, true, ""},
		{"k", a2.VersionID, false, false, a2.ETag},
		{"k", a1.VersionID, false, false, a1.ETag},
	}, allVersions(t, s, b))
	diff(t, "listing after suspended DELETE", []string{}, allKeys(t, s, b))

	// A PUT replaces the null marker.
	n3, r := put(t, s, b, "k")
	diff(t, "PUT over a null marker", meta.PutResult{VersionID: meta.NullVersion}, r)
	diff(t, "listing after PUT over a null marker", []string{"k"}, allKeys(t, s, b))

	// The null version is replaced even when it is not the latest, and
	// the new one becomes the latest.
	setVersioning(t, s, b, meta.VersioningEnabled)
	a3, _ := put(t, s, b, "k")
	setVersioning(t, s, b, meta.VersioningSuspended)
	n4, r := put(t, s, b, "k")
	diff(t, "suspended PUT below a version", meta.PutResult{VersionID: meta.NullVersion, Freed: n3.Blobs}, r)
	diff(t, "versions after replacing an older null version", []ver{
		{"k", meta.NullVersion, false, true, n4.ETag},
		{"k", a3.VersionID, false, false, a3.ETag},
		{"k", a2.VersionID, false, false, a2.ETag},
		{"k", a1.VersionID, false, false, a1.ETag},
	}, allVersions(t, s, b))

	// A key with no null version gets a null marker on top.
	c1, _ := func() (*meta.ObjectVersion, meta.PutResult) {
		setVersioning(t, s, b, meta.VersioningEnabled)
		defer setVersioning(t, s, b, meta.VersioningSuspended)
		return put(t, s, b, "c")
	}()
	res = del(t, s, b, "c", "")
	diff(t, "suspended DELETE without a null version", meta.DeleteResult{VersionID: meta.NullVersion, DeleteMarker: true}, res)
	diff(t, "versions of c", []ver{
		{"c", meta.NullVersion, true, true, ""},
		{"c", c1.VersionID, false, false, c1.ETag},
	}, allVersions(t, s, b)[:2])
}

func testNullVersionAfterEnabling(t *testing.T, s meta.Store) {
	const b = "late"
	mkBucket(t, s, b, meta.VersioningUnset)
	n, _ := put(t, s, b, "k")
	setVersioning(t, s, b, meta.VersioningEnabled)

	v1, r := put(t, s, b, "k")
	if r.VersionID == meta.NullVersion || len(r.Freed) != 0 {
		t.Errorf("PUT after enabling: %+v, want a new version freeing nothing", r)
	}
	diff(t, "versions", []ver{
		{"k", v1.VersionID, false, true, v1.ETag},
		{"k", meta.NullVersion, false, false, n.ETag},
	}, allVersions(t, s, b))
	diff(t, "old null version", asLatest(n, false), get(t, s, b, "k", meta.NullVersion))

	dm := del(t, s, b, "k", "")
	res := del(t, s, b, "k", meta.NullVersion)
	diff(t, "DELETE null by id", meta.DeleteResult{VersionID: meta.NullVersion, Freed: n.Blobs}, res)
	diff(t, "versions after", []ver{
		{"k", dm.VersionID, true, true, ""},
		{"k", v1.VersionID, false, false, v1.ETag},
	}, allVersions(t, s, b))
}

func testDeleteByVersionID(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const b = "byid"
	mkBucket(t, s, b, meta.VersioningEnabled)
	v1, _ := put(t, s, b, "k")
	v2, _ := put(t, s, b, "k")
	v3, _ := put(t, s, b, "k")
	dm := del(t, s, b, "k", "")

	// A version in the middle.
	res := del(t, s, b, "k", v2.VersionID)
	diff(t, "DELETE of a middle version", meta.DeleteResult{VersionID: v2.VersionID, Freed: v2.Blobs}, res)
	_, err := s.GetObject(ctx, b, "k", v2.VersionID)
	wantErr(t, "GetObject of a deleted version", err, meta.ErrVersionNotFound)

	// The marker: the version below becomes the latest again.
	res = del(t, s, b, "k", dm.VersionID)
	diff(t, "DELETE of the marker", meta.DeleteResult{VersionID: dm.VersionID, DeleteMarker: true}, res)
	diff(t, "latest after removing the marker", asLatest(v3, true), get(t, s, b, "k", ""))
	listed, err := s.ListObjects(ctx, b, meta.ListOptions{MaxKeys: 10})
	must(t, err)
	diff(t, "listing after removing the marker", []*meta.ObjectVersion{asLatest(v3, true)}, listed.Objects)

	// The latest version: the next newest becomes the latest.
	res = del(t, s, b, "k", v3.VersionID)
	diff(t, "DELETE of the latest version", meta.DeleteResult{VersionID: v3.VersionID, Freed: v3.Blobs}, res)
	diff(t, "latest after removing the latest", asLatest(v1, true), get(t, s, b, "k", ""))
	diff(t, "by id after removing the latest", asLatest(v1, true), get(t, s, b, "k", v1.VersionID))
	listed, err = s.ListObjects(ctx, b, meta.ListOptions{MaxKeys: 10})
	must(t, err)
	diff(t, "listing after removing the latest", []*meta.ObjectVersion{asLatest(v1, true)}, listed.Objects)

	// Missing versions, and missing keys with a version id.
	_, err = s.DeleteObject(ctx, b, "k", newVID(), "", nil)
	wantErr(t, "DELETE of a missing version", err, meta.ErrVersionNotFound)
	_, err = s.DeleteObject(ctx, b, "k", meta.NullVersion, "", nil)
	wantErr(t, "DELETE of a missing null version", err, meta.ErrVersionNotFound)
	_, err = s.DeleteObject(ctx, b, "ghost", newVID(), "", nil)
	wantErr(t, "DELETE of a version of a missing key", err, meta.ErrVersionNotFound)
	_, err = s.DeleteObject(ctx, b, "k", v2.VersionID, "", nil)
	wantErr(t, "DELETE of a deleted version", err, meta.ErrVersionNotFound)

	// A marker uncovered by removing the marker above it keeps the key hidden.
	dmA := del(t, s, b, "k", "")
	dmB := del(t, s, b, "k", "")
	del(t, s, b, "k", dmB.VersionID)
	wantMarker(t, get(t, s, b, "k", ""), b, "k", dmA.VersionID, true)
	diff(t, "listing with a marker uncovered", []string{}, allKeys(t, s, b))

	// Removing everything leaves nothing behind.
	del(t, s, b, "k", dmA.VersionID)
	del(t, s, b, "k", v1.VersionID)
	_, err = s.GetObject(ctx, b, "k", "")
	wantErr(t, "GetObject after removing every version", err, meta.ErrObjectNotFound)
	diff(t, "versions at the end", []ver{}, allVersions(t, s, b))
	diff(t, "listing at the end", []string{}, allKeys(t, s, b))
}

func testPreconditions(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const b = "pre"
	mkBucket(t, s, b, meta.VersioningEnabled)

	var seen *meta.ObjectVersion
	called := false
	record := func(cur *meta.ObjectVersion) error {
		called, seen = true, cur
		if cur != nil {
			seen = clone(cur)
		}
		return nil
	}
	_, err := s.PutObject(ctx, newObj(b, "k"), newVID(), record)
	must(t, err)
	if !called || seen != nil {
		t.Errorf("precondition for a new key: called %v with %+v, want nil", called, seen)
	}
	latest := get(t, s, b, "k", "")
	_, err = s.PutObject(ctx, newObj(b, "k"), newVID(), record)
	must(t, err)
	diff(t, "precondition argument", latest, seen)

	// A failing precondition leaves everything as it was.
	before := allVersions(t, s, b)
	refuse := func(*meta.ObjectVersion) error { return fmt.Errorf("precondition failed: %w", errTest) }
	_, err = s.PutObject(ctx, newObj(b, "k"), newVID(), refuse)
	wantErr(t, "PUT with a failing precondition", err, errTest)
	_, err = s.PutObject(ctx, newObj(b, "new"), newVID(), refuse)
	wantErr(t, "PUT of a new key with a failing precondition", err, errTest)
	diff(t, "versions after refused PUTs", before, allVersions(t, s, b))

	// A marker is passed as such.
	dm := del(t, s, b, "k", "")
	_, err = s.PutObject(ctx, newObj(b, "k"), newVID(), record)
	must(t, err)
	wantMarker(t, seen, b, "k", dm.VersionID, true)

	// If-None-Match: * as callers write it.
	ifNoneMatch := func(cur *meta.ObjectVersion) error {
		if cur != nil && !cur.DeleteMarker {
			return errTest
		}
		return nil
	}
	_, err = s.PutObject(ctx, newObj(b, "k"), newVID(), ifNoneMatch)
	wantErr(t, "If-None-Match on an existing key", err, errTest)
	_, err = s.PutObject(ctx, newObj(b, "fresh"), newVID(), ifNoneMatch)
	must(t, err)

	// In an unversioned bucket a refused PUT neither replaces nor frees.
	const p = "pre-plain"
	mkBucket(t, s, p, meta.VersioningUnset)
	v, _ := put(t, s, p, "k")
	res, err := s.PutObject(ctx, newObj(p, "k"), newVID(), refuse)
	wantErr(t, "refused PUT in an unversioned bucket", err, errTest)
	if len(res.Freed) != 0 {
		t.Errorf("refused PUT freed %v", res.Freed)
	}
	diff(t, "object after refused PUT", v, get(t, s, p, "k", ""))
}

func testDeleteChecks(t *testing.T, s meta.Store) {
	ctx := t.Context()
	var seen *meta.ObjectVersion
	called := false
	record := func(cur *meta.ObjectVersion) error {
		called, seen = true, cur
		if cur != nil {
			seen = clone(cur)
		}
		return nil
	}
	refuse := func(*meta.ObjectVersion) error { return errTest }

	// Unversioned: check sees the null version.
	const p = "check-plain"
	mkBucket(t, s, p, meta.VersioningUnset)
	v, _ := put(t, s, p, "k")
	res, err := s.DeleteObject(ctx, p, "k", "", newVID(), refuse)
	wantErr(t, "refused DELETE", err, errTest)
	if len(res.Freed) != 0 {
		t.Errorf("refused DELETE freed %v", res.Freed)
	}
	diff(t, "object after refused DELETE", v, get(t, s, p, "k", ""))
	_, err = s.DeleteObject(ctx, p, "k", "", newVID(), record)
	must(t, err)
	diff(t, "check argument (unversioned)", v, seen)
	called = false
	_, err = s.DeleteObject(ctx, p, "k", "", newVID(), record)
	must(t, err)
	if !called || seen != nil {
		t.Errorf("check for a missing key: called %v with %+v, want nil", called, seen)
	}

	// Enabled: without a version id check sees the latest, with one it
	// sees that version.
	const e = "check-versioned"
	mkBucket(t, s, e, meta.VersioningEnabled)
	v1, _ := put(t, s, e, "k")
	v2, _ := put(t, s, e, "k")
	before := allVersions(t, s, e)
	_, err = s.DeleteObject(ctx, e, "k", "", newVID(), refuse)
	wantErr(t, "refused versioned DELETE", err, errTest)
	_, err = s.DeleteObject(ctx, e, "k", v1.VersionID, "", refuse)
	wantErr(t, "refused DELETE of a version", err, errTest)
	diff(t, "versions after refused DELETEs", before, allVersions(t, s, e))

	_, err = s.DeleteObject(ctx, e, "k", v1.VersionID, "", record)
	must(t, err)
	diff(t, "check argument (older version)", asLatest(v1, false), seen)
	_, err = s.DeleteObject(ctx, e, "k", "", newVID(), record)
	must(t, err)
	diff(t, "check argument (latest)", v2, seen)

	// Suspended: a refused DELETE keeps the null version.
	const u = "check-suspended"
	mkBucket(t, s, u, meta.VersioningSuspended)
	n, _ := put(t, s, u, "k")
	res, err = s.DeleteObject(ctx, u, "k", "", newVID(), refuse)
	wantErr(t, "refused suspended DELETE", err, errTest)
	if len(res.Freed) != 0 {
		t.Errorf("refused DELETE freed %v", res.Freed)
	}
	diff(t, "null version after refused DELETE", n, get(t, s, u, "k", ""))
}

func testUpdateObject(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const b = "update"
	mkBucket(t, s, b, meta.VersioningEnabled)
	v1, _ := put(t, s, b, "k")
	v2, _ := put(t, s, b, "k")

	// The latest: GET, GET by id and the listing all see the change.
	var seen *meta.ObjectVersion
	err := s.UpdateObject(ctx, b, "k", "", func(v *meta.ObjectVersion) error {
		seen = clone(v)
		v.Tags = map[string]string{"project": "coffer"}
		v.UserMeta["added"] = "yes"
		v.Headers["Cache-Control"] = "no-cache"
		// Identity cannot change.
		v.Key, v.VersionID, v.DeleteMarker, v.Bucket = "hacked", "hacked", true, "hacked"
		return nil
	})
	must(t, err)
	diff(t, "UpdateObject argument", v2, seen)
	want := clone(v2)
	want.Tags = map[string]string{"project": "coffer"}
	want.UserMeta["added"] = "yes"
	want.Headers["Cache-Control"] = "no-cache"
	diff(t, "latest after update", want, get(t, s, b, "k", ""))
	diff(t, "latest by id after update", want, get(t, s, b, "k", v2.VersionID))
	listed, err := s.ListObjects(ctx, b, meta.ListOptions{MaxKeys: 10})
	must(t, err)
	diff(t, "listing after update", []*meta.ObjectVersion{want}, listed.Objects)
	_, err = s.GetObject(ctx, b, "hacked", "")
	wantErr(t, "GetObject of the attempted new key", err, meta.ErrObjectNotFound)
	diff(t, "versions after update", []ver{
		{"k", v2.VersionID, false, true, v2.ETag},
		{"k", v1.VersionID, false, false, v1.ETag},
	}, allVersions(t, s, b))

	// An older version, by id: only it changes.
	must(t, s.UpdateObject(ctx, b, "k", v1.VersionID, func(v *meta.ObjectVersion) error {
		if v.IsLatest {
			t.Error("UpdateObject of an older version: IsLatest set")
		}
		v.Tags = nil
		return nil
	}))
	want1 := asLatest(v1, false)
	want1.Tags = nil
	diff(t, "older version after update", want1, get(t, s, b, "k", v1.VersionID))
	diff(t, "latest after updating an older version", want, get(t, s, b, "k", ""))

	// fn's error aborts.
	err = s.UpdateObject(ctx, b, "k", "", func(v *meta.ObjectVersion) error {
		v.Tags = map[string]string{"lost": "change"}
		return fmt.Errorf("refused: %w", errTest)
	})
	wantErr(t, "UpdateObject with a failing fn", err, errTest)
	diff(t, "latest after refused update", want, get(t, s, b, "k", ""))

	// Missing keys and versions.
	nop := func(*meta.ObjectVersion) error { return nil }
	wantErr(t, "UpdateObject of a missing key", s.UpdateObject(ctx, b, "ghost", "", nop), meta.ErrObjectNotFound)
	wantErr(t, "UpdateObject of a missing version", s.UpdateObject(ctx, b, "k", newVID(), nop), meta.ErrVersionNotFound)

	// A latest marker is passed as such.
	dm := del(t, s, b, "k", "")
	err = s.UpdateObject(ctx, b, "k", "", func(v *meta.ObjectVersion) error {
		seen = clone(v)
		return errTest
	})
	wantErr(t, "UpdateObject refusing a marker", err, errTest)
	wantMarker(t, seen, b, "k", dm.VersionID, true)
	diff(t, "listing after update of a marker", []string{}, allKeys(t, s, b))
}

// testIsolation checks that the store keeps its own copies.
func testIsolation(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const b = "isolation"
	bucket := mkBucket(t, s, b, meta.VersioningUnset)
	bucket.Region = "changed"

	v := newObj(b, "k")
	want := clone(v)
	want.VersionID, want.IsLatest = meta.NullVersion, true
	_, err := s.PutObject(ctx, v, newVID(), nil)
	must(t, err)
	v.Tags["team"] = "changed"
	v.Blobs[0].ID = "changed"
	v.Key = "changed"
	got := get(t, s, b, "k", "")
	diff(t, "object after changing the PUT argument", want, got)

	got.Tags["team"] = "changed"
	got.Headers["Content-Type"] = "changed"
	got.Blobs[0].ID = "changed"
	diff(t, "object after changing a returned copy", want, get(t, s, b, "k", ""))

	gb, err := s.GetBucket(ctx, b)
	must(t, err)
	if gb.Region != "us-east-1" {
		t.Errorf("bucket region %q after changing the CreateBucket argument", gb.Region)
	}
}
