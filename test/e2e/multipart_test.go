package e2e

// Multipart uploads: the full lifecycle, listing, completion errors,
// UploadPartCopy, part-number reads, full-object and composite checksums,
// GetObjectAttributes, and one upload of more than 100 MiB.

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"
)

const mib = 1 << 20

// multipartETag is S3's ETag of a completed multipart upload: the MD5 of
// the parts' binary MD5s, a dash, and the part count.
func multipartETag(parts ...[]byte) string {
	var cat []byte
	for _, p := range parts {
		s := md5.Sum(p)
		cat = append(cat, s[:]...)
	}
	return quoted(md5Hex(cat) + "-" + strconv.Itoa(len(parts)))
}

// upload drives one multipart upload with the SDK.
type upload struct {
	s      *suite
	t      testing.TB
	bucket string
	key    string
	id     string
	parts  []types.CompletedPart
}

func (s *suite) createUpload(t testing.TB, bucket, key string, optFns ...func(*s3.CreateMultipartUploadInput)) *upload {
	t.Helper()
	in := &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	for _, f := range optFns {
		f(in)
	}
	out, err := s.s3.CreateMultipartUpload(t.Context(), in)
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	if aws.ToString(out.Bucket) != bucket || aws.ToString(out.Key) != key || aws.ToString(out.UploadId) == "" {
		t.Fatalf("CreateMultipartUpload answered bucket %q key %q upload %q", aws.ToString(out.Bucket), aws.ToString(out.Key), aws.ToString(out.UploadId))
	}
	return &upload{s: s, t: t, bucket: bucket, key: key, id: aws.ToString(out.UploadId)}
}

// part uploads one part and remembers it for complete.
func (u *upload) part(n int32, body []byte, optFns ...func(*s3.UploadPartInput)) *s3.UploadPartOutput {
	u.t.Helper()
	in := &s3.UploadPartInput{Bucket: aws.String(u.bucket), Key: aws.String(u.key), UploadId: aws.String(u.id),
		PartNumber: aws.Int32(n), Body: bytes.NewReader(body)}
	for _, f := range optFns {
		f(in)
	}
	out, err := u.s.s3.UploadPart(u.t.Context(), in)
	if err != nil {
		u.t.Fatalf("UploadPart %d: %v", n, err)
	}
	if got, want := aws.ToString(out.ETag), quoted(md5Hex(body)); got != want {
		u.t.Errorf("UploadPart %d ETag %s, want %s", n, got, want)
	}
	u.parts = append(u.parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag,
		ChecksumCRC32: out.ChecksumCRC32, ChecksumSHA256: out.ChecksumSHA256})
	return out
}

func (u *upload) complete(optFns ...func(*s3.CompleteMultipartUploadInput)) (*s3.CompleteMultipartUploadOutput, error) {
	in := &s3.CompleteMultipartUploadInput{Bucket: aws.String(u.bucket), Key: aws.String(u.key), UploadId: aws.String(u.id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: u.parts}}
	for _, f := range optFns {
		f(in)
	}
	return u.s.s3.CompleteMultipartUpload(u.t.Context(), in)
}

func (u *upload) abort() {
	u.t.Helper()
	_, err := u.s.s3.AbortMultipartUpload(u.t.Context(), &s3.AbortMultipartUploadInput{Bucket: aws.String(u.bucket), Key: aws.String(u.key), UploadId: aws.String(u.id)})
	mustOK(u.t, err)
}

