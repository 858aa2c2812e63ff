package e2e

// Single-request object operations: PUT/GET/HEAD/DELETE, metadata,
// conditional requests, ranges, integrity checks and key rules.

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"
)

func TestObjects(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	const bkt = "objects"
	s.mkBucket(t, bkt)

	t.Run("put get head delete", func(t *testing.T) {
		for _, c := range []struct {
			name string
			size int
		}{{"empty", 0}, {"small", 1000}, {"multi-MiB", 7<<20 + 123}} {
			t.Run(c.name, func(t *testing.T) {
				body := data(c.size, uint64(c.size))
				key := "plain/" + c.name
				put := s.put(t, bkt, key, body)
				if got, want := aws.ToString(put.ETag), quoted(md5Hex(body)); got != want {
					t.Errorf("PutObject ETag = %s, want %s", got, want)
				}
				got, out := s.get(t, bkt, key)
				if !bytes.Equal(got, body) {
					t.Fatalf("GetObject returned %d bytes that differ from the %d put", len(got), len(body))
				}
				if aws.ToInt64(out.ContentLength) != int64(c.size) || aws.ToString(out.ETag) != aws.ToString(put.ETag) {
					t.Errorf("GetObject: length %d etag %s", aws.ToInt64(out.ContentLength), aws.ToString(out.ETag))
				}
				if aws.ToString(out.AcceptRanges) != "bytes" || out.LastModified == nil {
					t.Errorf("GetObject: Accept-Ranges %q, Last-Modified %v", aws.ToString(out.AcceptRanges), out.LastModified)
				}
				head, err := s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String(key)})
				mustOK(t, err)
				if aws.ToInt64(head.ContentLength) != int64(c.size) || aws.ToString(head.ETag) != aws.ToString(put.ETag) {
					t.Errorf("HeadObject: length %d etag %s", aws.ToInt64(head.ContentLength), aws.ToString(head.ETag))
				}
				_, err = s.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bkt), Key: aws.String(key)})
				mustOK(t, err)
				_, err = s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String(key)})
				wantErr(t, err, "NoSuchKey", http.StatusNotFound)
				_, err = s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String(key)})
				wantErr(t, err, "NotFound", http.StatusNotFound)
			})
		}
		// Deleting a key that does not exist succeeds (204).
		_, err := s.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bkt), Key: aws.String("never-existed")})
		mustOK(t, err)
		_, err = s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k")})
		wantErr(t, err, "NoSuchBucket", http.StatusNotFound)
	})

	t.Run("metadata and standard headers round-trip", func(t *testing.T) {
		expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		s.put(t, bkt, "meta", []byte("hello"), func(in *s3.PutObjectInput) {
			in.Metadata = map[string]string{"color": "blue", "two-words": "a b  c", "unicode": "ünïcödé"}
			in.ContentType = aws.String("text/plain; charset=utf-8")
			in.CacheControl = aws.String("max-age=60")
			in.ContentDisposition = aws.String(`attachment; filename="hello.txt"`)
			in.ContentEncoding = aws.String("identity")
			in.ContentLanguage = aws.String("en-GB")
			in.Expires = aws.Time(expires)
		})
		for _, method := range []string{"GET", "HEAD"} {
			t.Run(method, func(t *testing.T) {
				var md map[string]string
				var ct, cc, cd, ce, cl, ex *string
				if method == "GET" {
					_, out := s.get(t, bkt, "meta")
					md, ct, cc, cd, ce, cl, ex = out.Metadata, out.ContentType, out.CacheControl, out.ContentDisposition, out.ContentEncoding, out.ContentLanguage, out.ExpiresString
				} else {
					out, err := s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String("meta")})
					mustOK(t, err)
					md, ct, cc, cd, ce, cl, ex = out.Metadata, out.ContentType, out.CacheControl, out.ContentDisposition, out.ContentEncoding, out.ContentLanguage, out.ExpiresString
				}
				if diff := cmp.Diff(map[string]string{"color": "blue", "two-words": "a b  c", "unicode": "ünïcödé"}, md); diff != "" {
					t.Errorf("metadata (-want +got):\n%s", diff)
				}
				got := []string{aws.ToString(ct), aws.ToString(cc), aws.ToString(cd), aws.ToString(ce), aws.ToString(cl), aws.ToString(ex)}
				want := []string{"text/plain; charset=utf-8", "max-age=60", `attachment; filename="hello.txt"`, "identity", "en-GB", expires.Format(http.TimeFormat)}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("headers (-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("default content type", func(t *testing.T) {
		// Without a Content-Type S3 stores binary/octet-stream. A raw
		// request makes sure no client supplies one.
		req := rawRequest(t, ctx, http.MethodPut, s.srv.Endpoint+"/"+bkt+"/untyped", []byte("data"))
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		mustOK(t, s3Signer().SignHTTP(ctx, aws.Credentials{AccessKeyID: s.srv.AccessKey, SecretAccessKey: s.srv.SecretKey},
			req, "UNSIGNED-PAYLOAD", "s3", s.srv.Region, time.Now()))
		if resp, code, _ := s.do(t, req); resp.StatusCode != http.StatusOK {
			t.Fatalf("raw PUT: %d %s", resp.StatusCode, code)
		}
		if _, out := s.get(t, bkt, "untyped"); aws.ToString(out.ContentType) != "binary/octet-stream" {
			t.Errorf("Content-Type %q", aws.ToString(out.ContentType))
		}
	})

	t.Run("metadata too large", func(t *testing.T) {
		// S3 allows 2 KiB of user metadata (names plus values).
		_, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("big-meta"),
			Body: strings.NewReader("x"), Metadata: map[string]string{"big": strings.Repeat("v", 2100)}})
		wantErr(t, err, "MetadataTooLarge", http.StatusBadRequest)
		s.put(t, bkt, "fits-meta", []byte("x"), func(in *s3.PutObjectInput) {
			in.Metadata = map[string]string{"big": strings.Repeat("v", 2000)}
		})
	})

	t.Run("conditional put", func(t *testing.T) {
		first := s.put(t, bkt, "cond", []byte("v1"), func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") })
		_, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("cond"),
			Body: strings.NewReader("v2"), IfNoneMatch: aws.String("*")})
		wantErr(t, err, "PreconditionFailed", http.StatusPreconditionFailed)

		_, err = s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("cond"),
			Body: strings.NewReader("v2"), IfMatch: aws.String(`"00000000000000000000000000000000"`)})
		wantErr(t, err, "PreconditionFailed", http.StatusPreconditionFailed)
		s.put(t, bkt, "cond", []byte("v2"), func(in *s3.PutObjectInput) { in.IfMatch = first.ETag })
		if got, _ := s.get(t, bkt, "cond"); string(got) != "v2" {
			t.Errorf("after If-Match PUT the object is %q", got)
		}
		// If-Match on a key that does not exist: 404 NoSuchKey.
		_, err = s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("cond-missing"),
			Body: strings.NewReader("v"), IfMatch: first.ETag})
		wantErr(t, err, "NoSuchKey", http.StatusNotFound)
	})

	t.Run("conditional get", func(t *testing.T) {
		put := s.put(t, bkt, "cget", []byte("conditional"))
		etag := aws.ToString(put.ETag)
		head, err := s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String("cget")})
		mustOK(t, err)
		mtime := *head.LastModified
		past, future := mtime.Add(-time.Hour), mtime.Add(time.Hour)
		cases := []struct {
			name   string
			in     s3.GetObjectInput
			code   string // "" for 200
			status int
		}{
			{"If-Match hit", s3.GetObjectInput{IfMatch: aws.String(etag)}, "", 200},
			{"If-Match miss", s3.GetObjectInput{IfMatch: aws.String(`"nope"`)}, "PreconditionFailed", 412},
			{"If-None-Match hit", s3.GetObjectInput{IfNoneMatch: aws.String(etag)}, "NotModified", 304},
			{"If-None-Match miss", s3.GetObjectInput{IfNoneMatch: aws.String(`"nope"`)}, "", 200},
			{"If-Modified-Since past", s3.GetObjectInput{IfModifiedSince: aws.Time(past)}, "", 200},
			{"If-Modified-Since future", s3.GetObjectInput{IfModifiedSince: aws.Time(future)}, "NotModified", 304},
			{"If-Unmodified-Since future", s3.GetObjectInput{IfUnmodifiedSince: aws.Time(future)}, "", 200},
			{"If-Unmodified-Since past", s3.GetObjectInput{IfUnmodifiedSince: aws.Time(past)}, "PreconditionFailed", 412},
			// HTTP dates have one-second resolution: the object's own
			// Last-Modified is "not modified since" and "unmodified since".
			{"If-Modified-Since equal", s3.GetObjectInput{IfModifiedSince: aws.Time(mtime)}, "NotModified", 304},
			{"If-Unmodified-Since equal", s3.GetObjectInput{IfUnmodifiedSince: aws.Time(mtime)}, "", 200},
			// RFC 7232 order: a passing If-Match overrides a failing
			// If-Unmodified-Since, and If-None-Match overrides
			// If-Modified-Since.
			{"If-Match wins over If-Unmodified-Since", s3.GetObjectInput{IfMatch: aws.String(etag), IfUnmodifiedSince: aws.Time(past)}, "", 200},
			{"If-None-Match wins over If-Modified-Since", s3.GetObjectInput{IfNoneMatch: aws.String(etag), IfModifiedSince: aws.Time(past)}, "NotModified", 304},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				in := c.in
				in.Bucket, in.Key = aws.String(bkt), aws.String("cget")
				out, err := s.s3.GetObject(ctx, &in)
				if c.code == "" {
					mustOK(t, err)
					out.Body.Close()
					return
				}
				wantErr(t, err, c.code, c.status)
			})
		}
		_, err = s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String("cget"), IfNoneMatch: aws.String(etag)})
		wantErr(t, err, "NotModified", http.StatusNotModified)
		_, err = s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String("cget"), IfMatch: aws.String(`"nope"`)})
		wantErr(t, err, "PreconditionFailed", http.StatusPreconditionFailed)
	})

	t.Run("ranges", func(t *testing.T) {
		body := data(1000, 7)
		s.put(t, bkt, "ranged", body)
		cases := []struct {
			rng          string
			first, last  int
			contentRange string
		}{
			{"bytes=0-9", 0, 9, "bytes 0-9/1000"},
			{"bytes=990-", 990, 999, "bytes 990-999/1000"},
			{"bytes=-5", 995, 999, "bytes 995-999/1000"},
			{"bytes=500-5000", 500, 999, "bytes 500-999/1000"},
			{"bytes=-5000", 0, 999, "bytes 0-999/1000"},
			{"bytes=999-999", 999, 999, "bytes 999-999/1000"},
		}
		for _, c := range cases {
			t.Run(c.rng, func(t *testing.T) {
				got, out := s.get(t, bkt, "ranged", func(in *s3.GetObjectInput) { in.Range = aws.String(c.rng) })
				if !bytes.Equal(got, body[c.first:c.last+1]) {
					t.Errorf("range body differs (%d bytes)", len(got))
				}
				if aws.ToString(out.ContentRange) != c.contentRange || aws.ToInt64(out.ContentLength) != int64(c.last-c.first+1) {
					t.Errorf("Content-Range %q length %d", aws.ToString(out.ContentRange), aws.ToInt64(out.ContentLength))
				}
			})
		}
		for _, rng := range []string{"bytes=1000-", "bytes=5000-6000"} {
			t.Run(rng, func(t *testing.T) {
				_, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("ranged"), Range: aws.String(rng)})
				wantErr(t, err, "InvalidRange", http.StatusRequestedRangeNotSatisfiable)
			})
		}
		// A syntactically invalid range is ignored: the whole object.
		got, out := s.get(t, bkt, "ranged", func(in *s3.GetObjectInput) { in.Range = aws.String("bytes=9-1") })
		if !bytes.Equal(got, body) || out.ContentRange != nil {
			t.Errorf("invalid range: %d bytes, Content-Range %q", len(got), aws.ToString(out.ContentRange))
		}
	})

	t.Run("response header overrides", func(t *testing.T) {
		s.put(t, bkt, "override", []byte("x"), func(in *s3.PutObjectInput) { in.ContentType = aws.String("text/plain") })
		exp := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
		_, out := s.get(t, bkt, "override", func(in *s3.GetObjectInput) {
			in.ResponseContentType = aws.String("application/json")
			in.ResponseContentDisposition = aws.String("inline")
			in.ResponseCacheControl = aws.String("no-cache")
			in.ResponseContentLanguage = aws.String("fr")
			in.ResponseContentEncoding = aws.String("identity")
			in.ResponseExpires = aws.Time(exp)
		})
		got := []string{aws.ToString(out.ContentType), aws.ToString(out.ContentDisposition), aws.ToString(out.CacheControl),
			aws.ToString(out.ContentLanguage), aws.ToString(out.ContentEncoding), aws.ToString(out.ExpiresString)}
		want := []string{"application/json", "inline", "no-cache", "fr", "identity", exp.Format(http.TimeFormat)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("overridden headers (-want +got):\n%s", diff)
		}
	})

	t.Run("Content-MD5", func(t *testing.T) {
		body := []byte("integrity matters")
		s.put(t, bkt, "md5", body, func(in *s3.PutObjectInput) { in.ContentMD5 = aws.String(md5B64(body)) })
		_, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("md5"),
			Body: bytes.NewReader(body), ContentMD5: aws.String(md5B64([]byte("something else")))})
		wantErr(t, err, "BadDigest", http.StatusBadRequest)
		_, err = s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("md5"),
			Body: bytes.NewReader(body), ContentMD5: aws.String("not-base64-md5")})
		wantErr(t, err, "InvalidDigest", http.StatusBadRequest)
		// A failed PUT leaves the previous object in place.
		if got, _ := s.get(t, bkt, "md5"); !bytes.Equal(got, body) {
			t.Errorf("object changed by a failed PUT: %q", got)
		}
	})

	t.Run("checksums", func(t *testing.T) {
		body := data(300<<10, 11)
		for _, alg := range []types.ChecksumAlgorithm{
			types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmCrc64nvme,
			types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256,
		} {
			t.Run(string(alg), func(t *testing.T) {
				want := checksumOf(alg, body)
				key := "checksum/" + string(alg)
				put := s.put(t, bkt, key, body, func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = alg })
				if got := putChecksum(put, alg); got != want {
					t.Errorf("PutObject checksum = %q, want %q", got, want)
				}
				if put.ChecksumType != types.ChecksumTypeFullObject {
					t.Errorf("PutObject ChecksumType = %q", put.ChecksumType)
				}
				got, out := s.get(t, bkt, key, func(in *s3.GetObjectInput) { in.ChecksumMode = types.ChecksumModeEnabled })
				if !bytes.Equal(got, body) {
					t.Fatal("body differs")
				}
				if c := getChecksum(out, alg); c != want {
					t.Errorf("GetObject checksum = %q, want %q", c, want)
				}
				head, err := s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
				mustOK(t, err)
				if c := headChecksum(head, alg); c != want {
					t.Errorf("HeadObject checksum = %q, want %q", c, want)
				}
			})
		}
		// An explicit wrong value: the SDK sends it as a header and the
		// server must refuse the body.
		_, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("checksum/wrong"),
			Body: bytes.NewReader(body), ChecksumCRC32: aws.String(checksumOf(types.ChecksumAlgorithmCrc32, []byte("other")))})
		wantErr(t, err, "BadDigest", http.StatusBadRequest)
		_, err = s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("checksum/wrong"),
			Body: bytes.NewReader(body), ChecksumSHA256: aws.String(checksumOf(types.ChecksumAlgorithmSha256, []byte("other")))})
		wantErr(t, err, "BadDigest", http.StatusBadRequest)
		_, err = s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String("checksum/wrong")})
		wantErr(t, err, "NotFound", http.StatusNotFound)
	})

	t.Run("key characters", func(t *testing.T) {
		keys := []string{
			"unicode/日本語/ファイル.txt", "with space", "  leading and trailing  ", "plus+sign", "percent%20literal",
			"question?mark", "hash#tag", "amp&eq=semi;colon", "emoji 😀", "deep/a/b/c/d/e", "tilde~star*",
			"quote\"apos'", "back\\slash", "brackets[]{}()<>", "trailing/slash/", "dots...name", "..dots", "a/.hidden",
			"/leading-slash", "double//slash",
		}
		for i, k := range keys {
			t.Run(url.PathEscape(k), func(t *testing.T) {
				body := []byte{byte(i)}
				s.put(t, bkt, "keys/"+k, body)
				got, _ := s.get(t, bkt, "keys/"+k)
				if !bytes.Equal(got, body) {
					t.Errorf("got %v, want %v", got, body)
				}
			})
		}
		var listed []string
		p := s3.NewListObjectsV2Paginator(s.s3, &s3.ListObjectsV2Input{Bucket: aws.String(bkt), Prefix: aws.String("keys/")})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			mustOK(t, err)
			for _, o := range page.Contents {
				listed = append(listed, strings.TrimPrefix(aws.ToString(o.Key), "keys/"))
			}
		}
		want := append([]string(nil), keys...)
		slices.Sort(want) // S3 lists in UTF-8 byte order, as Go compares strings
		if diff := cmp.Diff(want, listed); diff != "" {
			t.Errorf("listed keys (-want +got):\n%s", diff)
		}
	})

	t.Run("key starting with a slash", func(t *testing.T) {
		// Path style puts it right after the bucket: /bucket//rooted.
		s.put(t, bkt, "/rooted", []byte("slash"))
		if got, _ := s.get(t, bkt, "/rooted"); string(got) != "slash" {
			t.Errorf("got %q", got)
		}
		_, err := s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String("rooted")})
		wantErr(t, err, "NotFound", http.StatusNotFound)
	})

	t.Run("key length", func(t *testing.T) {
		s.put(t, bkt, strings.Repeat("k", 1024), []byte("max"))
		_, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String(strings.Repeat("k", 1025)), Body: strings.NewReader("x")})
		wantErr(t, err, "KeyTooLongError", http.StatusBadRequest)
		// The limit is in bytes: 342 three-byte runes are 1026 bytes.
		_, err = s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String(strings.Repeat("€", 342)), Body: strings.NewReader("x")})
		wantErr(t, err, "KeyTooLongError", http.StatusBadRequest)
	})

	t.Run("dot segments are rejected", func(t *testing.T) {
		// A documented Coffer deviation from AWS, which stores such keys.
		for _, k := range []string{"../escape", "a/../b", "a/./b", "trailing/.."} {
			t.Run(k, func(t *testing.T) {
				_, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String(k), Body: strings.NewReader("x")})
				wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
			})
		}
	})
}

