package e2e

// CopyObject: within and across buckets, metadata and tagging directives,
// copy-source conditions, self-copies and copies of a specific version.

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"
)

// copySource is the x-amz-copy-source value for bucket/key, each path
// segment percent-encoded as S3 expects.
func copySource(bucket, key string) *string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return aws.String(bucket + "/" + strings.Join(segs, "/"))
}

func TestCopy(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	src, dst := s.mkBucket(t, "copy-src"), s.mkBucket(t, "copy-dst")
	body := data(64<<10, 21)
	const srcKey = "dir/source ü+%.bin"
	srcPut := s.put(t, src, srcKey, body, func(in *s3.PutObjectInput) {
		in.ContentType = aws.String("application/x-source")
		in.Metadata = map[string]string{"origin": "source"}
		in.Tagging = aws.String("stage=raw&team=storage")
		in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256
	})

	tagsOf := func(t *testing.T, bucket, key string) map[string]string {
		t.Helper()
		out, err := s.s3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		mustOK(t, err)
		m := map[string]string{}
		for _, tg := range out.TagSet {
			m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		return m
	}

	t.Run("same bucket", func(t *testing.T) {
		out, err := s.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(src), Key: aws.String("copy-of-source"), CopySource: copySource(src, srcKey)})
		mustOK(t, err)
		if got := aws.ToString(out.CopyObjectResult.ETag); got != aws.ToString(srcPut.ETag) {
			t.Errorf("copy ETag %s, source %s", got, aws.ToString(srcPut.ETag))
		}
		// The source's checksum algorithm carries over, and the value is
		// the same because the bytes are.
		if got := aws.ToString(out.CopyObjectResult.ChecksumSHA256); got != checksumOf(types.ChecksumAlgorithmSha256, body) {
			t.Errorf("copy ChecksumSHA256 %q", got)
		}
		got, g := s.get(t, src, "copy-of-source")
		if !bytes.Equal(got, body) {
			t.Fatal("copied body differs")
		}
		if aws.ToString(g.ContentType) != "application/x-source" || g.Metadata["origin"] != "source" {
			t.Errorf("metadata not copied: %q %v", aws.ToString(g.ContentType), g.Metadata)
		}
	})

	t.Run("cross bucket", func(t *testing.T) {
		_, err := s.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(dst), Key: aws.String("x/y"), CopySource: copySource(src, srcKey)})
		mustOK(t, err)
		if got, _ := s.get(t, dst, "x/y"); !bytes.Equal(got, body) {
			t.Fatal("copied body differs")
		}
		if diff := cmp.Diff(map[string]string{"stage": "raw", "team": "storage"}, tagsOf(t, dst, "x/y")); diff != "" {
			t.Errorf("tags are copied by default (-want +got):\n%s", diff)
		}
	})

	t.Run("metadata directive COPY ignores new metadata", func(t *testing.T) {
		_, err := s.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(dst), Key: aws.String("meta-copy"), CopySource: copySource(src, srcKey),
			MetadataDirective: types.MetadataDirectiveCopy, Metadata: map[string]string{"origin": "ignored"}, ContentType: aws.String("text/ignored")})
		mustOK(t, err)
		_, g := s.get(t, dst, "meta-copy")
		if aws.ToString(g.ContentType) != "application/x-source" || g.Metadata["origin"] != "source" {
			t.Errorf("COPY directive: %q %v", aws.ToString(g.ContentType), g.Metadata)
		}
	})

	t.Run("metadata directive REPLACE", func(t *testing.T) {
		_, err := s.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(dst), Key: aws.String("meta-replace"), CopySource: copySource(src, srcKey),
			MetadataDirective: types.MetadataDirectiveReplace, Metadata: map[string]string{"fresh": "yes"}, ContentType: aws.String("text/replaced")})
		mustOK(t, err)
		_, g := s.get(t, dst, "meta-replace")
		if diff := cmp.Diff(map[string]string{"fresh": "yes"}, g.Metadata); diff != "" || aws.ToString(g.ContentType) != "text/replaced" {
			t.Errorf("REPLACE directive: content type %q, metadata (-want +got):\n%s", aws.ToString(g.ContentType), diff)
		}
	})

	t.Run("tagging directive REPLACE", func(t *testing.T) {
		_, err := s.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(dst), Key: aws.String("tags-replace"), CopySource: copySource(src, srcKey),
			TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String("new=tag")})
		mustOK(t, err)
		if diff := cmp.Diff(map[string]string{"new": "tag"}, tagsOf(t, dst, "tags-replace")); diff != "" {
			t.Errorf("tags (-want +got):\n%s", diff)
		}
	})

	t.Run("copy-source conditions", func(t *testing.T) {
		etag := aws.ToString(srcPut.ETag)
		head, err := s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(src), Key: aws.String(srcKey)})
		mustOK(t, err)
		past, future := head.LastModified.Add(-time.Hour), head.LastModified.Add(time.Hour)
		cases := []struct {
			name string
			set  func(*s3.CopyObjectInput)
			ok   bool
		}{
			{"if-match hit", func(in *s3.CopyObjectInput) { in.CopySourceIfMatch = aws.String(etag) }, true},
			{"if-match miss", func(in *s3.CopyObjectInput) { in.CopySourceIfMatch = aws.String(`"deadbeef"`) }, false},
			{"if-none-match hit", func(in *s3.CopyObjectInput) { in.CopySourceIfNoneMatch = aws.String(etag) }, false},
			{"if-none-match miss", func(in *s3.CopyObjectInput) { in.CopySourceIfNoneMatch = aws.String(`"deadbeef"`) }, true},
			{"if-modified-since future", func(in *s3.CopyObjectInput) { in.CopySourceIfModifiedSince = aws.Time(future) }, false},
			{"if-unmodified-since past", func(in *s3.CopyObjectInput) { in.CopySourceIfUnmodifiedSince = aws.Time(past) }, false},
			{"if-unmodified-since future", func(in *s3.CopyObjectInput) { in.CopySourceIfUnmodifiedSince = aws.Time(future) }, true},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				in := &s3.CopyObjectInput{Bucket: aws.String(dst), Key: aws.String("cond"), CopySource: copySource(src, srcKey)}
				c.set(in)
				_, err := s.s3.CopyObject(ctx, in)
				if c.ok {
					mustOK(t, err)
					return
				}
				// Copy-source conditions never answer 304.
				wantErr(t, err, "PreconditionFailed", http.StatusPreconditionFailed)
			})
		}
	})

	t.Run("onto itself", func(t *testing.T) {
		_, err := s.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(src), Key: aws.String(srcKey), CopySource: copySource(src, srcKey)})
		wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
		// Changing the metadata makes it legal.
		_, err = s.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(src), Key: aws.String(srcKey), CopySource: copySource(src, srcKey),
			MetadataDirective: types.MetadataDirectiveReplace, Metadata: map[string]string{"origin": "rewritten"}, ContentType: aws.String("application/x-source")})
		mustOK(t, err)
		got, g := s.get(t, src, srcKey)
		if !bytes.Equal(got, body) || g.Metadata["origin"] != "rewritten" {
			t.Errorf("self-copy with REPLACE: metadata %v", g.Metadata)
		}
	})

	t.Run("missing source", func(t *testing.T) {
		_, err := s.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(dst), Key: aws.String("k"), CopySource: copySource(src, "no-such-key")})
		wantErr(t, err, "NoSuchKey", http.StatusNotFound)
		_, err = s.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(dst), Key: aws.String("k"), CopySource: copySource("no-such-bucket", "k")})
		wantErr(t, err, "NoSuchBucket", http.StatusNotFound)
	})

	t.Run("specific version", func(t *testing.T) {
		vb := s.mkBucket(t, "copy-versioned")
		_, err := s.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(vb),
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
		mustOK(t, err)
		v1 := s.put(t, vb, "doc", []byte("version one"))
		s.put(t, vb, "doc", []byte("version two"))
		src := aws.ToString(copySource(vb, "doc")) + "?versionId=" + aws.ToString(v1.VersionId)
		out, err := s.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(dst), Key: aws.String("old-doc"), CopySource: aws.String(src)})
		mustOK(t, err)
		if aws.ToString(out.CopySourceVersionId) != aws.ToString(v1.VersionId) {
			t.Errorf("CopySourceVersionId %q, want %q", aws.ToString(out.CopySourceVersionId), aws.ToString(v1.VersionId))
		}
		if got, _ := s.get(t, dst, "old-doc"); string(got) != "version one" {
			t.Errorf("copied %q", got)
		}
		// Restoring an old version onto the same key needs no changes.
		out, err = s.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(vb), Key: aws.String("doc"), CopySource: aws.String(src)})
		mustOK(t, err)
		if out.VersionId == nil || aws.ToString(out.VersionId) == aws.ToString(v1.VersionId) {
			t.Errorf("restore created version %q", aws.ToString(out.VersionId))
		}
		if got, _ := s.get(t, vb, "doc"); string(got) != "version one" {
			t.Errorf("restored %q", got)
		}
		_, err = s.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(dst), Key: aws.String("k"),
			CopySource: aws.String(aws.ToString(copySource(vb, "doc")) + "?versionId=" + strings.Repeat("A", 32))})
		wantErr(t, err, "NoSuchVersion", http.StatusNotFound)
	})
}
