package metatest

import (
	"sort"
	"testing"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

func testForEachBlobRef(t *testing.T, s meta.Store) {
	ctx := t.Context()
	var want []meta.BlobRef
	keep := func(refs ...meta.BlobRef) { want = append(want, refs...) }

	// Unversioned: replaced and deleted versions are no longer referenced.
	const a = "refs-plain"
	mkBucket(t, s, a, meta.VersioningUnset)
	put(t, s, a, "k")
	v2, _ := put(t, s, a, "k")
	put(t, s, a, "gone")
	del(t, s, a, "gone", "")
	multi := newObj(a, "multi")
	multi.Blobs = append(multi.Blobs, newBlob(1), newBlob(2))
	_, err := s.PutObject(ctx, multi, newVID(), nil)
	must(t, err)
	keep(v2.Blobs...)
	keep(multi.Blobs...)

	// Versioned: every version is referenced; markers reference nothing.
	const b = "refs-versioned"
	mkBucket(t, s, b, meta.VersioningEnabled)
	w1, _ := put(t, s, b, "k")
	w2, _ := put(t, s, b, "k")
	del(t, s, b, "k", "")
	w3, _ := put(t, s, b, "k2")
	del(t, s, b, "k2", w3.VersionID)
	keep(w1.Blobs...)
	keep(w2.Blobs...)

	// Uploads: current parts are referenced, replaced ones not; a
	// completed upload's used parts are referenced through the version.
	u := newUpload(b, "big", tick())
	must(t, s.CreateUpload(ctx, u))
	p1, _ := putPart(t, s, u, 1)
	putPart(t, s, u, 2)
	p2, _ := putPart(t, s, u, 2)
	keep(p1.Blob, p2.Blob)
	done := newUpload(b, "done", tick())
	must(t, s.CreateUpload(ctx, done))
	q1, _ := putPart(t, s, done, 1)
	putPart(t, s, done, 2)
	_, err = s.CompleteUpload(ctx, done.UploadID, fromParts(done, q1), newVID(), nil)
	must(t, err)
	keep(q1.Blob)
	aborted := newUpload(a, "aborted", tick())
	must(t, s.CreateUpload(ctx, aborted))
	putPart(t, s, aborted, 1)
	_, err = s.AbortUpload(ctx, a, aborted.Key, aborted.UploadID)
	must(t, err)

	var got []string
	must(t, s.ForEachBlobRef(ctx, func(id string) error {
		got = append(got, id)
		return nil
	}))
	sort.Strings(got)
	diff(t, "referenced blobs", blobIDs(want), got)

	// An error stops the walk and is returned.
	calls := 0
	err = s.ForEachBlobRef(ctx, func(string) error {
		calls++
		return errTest
	})
	wantErr(t, "ForEachBlobRef with a failing fn", err, errTest)
	if calls != 1 {
		t.Errorf("ForEachBlobRef called fn %d times after it failed, want 1", calls)
	}
}
