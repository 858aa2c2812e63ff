package metatest

import (
	"fmt"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

func newUpload(bucket, key string, initiated time.Time) *meta.Upload {
	return &meta.Upload{
		Bucket:            bucket,
		Key:               key,
		UploadID:          newUploadID(),
		Owner:             owner,
		Initiated:         initiated,
		Headers:           map[string]string{"Content-Type": "video/mp4"},
		UserMeta:          map[string]string{"origin": "camera"},
		Tags:              map[string]string{"kind": "raw"},
		ChecksumAlgorithm: "CRC32",
		ChecksumType:      "COMPOSITE",
		StorageClass:      "STANDARD",
	}
}

func newPart(n int) *meta.Part {
	blob := newBlob(5 << 20)
	return &meta.Part{
		Number:       n,
		Size:         blob.Size,
		ETag:         fmt.Sprintf(`"etag-%d-%s"`, n, blob.ID),
		LastModified: tick(),
		Checksum:     meta.Checksum{Algorithm: "CRC32", Value: "BBBBBB=="},
		Blob:         blob,
	}
}

func putPart(t *testing.T, s meta.Store, u *meta.Upload, n int) (*meta.Part, []meta.BlobRef) {
	t.Helper()
	p := newPart(n)
	freed, err := s.PutPart(t.Context(), u.Bucket, u.Key, u.UploadID, p)
	must(t, err)
	return p, freed
}

// fromParts builds the version a caller completes an upload with.
func fromParts(u *meta.Upload, parts ...*meta.Part) *meta.ObjectVersion {
	v := &meta.ObjectVersion{
		Bucket:       u.Bucket,
		Key:          u.Key,
		Owner:        u.Owner,
		ETag:         fmt.Sprintf(`"multipart-%d"`, len(parts)),
		LastModified: tick(),
		StorageClass: u.StorageClass,
		Headers:      u.Headers,
		UserMeta:     u.UserMeta,
		Tags:         u.Tags,
	}
	for _, p := range parts {
		v.Size += p.Size
		v.Parts = append(v.Parts, meta.PartInfo{Number: p.Number, Size: p.Size, ETag: p.ETag, Checksum: p.Checksum})
		v.Blobs = append(v.Blobs, p.Blob)
	}
	return v
}

func partNumbers(ps []*meta.Part) []int {
	ns := []int{}
	for _, p := range ps {
		ns = append(ns, p.Number)
	}
	return ns
}

func testMultipart(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const b = "mp"
	mkBucket(t, s, b, meta.VersioningUnset)
	u := newUpload(b, "movie.mp4", tick())
	must(t, s.CreateUpload(ctx, u))

	got, err := s.GetUpload(ctx, b, u.Key, u.UploadID)
	must(t, err)
	diff(t, "GetUpload", u, got)
	_, err = s.GetUpload(ctx, b, "other.mp4", u.UploadID)
	wantErr(t, "GetUpload with another key", err, meta.ErrUploadNotFound)
	_, err = s.GetUpload(ctx, b, u.Key, newUploadID())
	wantErr(t, "GetUpload of a missing id", err, meta.ErrUploadNotFound)

	// Parts, and the replacement of a part number.
	p1, f := putPart(t, s, u, 1)
	diff(t, "first PutPart freed", []meta.BlobRef{}, f)
	p3, _ := putPart(t, s, u, 3)
	p2old, _ := putPart(t, s, u, 2)
	p2, f := putPart(t, s, u, 2)
	diff(t, "replacing PutPart freed", []meta.BlobRef{p2old.Blob}, f)
	_, err = s.PutPart(ctx, b, "other.mp4", u.UploadID, newPart(4))
	wantErr(t, "PutPart with another key", err, meta.ErrUploadNotFound)
	_, err = s.PutPart(ctx, b, u.Key, newUploadID(), newPart(4))
	wantErr(t, "PutPart to a missing upload", err, meta.ErrUploadNotFound)

	listParts := func(marker, max int) ([]*meta.Part, bool) {
		t.Helper()
		ps, trunc, err := s.ListParts(ctx, b, u.Key, u.UploadID, marker, max)
		must(t, err)
		return ps, trunc
	}
	ps, trunc := listParts(0, 1000)
	diff(t, "ListParts", []*meta.Part{p1, p2, p3}, ps)
	if trunc {
		t.Error("ListParts of everything truncated")
	}
	for _, tc := range []struct {
		marker, max int
		want        []int
		trunc       bool
	}{
		{0, 2, []int{1, 2}, true},
		{2, 2, []int{3}, false},
		{1, 2, []int{2, 3}, false},
		{0, 3, []int{1, 2, 3}, false},
		{3, 10, []int{}, false},
		{0, 0, []int{}, false},
	} {
		ps, trunc := listParts(tc.marker, tc.max)
		diff(t, fmt.Sprintf("ListParts(%d, %d)", tc.marker, tc.max), tc.want, partNumbers(ps))
		if trunc != tc.trunc {
			t.Errorf("ListParts(%d, %d) truncated %v, want %v", tc.marker, tc.max, trunc, tc.trunc)
		}
	}
	_, _, err = s.ListParts(ctx, b, "other.mp4", u.UploadID, 0, 10)
	wantErr(t, "ListParts with another key", err, meta.ErrUploadNotFound)

	// Abort returns every part's blob and ends the upload.
	freed, err := s.AbortUpload(ctx, b, "other.mp4", u.UploadID)
	wantErr(t, "AbortUpload with another key", err, meta.ErrUploadNotFound)
	if len(freed) != 0 {
		t.Errorf("refused AbortUpload freed %v", freed)
	}
	freed, err = s.AbortUpload(ctx, b, u.Key, u.UploadID)
	must(t, err)
	diff(t, "AbortUpload freed", blobIDs([]meta.BlobRef{p1.Blob, p2.Blob, p3.Blob}), blobIDs(freed))
	gone(t, s, u)

	// An upload without parts aborts cleanly.
	u2 := newUpload(b, "empty", tick())
	must(t, s.CreateUpload(ctx, u2))
	freed, err = s.AbortUpload(ctx, b, u2.Key, u2.UploadID)
	must(t, err)
	diff(t, "AbortUpload of an upload without parts", []meta.BlobRef{}, freed)
	gone(t, s, u2)
}

// gone checks that every operation on a finished upload fails.
func gone(t *testing.T, s meta.Store, u *meta.Upload) {
	t.Helper()
	ctx := t.Context()
	_, err := s.GetUpload(ctx, u.Bucket, u.Key, u.UploadID)
	wantErr(t, "GetUpload of a finished upload", err, meta.ErrUploadNotFound)
	_, err = s.PutPart(ctx, u.Bucket, u.Key, u.UploadID, newPart(1))
	wantErr(t, "PutPart to a finished upload", err, meta.ErrUploadNotFound)
	_, _, err = s.ListParts(ctx, u.Bucket, u.Key, u.UploadID, 0, 10)
	wantErr(t, "ListParts of a finished upload", err, meta.ErrUploadNotFound)
	_, err = s.AbortUpload(ctx, u.Bucket, u.Key, u.UploadID)
	wantErr(t, "AbortUpload of a finished upload", err, meta.ErrUploadNotFound)
	_, err = s.CompleteUpload(ctx, u.UploadID, fromParts(u), newVID(), nil)
	wantErr(t, "CompleteUpload of a finished upload", err, meta.ErrUploadNotFound)
	res, err := s.ListUploads(ctx, u.Bucket, meta.UploadListOptions{Prefix: u.Key, MaxUploads: 1000})
	must(t, err)
	for _, l := range res.Uploads {
		if l.UploadID == u.UploadID {
			t.Errorf("finished upload %s still listed", u.UploadID)
		}
	}
}

func testCompleteUpload(t *testing.T, s meta.Store) {
	ctx := t.Context()

	// Unversioned: replaces the null version; frees it and unused parts.
	const b = "complete"
	mkBucket(t, s, b, meta.VersioningUnset)
	old, _ := put(t, s, b, "k")
	u := newUpload(b, "k", tick())
	must(t, s.CreateUpload(ctx, u))
	p1, _ := putPart(t, s, u, 1)
	p2, _ := putPart(t, s, u, 2)
	p3, _ := putPart(t, s, u, 3)

	// Refusals leave the upload as it was.
	_, err := s.CompleteUpload(ctx, u.UploadID, fromParts(&meta.Upload{Bucket: b, Key: "other"}, p1), newVID(), nil)
	wantErr(t, "CompleteUpload with another key", err, meta.ErrUploadNotFound)
	res, err := s.CompleteUpload(ctx, u.UploadID, fromParts(u, p1, p3), newVID(), func(cur *meta.ObjectVersion) error {
		return errTest
	})
	wantErr(t, "CompleteUpload with a failing precondition", err, errTest)
	if len(res.Freed) != 0 {
		t.Errorf("refused CompleteUpload freed %v", res.Freed)
	}
	ps, _, err := s.ListParts(ctx, b, u.Key, u.UploadID, 0, 1000)
	must(t, err)
	diff(t, "parts after refused completes", []*meta.Part{p1, p2, p3}, ps)
	diff(t, "object after refused completes", old, get(t, s, b, "k", ""))

	var seen *meta.ObjectVersion
	v := fromParts(u, p1, p3)
	res, err = s.CompleteUpload(ctx, u.UploadID, v, newVID(), func(cur *meta.ObjectVersion) error {
		seen = cur
		return nil
	})
	must(t, err)
	diff(t, "precondition argument", old, seen)
	if res.VersionID != meta.NullVersion {
		t.Errorf("CompleteUpload in an unversioned bucket: version %q", res.VersionID)
	}
	diff(t, "CompleteUpload freed", idsOf(old, fromParts(u, p2)), blobIDs(res.Freed))
	want := clone(v)
	want.VersionID, want.IsLatest = meta.NullVersion, true
	diff(t, "completed object", want, get(t, s, b, "k", ""))
	gone(t, s, u)

	// Enabled: a new version, nothing replaced.
	const e = "complete-versioned"
	mkBucket(t, s, e, meta.VersioningEnabled)
	prev, _ := put(t, s, e, "k")
	u = newUpload(e, "k", tick())
	must(t, s.CreateUpload(ctx, u))
	p1, _ = putPart(t, s, u, 1)
	vid := newVID()
	res, err = s.CompleteUpload(ctx, u.UploadID, fromParts(u, p1), vid, nil)
	must(t, err)
	diff(t, "versioned CompleteUpload", meta.PutResult{VersionID: vid}, res)
	diff(t, "versions after CompleteUpload", []ver{
		{"k", vid, false, true, `"multipart-1"`},
		{"k", prev.VersionID, false, false, prev.ETag},
	}, allVersions(t, s, e))
	gone(t, s, u)

	// Several uploads of one key are independent.
	ua, ub := newUpload(e, "k", tick()), newUpload(e, "k", tick())
	must(t, s.CreateUpload(ctx, ua))
	must(t, s.CreateUpload(ctx, ub))
	pa, _ := putPart(t, s, ua, 1)
	pb, _ := putPart(t, s, ub, 1)
	res, err = s.CompleteUpload(ctx, ua.UploadID, fromParts(ua, pa), newVID(), nil)
	must(t, err)
	diff(t, "first of two uploads freed", []meta.BlobRef{}, res.Freed)
	ps, _, err = s.ListParts(ctx, e, ub.Key, ub.UploadID, 0, 10)
	must(t, err)
	diff(t, "other upload's parts", []*meta.Part{pb}, ps)
}

func testListUploads(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const b = "uploads"
	mkBucket(t, s, b, meta.VersioningUnset)

	// Created out of time order: the listing orders by initiation time.
	t0 := tick()
	at := func(d int) time.Time { return t0.Add(time.Duration(d) * time.Second) }
	mk := func(key string, d int) *meta.Upload {
		u := newUpload(b, key, at(d))
		must(t, s.CreateUpload(ctx, u))
		return u
	}
	b2 := mk("b", 2)
	a3 := mk("a", 3)
	a1 := mk("a", 1)
	c1 := mk("dir/c", 1)
	d1 := mk("dir/sub/d", 1)
	a2 := mk("a", 2)
	e0 := mk("e", 0)
	ids := func(us []*meta.Upload) []string {
		out := []string{}
		for _, u := range us {
			out = append(out, u.Key+" "+u.UploadID)
		}
		return out
	}
	all := []*meta.Upload{a1, a2, a3, b2, c1, d1, e0}

	type o = meta.UploadListOptions
	type page struct {
		Uploads            []string
		CommonPrefixes     []string
		IsTruncated        bool
		NextKeyMarker      string
		NextUploadIDMarker string
	}
	cases := []struct {
		name string
		opts meta.UploadListOptions
		want page
	}{
		{"all", o{MaxUploads: 1000}, page{Uploads: ids(all)}},
		{"first page", o{MaxUploads: 2}, page{Uploads: ids(all[:2]), IsTruncated: true, NextKeyMarker: "a", NextUploadIDMarker: a2.UploadID}},
		{"within a key", o{KeyMarker: "a", UploadIDMarker: a2.UploadID, MaxUploads: 2}, page{Uploads: ids([]*meta.Upload{a3, b2}), IsTruncated: true, NextKeyMarker: "b", NextUploadIDMarker: b2.UploadID}},
		{"key marker alone", o{KeyMarker: "a", MaxUploads: 1000}, page{Uploads: ids(all[3:])}},
		{"upload gone: whole key", o{KeyMarker: "a", UploadIDMarker: newUploadID(), MaxUploads: 1000}, page{Uploads: ids(all)}},
		{"upload of another key", o{KeyMarker: "a", UploadIDMarker: b2.UploadID, MaxUploads: 1000}, page{Uploads: ids(all)}},
		{"upload id marker alone is ignored", o{UploadIDMarker: a2.UploadID, MaxUploads: 1000}, page{Uploads: ids(all)}},
		{"prefix", o{Prefix: "dir/", MaxUploads: 1000}, page{Uploads: ids([]*meta.Upload{c1, d1})}},
		{"delimiter", o{Delimiter: "/", MaxUploads: 1000}, page{Uploads: ids([]*meta.Upload{a1, a2, a3, b2, e0}), CommonPrefixes: []string{"dir/"}}},
		{"delimiter, cut at a prefix", o{Delimiter: "/", MaxUploads: 5}, page{Uploads: ids([]*meta.Upload{a1, a2, a3, b2}), CommonPrefixes: []string{"dir/"}, IsTruncated: true, NextKeyMarker: "dir/"}},
		{"after a prefix", o{Delimiter: "/", KeyMarker: "dir/", MaxUploads: 1000}, page{Uploads: ids([]*meta.Upload{e0})}},
		{"prefix and delimiter", o{Prefix: "dir/", Delimiter: "/", MaxUploads: 1000}, page{Uploads: ids([]*meta.Upload{c1}), CommonPrefixes: []string{"dir/sub/"}}},
		{"max 0", o{MaxUploads: 0}, page{Uploads: []string{}}},
	}
	for _, tc := range cases {
		res, err := s.ListUploads(ctx, b, tc.opts)
		must(t, err)
		got := page{ids(res.Uploads), res.CommonPrefixes, res.IsTruncated, res.NextKeyMarker, res.NextUploadIDMarker}
		diff(t, tc.name, tc.want, got)
	}

	// Listed uploads are whole records.
	res, err := s.ListUploads(ctx, b, o{Prefix: "b", MaxUploads: 10})
	must(t, err)
	diff(t, "listed upload", []*meta.Upload{b2}, res.Uploads)

	// Walking every page with every size finds each upload once.
	for max := 1; max <= len(all); max++ {
		var seen []string
		opts := o{MaxUploads: max}
		for range len(all) + 1 {
			res, err := s.ListUploads(ctx, b, opts)
			must(t, err)
			seen = append(seen, ids(res.Uploads)...)
			if !res.IsTruncated {
				break
			}
			opts.KeyMarker, opts.UploadIDMarker = res.NextKeyMarker, res.NextUploadIDMarker
		}
		diff(t, fmt.Sprintf("walk with max %d", max), ids(all), seen)
	}

	// Completed and aborted uploads leave the listing.
	_, err = s.AbortUpload(ctx, b, a2.Key, a2.UploadID)
	must(t, err)
	_, err = s.CompleteUpload(ctx, b2.UploadID, fromParts(b2), newVID(), nil)
	must(t, err)
	res, err = s.ListUploads(ctx, b, o{MaxUploads: 1000})
	must(t, err)
	diff(t, "after abort and complete", ids([]*meta.Upload{a1, a3, c1, d1, e0}), ids(res.Uploads))
}