func putChecksum(o *s3.PutObjectOutput, alg types.ChecksumAlgorithm) string {
	return pick(alg, o.ChecksumCRC32, o.ChecksumCRC32C, o.ChecksumCRC64NVME, o.ChecksumSHA1, o.ChecksumSHA256)
}

func getChecksum(o *s3.GetObjectOutput, alg types.ChecksumAlgorithm) string {
	return pick(alg, o.ChecksumCRC32, o.ChecksumCRC32C, o.ChecksumCRC64NVME, o.ChecksumSHA1, o.ChecksumSHA256)
}

func headChecksum(o *s3.HeadObjectOutput, alg types.ChecksumAlgorithm) string {
	return pick(alg, o.ChecksumCRC32, o.ChecksumCRC32C, o.ChecksumCRC64NVME, o.ChecksumSHA1, o.ChecksumSHA256)
}

// pick returns the field of an SDK output that holds alg's checksum.
func pick(alg types.ChecksumAlgorithm, crc32, crc32c, crc64, sha1, sha256 *string) string {
	switch alg {
	case types.ChecksumAlgorithmCrc32:
		return aws.ToString(crc32)
	case types.ChecksumAlgorithmCrc32c:
		return aws.ToString(crc32c)
	case types.ChecksumAlgorithmCrc64nvme:
		return aws.ToString(crc64)
	case types.ChecksumAlgorithmSha1:
		return aws.ToString(sha1)
	case types.ChecksumAlgorithmSha256:
		return aws.ToString(sha256)
	}
	return ""
}
