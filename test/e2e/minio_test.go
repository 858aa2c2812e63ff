package e2e

// The same basics through minio-go, whose request shapes (signing,
// streaming, multipart, bulk delete) differ from aws-sdk-go-v2's.

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"io"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/minio/minio-go/v7"
)

func TestMinio(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	mc := s.minio(s.srv.AccessKey, s.srv.SecretKey)
	const bkt = "minio-bucket"

	t.Run("make bucket", func(t *testing.T) {
		mustOK(t, mc.MakeBucket(ctx, bkt, minio.MakeBucketOptions{Region: s.srv.Region}))
		ok, err := mc.BucketExists(ctx, bkt)
		mustOK(t, err)
		if !ok {
			t.Fatal("BucketExists is false after MakeBucket")
		}
		ok, err = mc.BucketExists(ctx, "no-such-bucket")
		mustOK(t, err)
		if ok {
			t.Error("BucketExists is true for a missing bucket")
		}
		bs, err := mc.ListBuckets(ctx)
		mustOK(t, err)
		if len(bs) != 1 || bs[0].Name != bkt {
			t.Errorf("ListBuckets %v", bs)
		}
	})

	body := data(100<<10, 51)
	t.Run("put, stat, get", func(t *testing.T) {
		info, err := mc.PutObject(ctx, bkt, "docs/readme.txt", bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{
			ContentType: "text/plain", UserMetadata: map[string]string{"Owner": "minio-test"},
		})
		mustOK(t, err)
		if info.ETag != md5Hex(body) || info.Size != int64(len(body)) {
			t.Errorf("PutObject: etag %s size %d", info.ETag, info.Size)
		}
		st, err := mc.StatObject(ctx, bkt, "docs/readme.txt", minio.StatObjectOptions{})
		mustOK(t, err)
		if st.Size != int64(len(body)) || st.ETag != md5Hex(body) || st.ContentType != "text/plain" || st.UserMetadata["Owner"] != "minio-test" {
			t.Errorf("StatObject: size %d etag %s type %q meta %v", st.Size, st.ETag, st.ContentType, st.UserMetadata)
		}
		obj, err := mc.GetObject(ctx, bkt, "docs/readme.txt", minio.GetObjectOptions{})
		mustOK(t, err)
		got, err := io.ReadAll(obj)
		obj.Close()
		mustOK(t, err)
		if !bytes.Equal(got, body) {
			t.Error("GetObject body differs")
		}
		var opts minio.GetObjectOptions
		mustOK(t, opts.SetRange(100, 199))
		obj, err = mc.GetObject(ctx, bkt, "docs/readme.txt", opts)
		mustOK(t, err)
		got, err = io.ReadAll(obj)
		obj.Close()
		mustOK(t, err)
		if !bytes.Equal(got, body[100:200]) {
			t.Errorf("ranged GetObject returned %d bytes", len(got))
		}
		_, err = mc.StatObject(ctx, bkt, "docs/missing", minio.StatObjectOptions{})
		wantMinioErr(t, err, "NoSuchKey", http.StatusNotFound)
	})

	t.Run("list", func(t *testing.T) {
		for _, k := range []string{"docs/a", "docs/sub/b", "top"} {
			_, err := mc.PutObject(ctx, bkt, k, bytes.NewReader([]byte(k)), int64(len(k)), minio.PutObjectOptions{})
			mustOK(t, err)
		}
		list := func(opts minio.ListObjectsOptions) []string {
			var keys []string
			for o := range mc.ListObjects(ctx, bkt, opts) {
				mustOK(t, o.Err)
				keys = append(keys, o.Key)
			}
			// minio-go hands out each page's keys before its common
			// prefixes, so compare in sorted order.
			slices.Sort(keys)
			return keys
		}
		if diff := cmp.Diff([]string{"docs/a", "docs/readme.txt", "docs/sub/"}, list(minio.ListObjectsOptions{Prefix: "docs/"})); diff != "" {
			t.Errorf("non-recursive (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"docs/a", "docs/readme.txt", "docs/sub/b", "top"}, list(minio.ListObjectsOptions{Recursive: true})); diff != "" {
			t.Errorf("recursive (-want +got):\n%s", diff)
		}
		// minio-go's V1 listing path.
		if diff := cmp.Diff([]string{"docs/", "top"}, list(minio.ListObjectsOptions{UseV1: true})); diff != "" {
			t.Errorf("V1 (-want +got):\n%s", diff)
		}
		// MaxKeys forces minio-go to follow continuation tokens.
		if got := list(minio.ListObjectsOptions{Recursive: true, MaxKeys: 1}); len(got) != 4 {
			t.Errorf("paginated listing: %v", got)
		}
	})

	t.Run("multipart upload of 20 MiB", func(t *testing.T) {
		const size, partSize = 20 * mib, 5 * mib
		big := data(size, 52)
		info, err := mc.PutObject(ctx, bkt, "big.bin", bytes.NewReader(big), size, minio.PutObjectOptions{PartSize: partSize})
		mustOK(t, err)
		var md5s []byte
		for off := 0; off < size; off += partSize {
			m := md5.Sum(big[off : off+partSize])
			md5s = append(md5s, m[:]...)
		}
		if want := md5Hex(md5s) + "-" + strconv.Itoa(size/partSize); info.ETag != want {
			t.Errorf("ETag %s, want %s", info.ETag, want)
		}
		obj, err := mc.GetObject(ctx, bkt, "big.bin", minio.GetObjectOptions{})
		mustOK(t, err)
		defer obj.Close()
		h := sha256.New()
		n, err := io.Copy(h, obj)
		mustOK(t, err)
		want := sha256.Sum256(big)
		if n != size || !bytes.Equal(h.Sum(nil), want[:]) {
			t.Errorf("downloaded %d bytes that differ from the upload", n)
		}
		// An upload of unknown length is also multipart in minio-go.
		info, err = mc.PutObject(ctx, bkt, "streamed.bin", io.LimitReader(newStream(53), 17*mib), -1, minio.PutObjectOptions{PartSize: 8 * mib})
		mustOK(t, err)
		if info.Size != 17*mib {
			t.Errorf("streamed upload size %d", info.Size)
		}
		st, err := mc.StatObject(ctx, bkt, "streamed.bin", minio.StatObjectOptions{})
		mustOK(t, err)
		if st.Size != 17*mib || !bytes.HasSuffix([]byte(st.ETag), []byte("-3")) {
			t.Errorf("streamed object: size %d etag %s", st.Size, st.ETag)
		}
	})

	t.Run("remove", func(t *testing.T) {
		wantMinioErr(t, mc.RemoveBucket(ctx, bkt), "BucketNotEmpty", http.StatusConflict)
		mustOK(t, mc.RemoveObject(ctx, bkt, "top", minio.RemoveObjectOptions{}))
		_, err := mc.StatObject(ctx, bkt, "top", minio.StatObjectOptions{})
		wantMinioErr(t, err, "NoSuchKey", http.StatusNotFound)
		// Bulk delete of everything left (minio-go's DeleteObjects).
		objs := make(chan minio.ObjectInfo)
		go func() {
			defer close(objs)
			for o := range mc.ListObjects(ctx, bkt, minio.ListObjectsOptions{Recursive: true}) {
				objs <- o
			}
		}()
		var failed []string
		for e := range mc.RemoveObjects(ctx, bkt, objs, minio.RemoveObjectsOptions{}) {
			failed = append(failed, e.ObjectName+": "+e.Err.Error())
		}
		if len(failed) > 0 {
			t.Fatalf("RemoveObjects: %v", failed)
		}
		mustOK(t, mc.RemoveBucket(ctx, bkt))
		bs, err := mc.ListBuckets(ctx)
		mustOK(t, err)
		if slices.ContainsFunc(bs, func(b minio.BucketInfo) bool { return b.Name == bkt }) {
			t.Error("bucket still listed after RemoveBucket")
		}
	})
}
