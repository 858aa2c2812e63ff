package e2e

// Versioning (enabled and suspended), delete markers, ListObjectVersions,
// and DeleteObjects on plain and versioned buckets.

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"
)

// errHeader returns a response header of a failed SDK call.
func errHeader(t testing.TB, err error, name string) string {
	t.Helper()
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("%v carries no HTTP response", err)
	}
	return re.Response.Header.Get(name)
}

// versionEntry is one row of ListObjectVersions, markers included.
type versionEntry struct {
	Key, VersionID   string
	Latest, IsMarker bool
}

func listVersions(t testing.TB, c *s3.Client, bucket, prefix string) []versionEntry {
	t.Helper()
	out, err := c.ListObjectVersions(t.Context(), &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	mustOK(t, err)
	var es []versionEntry
	for _, v := range out.Versions {
		es = append(es, versionEntry{aws.ToString(v.Key), aws.ToString(v.VersionId), aws.ToBool(v.IsLatest), false})
	}
	for _, m := range out.DeleteMarkers {
		es = append(es, versionEntry{aws.ToString(m.Key), aws.ToString(m.VersionId), aws.ToBool(m.IsLatest), true})
	}
	return es
}

func setVersioning(t testing.TB, c *s3.Client, bucket string, status types.BucketVersioningStatus) {
	t.Helper()
	_, err := c.PutBucketVersioning(t.Context(), &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: status}})
	mustOK(t, err)
}