func TestMultipart(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	bkt := s.mkBucket(t, "multipart")

	p1, p2, p3 := data(5*mib, 1), data(5*mib, 2), data(mib+17, 3)
	whole := bytes.Join([][]byte{p1, p2, p3}, nil)

	t.Run("lifecycle", func(t *testing.T) {
		u := s.createUpload(t, bkt, "mp/basic", func(in *s3.CreateMultipartUploadInput) {
			in.ContentType = aws.String("video/x-test")
			in.Metadata = map[string]string{"kind": "multipart"}
			in.Tagging = aws.String("mp=yes")
		})
		u.part(1, p1)
		u.part(2, p2)
		u.part(3, p3)
		// Re-uploading a part number replaces it.
		u.parts = u.parts[:2]
		u.part(3, p3)

		lp, err := s.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(bkt), Key: aws.String("mp/basic"), UploadId: aws.String(u.id)})
		mustOK(t, err)
		var got []string
		for _, p := range lp.Parts {
			got = append(got, fmt.Sprintf("%d:%d:%s", aws.ToInt32(p.PartNumber), aws.ToInt64(p.Size), aws.ToString(p.ETag)))
		}
		want := []string{"1:5242880:" + quoted(md5Hex(p1)), "2:5242880:" + quoted(md5Hex(p2)), fmt.Sprintf("3:%d:%s", len(p3), quoted(md5Hex(p3)))}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ListParts (-want +got):\n%s", diff)
		}
		lp, err = s.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(bkt), Key: aws.String("mp/basic"), UploadId: aws.String(u.id), MaxParts: aws.Int32(2)})
		mustOK(t, err)
		if len(lp.Parts) != 2 || !aws.ToBool(lp.IsTruncated) || aws.ToString(lp.NextPartNumberMarker) != "2" {
			t.Errorf("ListParts max-parts=2: %d parts truncated %v next %q", len(lp.Parts), aws.ToBool(lp.IsTruncated), aws.ToString(lp.NextPartNumberMarker))
		}
		lp, err = s.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(bkt), Key: aws.String("mp/basic"), UploadId: aws.String(u.id), PartNumberMarker: aws.String("2")})
		mustOK(t, err)
		if len(lp.Parts) != 1 || aws.ToInt32(lp.Parts[0].PartNumber) != 3 || aws.ToBool(lp.IsTruncated) {
			t.Errorf("ListParts after marker 2: %d parts", len(lp.Parts))
		}

		out, err := u.complete()
		mustOK(t, err)
		if got, want := aws.ToString(out.ETag), multipartETag(p1, p2, p3); got != want {
			t.Errorf("CompleteMultipartUpload ETag %s, want %s", got, want)
		}
		if aws.ToString(out.Bucket) != bkt || aws.ToString(out.Key) != "mp/basic" {
			t.Errorf("CompleteMultipartUpload bucket %q key %q", aws.ToString(out.Bucket), aws.ToString(out.Key))
		}
		body, g := s.get(t, bkt, "mp/basic")
		if !bytes.Equal(body, whole) {
			t.Fatalf("completed object differs (%d bytes, want %d)", len(body), len(whole))
		}
		if aws.ToString(g.ETag) != multipartETag(p1, p2, p3) || aws.ToString(g.ContentType) != "video/x-test" ||
			g.Metadata["kind"] != "multipart" || aws.ToInt32(g.TagCount) != 1 {
			t.Errorf("GET: etag %s type %q meta %v tags %d", aws.ToString(g.ETag), aws.ToString(g.ContentType), g.Metadata, aws.ToInt32(g.TagCount))
		}
		// The upload is gone once completed.
		_, err = s.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(bkt), Key: aws.String("mp/basic"), UploadId: aws.String(u.id)})
		wantErr(t, err, "NoSuchUpload", http.StatusNotFound)
	})

	t.Run("GetObject and HeadObject by part number", func(t *testing.T) {
		for i, want := range [][]byte{p1, p2, p3} {
			n := int32(i + 1)
			got, g := s.get(t, bkt, "mp/basic", func(in *s3.GetObjectInput) { in.PartNumber = aws.Int32(n) })
			if !bytes.Equal(got, want) {
				t.Errorf("part %d differs", n)
			}
			start := int64(i) * 5 * mib
			wantRange := fmt.Sprintf("bytes %d-%d/%d", start, start+int64(len(want))-1, len(whole))
			if aws.ToInt32(g.PartsCount) != 3 || aws.ToString(g.ContentRange) != wantRange {
				t.Errorf("part %d: PartsCount %d Content-Range %q, want %q", n, aws.ToInt32(g.PartsCount), aws.ToString(g.ContentRange), wantRange)
			}
		}
		h, err := s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String("mp/basic"), PartNumber: aws.Int32(2)})
		mustOK(t, err)
		if aws.ToInt64(h.ContentLength) != 5*mib || aws.ToInt32(h.PartsCount) != 3 {
			t.Errorf("HEAD part 2: length %d parts %d", aws.ToInt64(h.ContentLength), aws.ToInt32(h.PartsCount))
		}
		// A byte range that spans a part boundary.
		rng := fmt.Sprintf("bytes=%d-%d", 5*mib-10, 10*mib+9)
		got, g := s.get(t, bkt, "mp/basic", func(in *s3.GetObjectInput) { in.Range = aws.String(rng) })
		if !bytes.Equal(got, whole[5*mib-10:10*mib+10]) || aws.ToInt64(g.ContentLength) != 5*mib+20 {
			t.Errorf("range %s across parts: %d bytes", rng, len(got))
		}
		_, err = s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("mp/basic"), PartNumber: aws.Int32(4)})
		wantErr(t, err, "InvalidPartNumber", http.StatusRequestedRangeNotSatisfiable)
		// A single-part object has exactly one part: itself.
		s.put(t, bkt, "single", []byte("one part"))
		if got, _ := s.get(t, bkt, "single", func(in *s3.GetObjectInput) { in.PartNumber = aws.Int32(1) }); string(got) != "one part" {
			t.Errorf("part 1 of a simple object: %q", got)
		}
	})

	t.Run("CopyObject of a multipart object", func(t *testing.T) {
		// The copy is a new single-part object: its ETag is the MD5 of
		// the whole content.
		out, err := s.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bkt), Key: aws.String("mp/basic-copy"), CopySource: aws.String(bkt + "/mp/basic")})
		mustOK(t, err)
		if got := aws.ToString(out.CopyObjectResult.ETag); got != quoted(md5Hex(whole)) {
			t.Errorf("copy ETag %s", got)
		}
		if got, _ := s.get(t, bkt, "mp/basic-copy"); !bytes.Equal(got, whole) {
			t.Error("copy of a multipart object differs")
		}
	})

	t.Run("part integrity", func(t *testing.T) {
		u := s.createUpload(t, bkt, "mp/integrity")
		_, err := s.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bkt), Key: aws.String("mp/integrity"), UploadId: aws.String(u.id),
			PartNumber: aws.Int32(1), Body: bytes.NewReader(p3), ContentMD5: aws.String(md5B64(p1))})
		wantErr(t, err, "BadDigest", http.StatusBadRequest)
		_, err = s.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bkt), Key: aws.String("mp/integrity"), UploadId: aws.String(u.id),
			PartNumber: aws.Int32(1), Body: bytes.NewReader(p3), ChecksumCRC32: aws.String(checksumOf(types.ChecksumAlgorithmCrc32, p1))})
		wantErr(t, err, "BadDigest", http.StatusBadRequest)
		for _, n := range []int32{0, 10001} {
			_, err = s.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bkt), Key: aws.String("mp/integrity"), UploadId: aws.String(u.id),
				PartNumber: aws.Int32(n), Body: bytes.NewReader(p3)})
			wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
		}
		lp, err := s.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(bkt), Key: aws.String("mp/integrity"), UploadId: aws.String(u.id)})
		mustOK(t, err)
		if len(lp.Parts) != 0 {
			t.Errorf("rejected parts were stored: %d", len(lp.Parts))
		}
		u.abort()
		_, err = s.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bkt), Key: aws.String("mp/integrity"), UploadId: aws.String("no-such-upload"),
			PartNumber: aws.Int32(1), Body: bytes.NewReader(p3)})
		wantErr(t, err, "NoSuchUpload", http.StatusNotFound)
	})

	t.Run("GetObjectAttributes", func(t *testing.T) {
		out, err := s.s3.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String(bkt), Key: aws.String("mp/basic"),
			ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesObjectSize,
				types.ObjectAttributesStorageClass, types.ObjectAttributesObjectParts}, MaxParts: aws.Int32(2)})
		mustOK(t, err)
		// GetObjectAttributes reports the ETag without quotes.
		if got, want := aws.ToString(out.ETag), multipartETag(p1, p2, p3); quoted(got) != want {
			t.Errorf("ETag %q, want %s unquoted", got, want)
		}
		if aws.ToInt64(out.ObjectSize) != int64(len(whole)) || out.StorageClass != types.StorageClassStandard {
			t.Errorf("size %d storage class %q", aws.ToInt64(out.ObjectSize), out.StorageClass)
		}
		op := out.ObjectParts
		if op == nil || aws.ToInt32(op.TotalPartsCount) != 3 || len(op.Parts) != 2 || !aws.ToBool(op.IsTruncated) ||
			aws.ToString(op.NextPartNumberMarker) != "2" || aws.ToInt64(op.Parts[1].Size) != 5*mib {
			t.Errorf("ObjectParts %+v", op)
		}
		_, err = s.s3.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String(bkt), Key: aws.String("nope"),
			ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesEtag}})
		wantErr(t, err, "NoSuchKey", http.StatusNotFound)
	})

	t.Run("abort", func(t *testing.T) {
		u := s.createUpload(t, bkt, "mp/aborted")
		u.part(1, p3)
		u.abort()
		_, err := s.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(bkt), Key: aws.String("mp/aborted"), UploadId: aws.String(u.id)})
		wantErr(t, err, "NoSuchUpload", http.StatusNotFound)
		_, err = s.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bkt), Key: aws.String("mp/aborted"), UploadId: aws.String(u.id),
			PartNumber: aws.Int32(2), Body: bytes.NewReader(p3)})
		wantErr(t, err, "NoSuchUpload", http.StatusNotFound)
		_, err = u.complete()
		wantErr(t, err, "NoSuchUpload", http.StatusNotFound)
		_, err = s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String("mp/aborted")})
		wantErr(t, err, "NotFound", http.StatusNotFound)
	})

	t.Run("ListMultipartUploads", func(t *testing.T) {
		lb := s.mkBucket(t, "multipart-list")
		var ups []*upload
		for _, k := range []string{"a", "dir/b", "dir/c", "dir/c"} {
			ups = append(ups, s.createUpload(t, lb, k))
		}
		out, err := s.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(lb)})
		mustOK(t, err)
		var got []string
		for _, up := range out.Uploads {
			got = append(got, aws.ToString(up.Key))
			if up.Initiated == nil || up.Owner == nil || aws.ToString(up.UploadId) == "" {
				t.Errorf("upload entry %+v", up)
			}
		}
		if diff := cmp.Diff([]string{"a", "dir/b", "dir/c", "dir/c"}, got); diff != "" {
			t.Errorf("uploads (-want +got):\n%s", diff)
		}
		out, err = s.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(lb), Delimiter: aws.String("/")})
		mustOK(t, err)
		if len(out.Uploads) != 1 || len(out.CommonPrefixes) != 1 || aws.ToString(out.CommonPrefixes[0].Prefix) != "dir/" {
			t.Errorf("with delimiter: %d uploads, prefixes %v", len(out.Uploads), out.CommonPrefixes)
		}
		out, err = s.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(lb), Prefix: aws.String("dir/"), MaxUploads: aws.Int32(2)})
		mustOK(t, err)
		if len(out.Uploads) != 2 || !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextKeyMarker) == "" {
			t.Fatalf("max-uploads=2: %d uploads, truncated %v", len(out.Uploads), aws.ToBool(out.IsTruncated))
		}
		next, err := s.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(lb), Prefix: aws.String("dir/"),
			KeyMarker: out.NextKeyMarker, UploadIdMarker: out.NextUploadIdMarker})
		mustOK(t, err)
		if len(next.Uploads) != 1 || aws.ToBool(next.IsTruncated) || aws.ToString(next.Uploads[0].Key) != "dir/c" {
			t.Errorf("second page: %d uploads", len(next.Uploads))
		}
		for _, up := range ups {
			up.abort()
		}
		out, err = s.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(lb)})
		mustOK(t, err)
		if len(out.Uploads) != 0 {
			t.Errorf("%d uploads after aborting all", len(out.Uploads))
		}
	})

	t.Run("completion errors", func(t *testing.T) {
		small := data(mib, 9)
		cases := []struct {
			name   string
			build  func(u *upload)
			code   string
			status int
		}{
			{"EntityTooSmall", func(u *upload) { u.part(1, small); u.part(2, small) }, "EntityTooSmall", http.StatusBadRequest},
			{"InvalidPart wrong ETag", func(u *upload) {
				u.part(1, p1)
				u.part(2, small)
				u.parts[1].ETag = aws.String(quoted(md5Hex([]byte("other"))))
			}, "InvalidPart", http.StatusBadRequest},
			{"InvalidPart unknown number", func(u *upload) {
				u.part(1, p1)
				u.parts = append(u.parts, types.CompletedPart{PartNumber: aws.Int32(7), ETag: u.parts[0].ETag})
			}, "InvalidPart", http.StatusBadRequest},
			// Both parts are large enough, so order is the only fault.
			{"InvalidPartOrder", func(u *upload) {
				u.part(1, p1)
				u.part(2, p2)
				u.parts[0], u.parts[1] = u.parts[1], u.parts[0]
			}, "InvalidPartOrder", http.StatusBadRequest},
			{"no parts", func(u *upload) {}, "MalformedXML", http.StatusBadRequest},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				u := s.createUpload(t, bkt, "mp/err-"+c.name)
				c.build(u)
				_, err := u.complete()
				wantErr(t, err, c.code, c.status)
				// A failed completion leaves the upload in place.
				u.abort()
			})
		}
	})

	t.Run("UploadPartCopy with ranges", func(t *testing.T) {
		src := data(11*mib, 31) // two copied parts of at least 5 MiB
		s.put(t, bkt, "copy-source", src)
		u := s.createUpload(t, bkt, "mp/copied")
		cut := 5 * mib
		ranges := []string{fmt.Sprintf("bytes=0-%d", cut-1), fmt.Sprintf("bytes=%d-%d", cut, len(src)-1)}
		for i, rng := range ranges {
			out, err := s.s3.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(bkt), Key: aws.String("mp/copied"), UploadId: aws.String(u.id),
				PartNumber: aws.Int32(int32(i + 1)), CopySource: aws.String(bkt + "/copy-source"), CopySourceRange: aws.String(rng)})
			mustOK(t, err)
			piece := src[:cut]
			if i == 1 {
				piece = src[cut:]
			}
			if got := aws.ToString(out.CopyPartResult.ETag); got != quoted(md5Hex(piece)) {
				t.Errorf("UploadPartCopy %s ETag %s", rng, got)
			}
			u.parts = append(u.parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.CopyPartResult.ETag})
		}
		// A third part mixes a regular upload in.
		u.part(3, p3)
		out, err := u.complete()
		mustOK(t, err)
		if aws.ToString(out.ETag) != multipartETag(src[:cut], src[cut:], p3) {
			t.Errorf("ETag %s", aws.ToString(out.ETag))
		}
		if got, _ := s.get(t, bkt, "mp/copied"); !bytes.Equal(got, append(append([]byte(nil), src...), p3...)) {
			t.Errorf("assembled object differs")
		}
		// A range beyond the source is refused, with 400 InvalidArgument
		// (not the 416 InvalidRange of a GET).
		u2 := s.createUpload(t, bkt, "mp/copied-bad")
		_, err = s.s3.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(bkt), Key: aws.String("mp/copied-bad"), UploadId: aws.String(u2.id),
			PartNumber: aws.Int32(1), CopySource: aws.String(bkt + "/copy-source"), CopySourceRange: aws.String(fmt.Sprintf("bytes=0-%d", len(src)))})
		wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
		u2.abort()
	})

	t.Run("full-object CRC32", func(t *testing.T) {
		u := s.createUpload(t, bkt, "mp/crc32", func(in *s3.CreateMultipartUploadInput) {
			in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32
			in.ChecksumType = types.ChecksumTypeFullObject
		})
		for i, p := range [][]byte{p1, p2, p3} {
			out := u.part(int32(i+1), p, func(in *s3.UploadPartInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32 })
			if got := aws.ToString(out.ChecksumCRC32); got != checksumOf(types.ChecksumAlgorithmCrc32, p) {
				t.Errorf("part %d CRC32 %q", i+1, got)
			}
		}
		out, err := u.complete(func(in *s3.CompleteMultipartUploadInput) { in.ChecksumType = types.ChecksumTypeFullObject })
		mustOK(t, err)
		want := checksumOf(types.ChecksumAlgorithmCrc32, whole)
		if aws.ToString(out.ChecksumCRC32) != want || out.ChecksumType != types.ChecksumTypeFullObject {
			t.Errorf("complete: CRC32 %q type %q, want %q FULL_OBJECT", aws.ToString(out.ChecksumCRC32), out.ChecksumType, want)
		}
		got, g := s.get(t, bkt, "mp/crc32", func(in *s3.GetObjectInput) { in.ChecksumMode = types.ChecksumModeEnabled })
		if !bytes.Equal(got, whole) || aws.ToString(g.ChecksumCRC32) != want || g.ChecksumType != types.ChecksumTypeFullObject {
			t.Errorf("GET: CRC32 %q type %q", aws.ToString(g.ChecksumCRC32), g.ChecksumType)
		}
	})

	t.Run("composite SHA256", func(t *testing.T) {
		u := s.createUpload(t, bkt, "mp/sha256", func(in *s3.CreateMultipartUploadInput) {
			in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256
			in.ChecksumType = types.ChecksumTypeComposite
		})
		var cat []byte
		for i, p := range [][]byte{p1, p2, p3} {
			out := u.part(int32(i+1), p, func(in *s3.UploadPartInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256 })
			sum := sha256.Sum256(p)
			cat = append(cat, sum[:]...)
			if got := aws.ToString(out.ChecksumSHA256); got != b64(sum[:]) {
				t.Errorf("part %d SHA256 %q", i+1, got)
			}
		}
		out, err := u.complete()
		mustOK(t, err)
		sum := sha256.Sum256(cat)
		want := b64(sum[:]) + "-3"
		if aws.ToString(out.ChecksumSHA256) != want || out.ChecksumType != types.ChecksumTypeComposite {
			t.Errorf("complete: SHA256 %q type %q, want %q COMPOSITE", aws.ToString(out.ChecksumSHA256), out.ChecksumType, want)
		}
		_, g := s.get(t, bkt, "mp/sha256", func(in *s3.GetObjectInput) { in.ChecksumMode = types.ChecksumModeEnabled })
		if aws.ToString(g.ChecksumSHA256) != want || g.ChecksumType != types.ChecksumTypeComposite {
			t.Errorf("GET: SHA256 %q type %q", aws.ToString(g.ChecksumSHA256), g.ChecksumType)
		}
		attrs, err := s.s3.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String(bkt), Key: aws.String("mp/sha256"),
			ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesChecksum, types.ObjectAttributesObjectParts}})
		mustOK(t, err)
		if c := attrs.Checksum; c == nil || aws.ToString(c.ChecksumSHA256) != want || c.ChecksumType != types.ChecksumTypeComposite {
			t.Errorf("attributes checksum %+v", attrs.Checksum)
		}
		if op := attrs.ObjectParts; op == nil || len(op.Parts) != 3 {
			t.Fatalf("attributes parts %+v", attrs.ObjectParts)
		}
		for i, p := range [][]byte{p1, p2, p3} {
			sum := sha256.Sum256(p)
			if got := aws.ToString(attrs.ObjectParts.Parts[i].ChecksumSHA256); got != b64(sum[:]) {
				t.Errorf("attributes part %d SHA256 %q", i+1, got)
			}
		}
	})

	t.Run("checksum type the algorithm cannot do", func(t *testing.T) {
		// SHA-256 digests cannot be combined into a full-object value.
		_, err := s.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bkt), Key: aws.String("mp/bad-type"),
			ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ChecksumType: types.ChecksumTypeFullObject})
		wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
	})
}

