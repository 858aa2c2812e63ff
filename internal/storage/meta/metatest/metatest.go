// Package metatest is the conformance suite for meta.Store backends. Every
// backend's tests call Run, so all backends agree on the S3 semantics the
// store owns: versioning, delete markers, listing order and pagination,
// multipart uploads, preconditions and atomicity under concurrency.
package metatest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

// Run runs the suite. open must return a new, empty store for each call
// and arrange for it to be closed (t.Cleanup); it is called from parallel
// subtests, so concurrently.
func Run(t *testing.T, open func(t *testing.T) meta.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s meta.Store)
	}{
		{"Accounts", testAccounts},
		{"AccessKeys", testAccessKeys},
		{"AccountSettings", testAccountSettings},
		{"ObjectACL", testObjectACL},
		{"Buckets", testBuckets},
		{"DeleteBucket", testDeleteBucket},
		{"MissingBucket", testMissingBucket},
		{"Unversioned", testUnversioned},
		{"Enabled", testEnabled},
		{"Suspended", testSuspended},
		{"NullVersionAfterEnabling", testNullVersionAfterEnabling},
		{"DeleteByVersionID", testDeleteByVersionID},
		{"Preconditions", testPreconditions},
		{"DeleteChecks", testDeleteChecks},
		{"UpdateObject", testUpdateObject},
		{"Inline", testInline},
		{"Isolation", testIsolation},
		{"ListObjects", testListObjects},
		{"ListObjectsModel", testListObjectsModel},
		{"ListObjectsOrder", testListObjectsOrder},
		{"ListVersions", testListVersions},
		{"ListVersionsModel", testListVersionsModel},
		{"Multipart", testMultipart},
		{"CompleteUpload", testCompleteUpload},
		{"ListUploads", testListUploads},
		{"Encryption", testEncryption},
		{"ForEachBlobRef", testForEachBlobRef},
		{"ConcurrentDistinctKeys", testConcurrentDistinctKeys},
		{"ConcurrentSameKey", testConcurrentSameKey},
		{"ConcurrentPreconditions", testConcurrentPreconditions},
		{"ConcurrentMisc", testConcurrentMisc},
		{"ObjectLock", testObjectLock},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// Fixed identities used throughout.
const (
	owner      = "111122223333"
	otherOwner = "444455556666"
)

// baseTime is a whole millisecond, so backends that keep only
// milliseconds or microseconds round-trip it exactly.
var baseTime = time.Date(2025, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

var counter atomic.Int64

// tick returns a distinct, increasing time.
func tick() time.Time { return baseTime.Add(time.Duration(counter.Add(1)) * time.Millisecond) }

// newBlob returns a reference to a fresh, unique blob.
func newBlob(size int64) meta.BlobRef {
	return meta.BlobRef{ID: fmt.Sprintf("blob-%07d", counter.Add(1)), Size: size}
}

// newVID returns a random version id, so no store can depend on the
// order of the ids it is given.
func newVID() string { return "v" + rand.Text() }

func newUploadID() string { return "u" + rand.Text() }

// cmpOpts treat nil and empty maps and slices alike: backends need not
// preserve the difference.
var cmpOpts = []cmp.Option{cmpopts.EquateEmpty()}

func diff(t *testing.T, what string, want, got any, opts ...cmp.Option) {
	t.Helper()
	if d := cmp.Diff(want, got, append(cmpOpts, opts...)...); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want %v", what, err, want)
	}
}

func mkBucket(t *testing.T, s meta.Store, name, versioning string) *meta.Bucket {
	t.Helper()
	b := &meta.Bucket{
		Name:       name,
		Owner:      owner,
		Region:     "us-east-1",
		CreatedAt:  tick(),
		Versioning: versioning,
	}
	must(t, s.CreateBucket(t.Context(), b))
	return b
}

func setVersioning(t *testing.T, s meta.Store, bucket, state string) {
	t.Helper()
	must(t, s.UpdateBucket(t.Context(), bucket, func(b *meta.Bucket) error {
		b.Versioning = state
		return nil
	}))
}

// newObj returns a version of key with every field a caller sets filled.
func newObj(bucket, key string) *meta.ObjectVersion {
	blob := newBlob(11)
	return &meta.ObjectVersion{
		Bucket:       bucket,
		Key:          key,
		Owner:        owner,
		Size:         blob.Size,
		ETag:         `"` + blob.ID + `"`,
		LastModified: tick(),
		StorageClass: "STANDARD",
		Headers:      map[string]string{"Content-Type": "text/plain"},
		UserMeta:     map[string]string{"color": "blue"},
		Tags:         map[string]string{"team": "storage"},
		Checksum:     meta.Checksum{Algorithm: "CRC32C", Value: "AAAAAA==", Type: "FULL_OBJECT"},
		Blobs:        []meta.BlobRef{blob},
	}
}

// put stores a new version of key and returns it as the store should
// return it now (version id set, latest).
func put(t *testing.T, s meta.Store, bucket, key string) (*meta.ObjectVersion, meta.PutResult) {
	t.Helper()
	v := newObj(bucket, key)
	vid := newVID()
	res, err := s.PutObject(t.Context(), v, vid, nil)
	must(t, err)
	v.VersionID = res.VersionID
	v.IsLatest = true
	return v, res
}

func get(t *testing.T, s meta.Store, bucket, key, versionID string) *meta.ObjectVersion {
	t.Helper()
	v, err := s.GetObject(t.Context(), bucket, key, versionID)
	if err != nil {
		t.Fatalf("GetObject(%q, %q): %v", key, versionID, err)
	}
	return v
}

func del(t *testing.T, s meta.Store, bucket, key, versionID string) meta.DeleteResult {
	t.Helper()
	res, err := s.DeleteObject(t.Context(), bucket, key, versionID, newVID(), nil)
	if err != nil {
		t.Fatalf("DeleteObject(%q, %q): %v", key, versionID, err)
	}
	return res
}

// ver summarizes a version for comparisons of whole listings.
type ver struct {
	Key, VersionID string
	DeleteMarker   bool
	IsLatest       bool
	ETag           string
}

func summarize(vs []*meta.ObjectVersion) []ver {
	out := make([]ver, 0, len(vs))
	for _, v := range vs {
		out = append(out, ver{v.Key, v.VersionID, v.DeleteMarker, v.IsLatest, v.ETag})
	}
	return out
}

// allVersions lists every version in the bucket with one call.
func allVersions(t *testing.T, s meta.Store, bucket string) []ver {
	t.Helper()
	res, err := s.ListVersions(t.Context(), bucket, meta.ListOptions{MaxKeys: 1 << 20})
	must(t, err)
	if res.IsTruncated {
		t.Fatal("ListVersions truncated a listing of everything")
	}
	return summarize(res.Objects)
}

// allKeys lists the keys of every live object in the bucket.
func allKeys(t *testing.T, s meta.Store, bucket string) []string {
	t.Helper()
	res, err := s.ListObjects(t.Context(), bucket, meta.ListOptions{MaxKeys: 1 << 20})
	must(t, err)
	keys := []string{}
	for _, v := range res.Objects {
		keys = append(keys, v.Key)
	}
	return keys
}

func blobIDs(refs []meta.BlobRef) []string {
	ids := []string{}
	for _, r := range refs {
		ids = append(ids, r.ID)
	}
	sort.Strings(ids)
	return ids
}

func idsOf(vs ...*meta.ObjectVersion) []string {
	var refs []meta.BlobRef
	for _, v := range vs {
		refs = append(refs, v.Blobs...)
	}
	return blobIDs(refs)
}

// errTest is a distinctive error for callbacks to return.
var errTest = errors.New("metatest: callback refused")
