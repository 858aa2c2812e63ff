package metatest

import (
	"bytes"
	"testing"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

// putInline stores a version whose data is inline.
func putInline(t *testing.T, s meta.Store, bucket, key string, data []byte) *meta.ObjectVersion {
	t.Helper()
	v := newObj(bucket, key)
	v.Blobs = nil
	v.Size = int64(len(data))
	v.Inline = bytes.Clone(data)
	res, err := s.PutObject(t.Context(), v, newVID(), nil)
	must(t, err)
	v.VersionID = res.VersionID
	return v
}

// testInline checks inline data: it round-trips with GetObject (latest and
// by version id), never appears in listings, is replaced with its version
// and removed with it, and survives metadata updates.
func testInline(t *testing.T, s meta.Store) {
	mkBucket(t, s, "inline-b", meta.VersioningEnabled)
	v1 := putInline(t, s, "inline-b", "k", []byte("first"))
	v2 := putInline(t, s, "inline-b", "k", []byte("second"))
	if got := get(t, s, "inline-b", "k", "").Inline; string(got) != "second" {
		t.Fatalf("latest inline = %q", got)
	}
	if got := get(t, s, "inline-b", "k", v1.VersionID).Inline; string(got) != "first" {
		t.Fatalf("v1 inline = %q", got)
	}
	// Listings never carry data.
	lr, err := s.ListObjects(t.Context(), "inline-b", meta.ListOptions{MaxKeys: 10})
	must(t, err)
	lv, err := s.ListVersions(t.Context(), "inline-b", meta.ListOptions{MaxKeys: 10})
	must(t, err)
	for _, o := range append(lr.Objects, lv.Objects...) {
		if o.Inline != nil {
			t.Fatalf("listing returned inline data for %s@%s", o.Key, o.VersionID)
		}
	}
	// Updates keep the data.
	must(t, s.UpdateObject(t.Context(), "inline-b", "k", v2.VersionID, func(v *meta.ObjectVersion) error {
		v.Tags = map[string]string{"a": "b"}
		return nil
	}))
	if got := get(t, s, "inline-b", "k", "").Inline; string(got) != "second" {
		t.Fatalf("inline after update = %q", got)
	}
	// Deleting the latest version makes the older one's data current.
	del(t, s, "inline-b", "k", v2.VersionID)
	if got := get(t, s, "inline-b", "k", "").Inline; string(got) != "first" {
		t.Fatalf("inline after deleting latest = %q", got)
	}
	// An unversioned overwrite replaces the data; a delete removes it.
	mkBucket(t, s, "inline-u", meta.VersioningUnset)
	putInline(t, s, "inline-u", "k", []byte("old"))
	putInline(t, s, "inline-u", "k", []byte("new"))
	if got := get(t, s, "inline-u", "k", "").Inline; string(got) != "new" {
		t.Fatalf("unversioned overwrite inline = %q", got)
	}
	del(t, s, "inline-u", "k", "")
	v, _ := put(t, s, "inline-u", "k")
	if got := get(t, s, "inline-u", "k", v.VersionID).Inline; got != nil {
		t.Fatalf("blob-backed version has inline data %q after an inline one was deleted", got)
	}
	// Caller-owned slices are not retained.
	buf := []byte("mine")
	w := newObj("inline-u", "k2")
	w.Blobs, w.Inline = nil, buf
	_, err = s.PutObject(t.Context(), w, newVID(), nil)
	must(t, err)
	buf[0] = 'X'
	if got := get(t, s, "inline-u", "k2", "").Inline; string(got) != "mine" {
		t.Fatalf("store retained the caller's slice: %q", got)
	}
}