// TestLargeMultipart uploads more than 100 MiB in 16 MiB parts, then reads
// it back and compares SHA-256 digests computed while streaming, so the
// object is never held in memory twice.
func TestLargeMultipart(t *testing.T) {
	if testing.Short() {
		t.Skip("large upload skipped in -short mode")
	}
	s := newSuite(t)
	ctx := t.Context()
	bkt := s.mkBucket(t, "large")
	const (
		partSize = 16 * mib
		total    = 100*mib + 12345
	)
	u := s.createUpload(t, bkt, "large.bin")
	src := newStream(100)
	buf := make([]byte, partSize)
	wantSum := sha256.New()
	var md5s []byte
	for n, left := int32(1), total; left > 0; n++ {
		p := buf[:min(partSize, left)]
		io.ReadFull(src, p)
		wantSum.Write(p)
		m := md5.Sum(p)
		md5s = append(md5s, m[:]...)
		u.part(n, p)
		left -= len(p)
	}
	out, err := u.complete()
	mustOK(t, err)
	wantETag := quoted(md5Hex(md5s) + "-" + strconv.Itoa(len(u.parts)))
	if aws.ToString(out.ETag) != wantETag {
		t.Errorf("ETag %s, want %s", aws.ToString(out.ETag), wantETag)
	}

	// The SDK validates the full-object checksum the server combined from
	// the parts' CRCs while it streams the body.
	g, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("large.bin"), ChecksumMode: types.ChecksumModeEnabled})
	mustOK(t, err)
	defer g.Body.Close()
	gotSum := sha256.New()
	n, err := io.Copy(gotSum, g.Body)
	mustOK(t, err)
	if n != total || !bytes.Equal(gotSum.Sum(nil), wantSum.Sum(nil)) {
		t.Fatalf("downloaded %d bytes with SHA-256 %s; uploaded %d with %s", n, hex.EncodeToString(gotSum.Sum(nil)), total, hex.EncodeToString(wantSum.Sum(nil)))
	}
	if aws.ToString(g.ChecksumCRC64NVME) == "" || g.ChecksumType != types.ChecksumTypeFullObject {
		t.Errorf("GET checksum CRC64NVME %q type %q", aws.ToString(g.ChecksumCRC64NVME), g.ChecksumType)
	}
}
