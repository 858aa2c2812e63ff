package e2e

import (
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// blobFiles returns the committed blob files under the data directory.
func blobFiles(t *testing.T, dir string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	root := filepath.Join(dir, "blobs")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "tmp" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			out[p] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// putBlob stores an object too large to be inline and returns its blob
// file, found as the one file the PUT added.
func (s *suite) putBlob(t *testing.T, bucket, key string, body []byte) string {
	t.Helper()
	before := blobFiles(t, s.srv.Dir)
	out := s.put(t, bucket, key, body)
	if out.ServerSideEncryption != types.ServerSideEncryptionAes256 {
		t.Fatalf("PutObject x-amz-server-side-encryption = %q, want AES256", out.ServerSideEncryption)
	}
	var added []string
	for p := range blobFiles(t, s.srv.Dir) {
		if !before[p] {
			added = append(added, p)
		}
	}
	if len(added) != 1 {
		t.Fatalf("PUT of %s added %d blob files", key, len(added))
	}
	return added[0]
}

// mustNotServe asserts that GetObject of a tampered object fails: an error
// status, or a body cut short. A complete body would have to equal want,
// which tampering rules out, so any complete body is a failure.
func (s *suite) mustNotServe(t *testing.T, bucket, key string, want []byte) {
	t.Helper()
	out, err := s.s3.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		if !strings.Contains(err.Error(), "500") && !strings.Contains(err.Error(), "InternalError") {
			t.Logf("GetObject %s failed (as it must) with: %v", key, err)
		}
		return
	}
	defer out.Body.Close()
	got, err := io.ReadAll(out.Body)
	if err != nil {
		return // the connection was cut mid-body
	}
	if sha256.Sum256(got) != sha256.Sum256(want) {
		t.Fatalf("GetObject %s of tampered data succeeded with WRONG data (%d bytes)", key, len(got))
	}
	t.Fatalf("GetObject %s of tampered data succeeded", key)
}

func itoa(n int) string { return strconv.Itoa(n) }

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	_ = os.Chmod(path, 0o600)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestEncryptionAtRest(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	const bkt = "encrypted"
	s.mkBucket(t, bkt)

	t.Run("reported and not in clear on disk", func(t *testing.T) {
		body := data(300<<10, 11)
		path := s.putBlob(t, bkt, "clear-check", body)
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, body[1000:1064]) {
			t.Fatal("blob file holds the plaintext")
		}
		got, out := s.get(t, bkt, "clear-check")
		if !bytes.Equal(got, body) || out.ServerSideEncryption != types.ServerSideEncryptionAes256 {
			t.Fatalf("GetObject: equal %v, SSE %q", bytes.Equal(got, body), out.ServerSideEncryption)
		}
		if aws.ToInt64(out.ContentLength) != int64(len(body)) {
			t.Fatalf("Content-Length %d, want the plaintext size %d", aws.ToInt64(out.ContentLength), len(body))
		}
		head, err := s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String("clear-check")})
		if err != nil || head.ServerSideEncryption != types.ServerSideEncryptionAes256 || aws.ToInt64(head.ContentLength) != int64(len(body)) {
			t.Fatalf("HeadObject: %v, SSE %q, length %d", err, head.ServerSideEncryption, aws.ToInt64(head.ContentLength))
		}
		lst, err := s.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bkt), Prefix: aws.String("clear-check")})
		if err != nil || len(lst.Contents) != 1 || aws.ToInt64(lst.Contents[0].Size) != int64(len(body)) {
			t.Fatalf("listing: %v %+v", err, lst)
		}
		// Asking for SSE-S3 explicitly is accepted (other modes: sse_test.go).
		s.put(t, bkt, "explicit", []byte("x"), func(in *s3.PutObjectInput) { in.ServerSideEncryption = types.ServerSideEncryptionAes256 })
		// A copy is re-encrypted under its own key and reads back.
		cp, err := s.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bkt), Key: aws.String("copy"), CopySource: aws.String(bkt + "/clear-check")})
		if err != nil || cp.ServerSideEncryption != types.ServerSideEncryptionAes256 {
			t.Fatalf("CopyObject: %v, SSE %q", err, cp.ServerSideEncryption)
		}
		if got, _ := s.get(t, bkt, "copy"); !bytes.Equal(got, body) {
			t.Fatal("copy differs")
		}
	})

	t.Run("multipart ranges", func(t *testing.T) {
		key := "mp"
		cr, err := s.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bkt), Key: aws.String(key)})
		if err != nil || cr.ServerSideEncryption != types.ServerSideEncryptionAes256 {
			t.Fatalf("CreateMultipartUpload: %v, SSE %q", err, cr.ServerSideEncryption)
		}
		parts := [][]byte{data(5<<20, 21), data(5<<20+7, 22), data(1000, 23)}
		var done []types.CompletedPart
		for i, p := range parts {
			up, err := s.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bkt), Key: aws.String(key), UploadId: cr.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
			if err != nil || up.ServerSideEncryption != types.ServerSideEncryptionAes256 {
				t.Fatalf("UploadPart: %v, SSE %q", err, up.ServerSideEncryption)
			}
			done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: up.ETag})
		}
		cp, err := s.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bkt), Key: aws.String(key), UploadId: cr.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
		if err != nil || cp.ServerSideEncryption != types.ServerSideEncryptionAes256 {
			t.Fatalf("CompleteMultipartUpload: %v, SSE %q", err, cp.ServerSideEncryption)
		}
		all := bytes.Join(parts, nil)
		for _, rg := range [][2]int{{0, len(all) - 1}, {5<<20 - 10, 5<<20 + 10}, {len(all) - 1500, len(all) - 1}, {70000, 70000}} {
			got, _ := s.get(t, bkt, key, func(in *s3.GetObjectInput) {
				in.Range = aws.String("bytes=" + itoa(rg[0]) + "-" + itoa(rg[1]))
			})
			if !bytes.Equal(got, all[rg[0]:rg[1]+1]) {
				t.Fatalf("range %v differs", rg)
			}
		}
		attrs, err := s.s3.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String(bkt), Key: aws.String(key),
			ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectSize}})
		if err != nil || aws.ToInt64(attrs.ObjectSize) != int64(len(all)) {
			t.Fatalf("GetObjectAttributes: %v, size %d", err, aws.ToInt64(attrs.ObjectSize))
		}
	})

	t.Run("flipped byte", func(t *testing.T) {
		for _, off := range []int{10, 200 << 10} {
			body := data(300<<10, uint64(off))
			key := "flip-" + itoa(off)
			path := s.putBlob(t, bkt, key, body)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			raw[off] ^= 0x01
			writeFile(t, path, raw)
			s.mustNotServe(t, bkt, key, body)
			if off == 10 {
				// Damage in the first package is found before the headers
				// go out: a clean 500.
				_, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String(key)})
				wantErr(t, err, "InternalError", 500)
			}
		}
	})

	t.Run("swapped files", func(t *testing.T) {
		a, b := data(200<<10, 31), data(200<<10, 32)
		pa, pb := s.putBlob(t, bkt, "swap-a", a), s.putBlob(t, bkt, "swap-b", b)
		ra, err := os.ReadFile(pa)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := os.ReadFile(pb)
		if err != nil {
			t.Fatal(err)
		}
		if len(ra) != len(rb) {
			t.Fatal("blob files differ in size")
		}
		writeFile(t, pa, rb)
		writeFile(t, pb, ra)
		s.mustNotServe(t, bkt, "swap-a", a)
		s.mustNotServe(t, bkt, "swap-b", b)
	})
}