func TestVersioning(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	bkt := s.mkBucket(t, "versioned")

	out, err := s.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bkt)})
	mustOK(t, err)
	if out.Status != "" {
		t.Fatalf("new bucket versioning status %q, want unset", out.Status)
	}
	setVersioning(t, s.s3, bkt, types.BucketVersioningStatusEnabled)
	out, err = s.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bkt)})
	mustOK(t, err)
	if out.Status != types.BucketVersioningStatusEnabled {
		t.Fatalf("status %q after enabling", out.Status)
	}

	var ids []string // versions of "doc", oldest first
	t.Run("overwrites create versions", func(t *testing.T) {
		for i := range 3 {
			p := s.put(t, bkt, "doc", []byte(fmt.Sprint("content ", i)))
			id := aws.ToString(p.VersionId)
			if id == "" || id == "null" || slices.Contains(ids, id) {
				t.Fatalf("PutObject version id %q (earlier: %v)", id, ids)
			}
			ids = append(ids, id)
		}
		got, g := s.get(t, bkt, "doc")
		if string(got) != "content 2" || aws.ToString(g.VersionId) != ids[2] {
			t.Errorf("latest: %q version %q", got, aws.ToString(g.VersionId))
		}
		for i, id := range ids {
			got, g := s.get(t, bkt, "doc", func(in *s3.GetObjectInput) { in.VersionId = aws.String(id) })
			if string(got) != fmt.Sprint("content ", i) || aws.ToString(g.VersionId) != id {
				t.Errorf("version %d: %q (version %q)", i, got, aws.ToString(g.VersionId))
			}
			h, err := s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String("doc"), VersionId: aws.String(id)})
			mustOK(t, err)
			if aws.ToInt64(h.ContentLength) != int64(len(got)) {
				t.Errorf("HEAD version %d: length %d", i, aws.ToInt64(h.ContentLength))
			}
		}
		// Newest first, only the newest is latest.
		want := []versionEntry{{"doc", ids[2], true, false}, {"doc", ids[1], false, false}, {"doc", ids[0], false, false}}
		if diff := cmp.Diff(want, listVersions(t, s.s3, bkt, "doc")); diff != "" {
			t.Errorf("versions (-want +got):\n%s", diff)
		}
	})

	var marker string
	t.Run("delete creates a delete marker", func(t *testing.T) {
		d, err := s.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bkt), Key: aws.String("doc")})
		mustOK(t, err)
		marker = aws.ToString(d.VersionId)
		if !aws.ToBool(d.DeleteMarker) || marker == "" || slices.Contains(ids, marker) {
			t.Fatalf("DeleteObject: marker %v version %q", aws.ToBool(d.DeleteMarker), marker)
		}
		_, err = s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("doc")})
		wantErr(t, err, "NoSuchKey", http.StatusNotFound)
		if errHeader(t, err, "X-Amz-Delete-Marker") != "true" || errHeader(t, err, "X-Amz-Version-Id") != marker {
			t.Errorf("GET of a deleted key: x-amz-delete-marker %q, x-amz-version-id %q",
				errHeader(t, err, "X-Amz-Delete-Marker"), errHeader(t, err, "X-Amz-Version-Id"))
		}
		_, err = s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String("doc")})
		wantErr(t, err, "NotFound", http.StatusNotFound)
		if errHeader(t, err, "X-Amz-Delete-Marker") != "true" {
			t.Errorf("HEAD of a deleted key has no x-amz-delete-marker")
		}
		// Asking for the marker itself is 405 MethodNotAllowed.
		_, err = s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("doc"), VersionId: aws.String(marker)})
		wantErr(t, err, "MethodNotAllowed", http.StatusMethodNotAllowed)
		// Older versions are still readable.
		if got, _ := s.get(t, bkt, "doc", func(in *s3.GetObjectInput) { in.VersionId = aws.String(ids[1]) }); string(got) != "content 1" {
			t.Errorf("old version after delete: %q", got)
		}
		want := []versionEntry{{"doc", ids[2], false, false}, {"doc", ids[1], false, false}, {"doc", ids[0], false, false}, {"doc", marker, true, true}}
		if diff := cmp.Diff(want, listVersions(t, s.s3, bkt, "doc")); diff != "" {
			t.Errorf("versions (-want +got):\n%s", diff)
		}
		l, err := s.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bkt), Prefix: aws.String("doc")})
		mustOK(t, err)
		if len(l.Contents) != 0 {
			t.Errorf("ListObjectsV2 shows a deleted key")
		}
	})

	t.Run("delete a specific version", func(t *testing.T) {
		d, err := s.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bkt), Key: aws.String("doc"), VersionId: aws.String(ids[1])})
		mustOK(t, err)
		if aws.ToString(d.VersionId) != ids[1] || aws.ToBool(d.DeleteMarker) {
			t.Errorf("DeleteObject version: %q marker %v", aws.ToString(d.VersionId), aws.ToBool(d.DeleteMarker))
		}
		_, err = s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("doc"), VersionId: aws.String(ids[1])})
		wantErr(t, err, "NoSuchVersion", http.StatusNotFound)
		// Removing the delete marker brings the newest version back.
		d, err = s.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bkt), Key: aws.String("doc"), VersionId: aws.String(marker)})
		mustOK(t, err)
		if !aws.ToBool(d.DeleteMarker) || aws.ToString(d.VersionId) != marker {
			t.Errorf("deleting the marker: DeleteMarker %v version %q", aws.ToBool(d.DeleteMarker), aws.ToString(d.VersionId))
		}
		if got, _ := s.get(t, bkt, "doc"); string(got) != "content 2" {
			t.Errorf("after removing the marker: %q", got)
		}
		want := []versionEntry{{"doc", ids[2], true, false}, {"doc", ids[0], false, false}}
		if diff := cmp.Diff(want, listVersions(t, s.s3, bkt, "doc")); diff != "" {
			t.Errorf("versions (-want +got):\n%s", diff)
		}
	})

	t.Run("invalid version ids", func(t *testing.T) {
		_, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("doc"), VersionId: aws.String("not-a-version")})
		wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
		_, err = s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("doc"), VersionId: aws.String(strings.Repeat("Z", 32))})
		wantErr(t, err, "NoSuchVersion", http.StatusNotFound)
	})

	t.Run("ListObjectVersions pagination", func(t *testing.T) {
		var want []string
		for _, k := range []string{"page/a", "page/b", "page/c"} {
			var vs []string
			for i := range 3 {
				vs = append(vs, k+"@"+aws.ToString(s.put(t, bkt, k, []byte{byte(i)}).VersionId))
			}
			slices.Reverse(vs) // newest first within a key
			want = append(want, vs...)
		}
		in := &s3.ListObjectVersionsInput{Bucket: aws.String(bkt), Prefix: aws.String("page/"), MaxKeys: aws.Int32(2)}
		var got []string
		for {
			out, err := s.s3.ListObjectVersions(ctx, in)
			mustOK(t, err)
			if len(out.Versions) > 2 {
				t.Fatalf("page of %d", len(out.Versions))
			}
			for _, v := range out.Versions {
				got = append(got, aws.ToString(v.Key)+"@"+aws.ToString(v.VersionId))
			}
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})

	t.Run("suspended versioning uses the null version", func(t *testing.T) {
		setVersioning(t, s.s3, bkt, types.BucketVersioningStatusSuspended)
		g, err := s.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bkt)})
		mustOK(t, err)
		if g.Status != types.BucketVersioningStatusSuspended {
			t.Fatalf("status %q", g.Status)
		}
		p := s.put(t, bkt, "doc", []byte("null one"))
		if v := aws.ToString(p.VersionId); v != "" && v != "null" {
			t.Errorf("PUT while suspended returned version %q", v)
		}
		s.put(t, bkt, "doc", []byte("null two")) // replaces the null version
		want := []versionEntry{{"doc", "null", true, false}, {"doc", ids[2], false, false}, {"doc", ids[0], false, false}}
		if diff := cmp.Diff(want, listVersions(t, s.s3, bkt, "doc")); diff != "" {
			t.Errorf("versions (-want +got):\n%s", diff)
		}
		got, _ := s.get(t, bkt, "doc", func(in *s3.GetObjectInput) { in.VersionId = aws.String("null") })
		if string(got) != "null two" {
			t.Errorf("null version %q", got)
		}
		// A delete while suspended puts a null delete marker in place of
		// the null version.
		d, err := s.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bkt), Key: aws.String("doc")})
		mustOK(t, err)
		if !aws.ToBool(d.DeleteMarker) || aws.ToString(d.VersionId) != "null" {
			t.Errorf("delete while suspended: marker %v version %q", aws.ToBool(d.DeleteMarker), aws.ToString(d.VersionId))
		}
		want = []versionEntry{{"doc", ids[2], false, false}, {"doc", ids[0], false, false}, {"doc", "null", true, true}}
		if diff := cmp.Diff(want, listVersions(t, s.s3, bkt, "doc")); diff != "" {
			t.Errorf("versions (-want +got):\n%s", diff)
		}
		// Versions made while enabled survive.
		if got, _ := s.get(t, bkt, "doc", func(in *s3.GetObjectInput) { in.VersionId = aws.String(ids[0]) }); string(got) != "content 0" {
			t.Errorf("old version %q", got)
		}
	})

	t.Run("object from before versioning keeps the null version", func(t *testing.T) {
		pb := s.mkBucket(t, "pre-versioning")
		s.put(t, pb, "old", []byte("before"))
		setVersioning(t, s.s3, pb, types.BucketVersioningStatusEnabled)
		v := aws.ToString(s.put(t, pb, "old", []byte("after")).VersionId)
		want := []versionEntry{{"old", v, true, false}, {"old", "null", false, false}}
		if diff := cmp.Diff(want, listVersions(t, s.s3, pb, "")); diff != "" {
			t.Errorf("versions (-want +got):\n%s", diff)
		}
		got, g := s.get(t, pb, "old", func(in *s3.GetObjectInput) { in.VersionId = aws.String("null") })
		if string(got) != "before" || aws.ToString(g.VersionId) != "null" {
			t.Errorf("null version: %q (version %q)", got, aws.ToString(g.VersionId))
		}
		// Multipart uploads and copies create versions too.
		u := s.createUpload(t, pb, "old")
		u.part(1, []byte("multipart"))
		out, err := u.complete()
		mustOK(t, err)
		c, err := s.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(pb), Key: aws.String("old"),
			CopySource: aws.String(pb + "/old?versionId=null")})
		mustOK(t, err)
		mv, cv := aws.ToString(out.VersionId), aws.ToString(c.VersionId)
		if mv == "" || cv == "" || mv == cv || mv == v || cv == v {
			t.Fatalf("multipart version %q, copy version %q", mv, cv)
		}
		want = []versionEntry{{"old", cv, true, false}, {"old", mv, false, false}, {"old", v, false, false}, {"old", "null", false, false}}
		if diff := cmp.Diff(want, listVersions(t, s.s3, pb, "")); diff != "" {
			t.Errorf("versions (-want +got):\n%s", diff)
		}
		if got, _ := s.get(t, pb, "old"); string(got) != "before" {
			t.Errorf("latest after restoring the null version: %q", got)
		}
	})

	t.Run("ListObjectVersions with a delimiter", func(t *testing.T) {
		out, err := s.s3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bkt), Delimiter: aws.String("/")})
		mustOK(t, err)
		var prefixes []string
		for _, p := range out.CommonPrefixes {
			prefixes = append(prefixes, aws.ToString(p.Prefix))
		}
		if diff := cmp.Diff([]string{"page/"}, prefixes); diff != "" {
			t.Errorf("prefixes (-want +got):\n%s", diff)
		}
		for _, v := range out.Versions {
			if strings.Contains(aws.ToString(v.Key), "/") {
				t.Errorf("version of %s not rolled up", aws.ToString(v.Key))
			}
		}
	})

	t.Run("versions keep a bucket non-empty", func(t *testing.T) {
		vb := s.mkBucket(t, "versions-only")
		setVersioning(t, s.s3, vb, types.BucketVersioningStatusEnabled)
		p := s.put(t, vb, "k", []byte("v"))
		d, err := s.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(vb), Key: aws.String("k")})
		mustOK(t, err)
		// Nothing is listed, but a version and a marker remain.
		_, err = s.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(vb)})
		wantErr(t, err, "BucketNotEmpty", http.StatusConflict)
		for _, id := range []*string{p.VersionId, d.VersionId} {
			_, err = s.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(vb), Key: aws.String("k"), VersionId: id})
			mustOK(t, err)
		}
		_, err = s.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(vb)})
		mustOK(t, err)
	})

	t.Run("bad configuration", func(t *testing.T) {
		_, err := s.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bkt),
			VersioningConfiguration: &types.VersioningConfiguration{Status: "Sideways"}})
		wantErr(t, err, "MalformedXML", http.StatusBadRequest)
	})
}

func TestDeleteObjects(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	plain := s.mkBucket(t, "multi-delete")
	versioned := s.mkBucket(t, "multi-delete-versioned")
	setVersioning(t, s.s3, versioned, types.BucketVersioningStatusEnabled)

	ids := func(keys ...string) []types.ObjectIdentifier {
		var o []types.ObjectIdentifier
		for _, k := range keys {
			o = append(o, types.ObjectIdentifier{Key: aws.String(k)})
		}
		return o
	}
	deletedKeys := func(out *s3.DeleteObjectsOutput) []string {
		var ks []string
		for _, d := range out.Deleted {
			ks = append(ks, aws.ToString(d.Key))
		}
		slices.Sort(ks)
		return ks
	}

	t.Run("verbose", func(t *testing.T) {
		s.putMany(t, plain, []string{"v/1", "v/2", "v/3"})
		out, err := s.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(plain),
			Delete: &types.Delete{Objects: ids("v/1", "v/2", "v/3")}})
		mustOK(t, err)
		if diff := cmp.Diff([]string{"v/1", "v/2", "v/3"}, deletedKeys(out)); diff != "" || len(out.Errors) != 0 {
			t.Errorf("deleted (-want +got):\n%s errors: %v", diff, out.Errors)
		}
		l, err := s.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(plain), Prefix: aws.String("v/")})
		mustOK(t, err)
		if len(l.Contents) != 0 {
			t.Errorf("%d objects left", len(l.Contents))
		}
	})

	t.Run("quiet", func(t *testing.T) {
		s.putMany(t, plain, []string{"q/1", "q/2"})
		// Keys that do not exist count as deleted, as in S3.
		out, err := s.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(plain),
			Delete: &types.Delete{Objects: ids("q/1", "q/2", "q/never"), Quiet: aws.Bool(true)}})
		mustOK(t, err)
		if len(out.Deleted) != 0 || len(out.Errors) != 0 {
			t.Errorf("quiet: deleted %v errors %v", out.Deleted, out.Errors)
		}
		l, err := s.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(plain), Prefix: aws.String("q/")})
		mustOK(t, err)
		if len(l.Contents) != 0 {
			t.Errorf("%d objects left", len(l.Contents))
		}
	})

	t.Run("per-key errors", func(t *testing.T) {
		out, err := s.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(plain),
			Delete: &types.Delete{Objects: ids("ok", strings.Repeat("k", 1025), "also-ok")}})
		mustOK(t, err)
		if diff := cmp.Diff([]string{"also-ok", "ok"}, deletedKeys(out)); diff != "" {
			t.Errorf("deleted (-want +got):\n%s", diff)
		}
		if len(out.Errors) != 1 || aws.ToString(out.Errors[0].Code) != "KeyTooLongError" {
			t.Errorf("errors %+v", out.Errors)
		}
	})

	t.Run("versioned", func(t *testing.T) {
		keys := []string{"a", "b", "c"}
		versions := map[string]string{}
		for _, k := range keys {
			versions[k] = aws.ToString(s.put(t, versioned, k, []byte(k)).VersionId)
		}
		// Without version ids: three delete markers.
		out, err := s.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(versioned), Delete: &types.Delete{Objects: ids(keys...)}})
		mustOK(t, err)
		if diff := cmp.Diff(keys, deletedKeys(out)); diff != "" {
			t.Fatalf("deleted (-want +got):\n%s", diff)
		}
		markers := map[string]string{}
		for _, d := range out.Deleted {
			if !aws.ToBool(d.DeleteMarker) || aws.ToString(d.DeleteMarkerVersionId) == "" || d.VersionId != nil {
				t.Errorf("entry %s: DeleteMarker %v DeleteMarkerVersionId %q VersionId %q", aws.ToString(d.Key),
					aws.ToBool(d.DeleteMarker), aws.ToString(d.DeleteMarkerVersionId), aws.ToString(d.VersionId))
			}
			markers[aws.ToString(d.Key)] = aws.ToString(d.DeleteMarkerVersionId)
		}
		for _, k := range keys {
			_, err := s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(versioned), Key: aws.String(k)})
			wantErr(t, err, "NotFound", http.StatusNotFound)
		}
		// With version ids: "a" and "b" lose their data version, "c" its
		// delete marker (which brings it back).
		objs := []types.ObjectIdentifier{
			{Key: aws.String("a"), VersionId: aws.String(versions["a"])},
			{Key: aws.String("b"), VersionId: aws.String(versions["b"])},
			{Key: aws.String("c"), VersionId: aws.String(markers["c"])},
		}
		out, err = s.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(versioned), Delete: &types.Delete{Objects: objs}})
		mustOK(t, err)
		if len(out.Deleted) != 3 || len(out.Errors) != 0 {
			t.Fatalf("deleted %d, errors %v", len(out.Deleted), out.Errors)
		}
		for _, d := range out.Deleted {
			k := aws.ToString(d.Key)
			switch k {
			case "a", "b":
				if aws.ToString(d.VersionId) != versions[k] || aws.ToBool(d.DeleteMarker) {
					t.Errorf("%s: VersionId %q DeleteMarker %v", k, aws.ToString(d.VersionId), aws.ToBool(d.DeleteMarker))
				}
			case "c":
				if aws.ToString(d.VersionId) != markers[k] || !aws.ToBool(d.DeleteMarker) || aws.ToString(d.DeleteMarkerVersionId) != markers[k] {
					t.Errorf("c: VersionId %q DeleteMarker %v DeleteMarkerVersionId %q", aws.ToString(d.VersionId), aws.ToBool(d.DeleteMarker), aws.ToString(d.DeleteMarkerVersionId))
				}
			}
		}
		if got, _ := s.get(t, versioned, "c"); string(got) != "c" {
			t.Errorf("c after removing its marker: %q", got)
		}
		want := []versionEntry{{"a", markers["a"], true, true}, {"b", markers["b"], true, true}, {"c", versions["c"], true, false}}
		got := listVersions(t, s.s3, versioned, "")
		slices.SortFunc(got, func(x, y versionEntry) int { return strings.Compare(x.Key, y.Key) })
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("versions (-want +got):\n%s", diff)
		}
	})

	t.Run("missing bucket", func(t *testing.T) {
		_, err := s.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("no-such-bucket"), Delete: &types.Delete{Objects: ids("x")}})
		wantErr(t, err, "NoSuchBucket", http.StatusNotFound)
	})
}
