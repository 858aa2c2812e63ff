package lifecycle

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/objects"
	"github.com/coffer-io/coffer/internal/storage/blob/localfs"
	"github.com/coffer-io/coffer/internal/storage/meta"
	"github.com/coffer-io/coffer/internal/storage/meta/bolt"
)

func TestParse(t *testing.T) {
	rule := func(body string) string {
		return `<LifecycleConfiguration><Rule>` + body + `</Rule></LifecycleConfiguration>`
	}
	tests := []struct {
		name, doc string
		code      string // "" = valid
	}{
		{"expire days", rule(`<ID>r</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration>`), ""},
		{"legacy prefix", rule(`<Prefix>logs/</Prefix><Status>Enabled</Status><Expiration><Days>30</Days></Expiration>`), ""},
		{"empty filter", rule(`<Filter/><Status>Disabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>3</NewerNoncurrentVersions></NoncurrentVersionExpiration>`), ""},
		{"and filter", rule(`<Filter><And><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan></And></Filter><Status>Enabled</Status><Expiration><Date>2027-01-01T00:00:00Z</Date></Expiration>`), ""},
		{"abort uploads", rule(`<Filter><Prefix></Prefix></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload>`), ""},
		{"no rules", `<LifecycleConfiguration></LifecycleConfiguration>`, "MalformedXML"},
		{"no status", rule(`<Expiration><Days>1</Days></Expiration>`), "MalformedXML"},
		{"bad status", rule(`<Status>On</Status><Expiration><Days>1</Days></Expiration>`), "MalformedXML"},
		{"no action", rule(`<Status>Enabled</Status>`), "InvalidRequest"},
		{"zero days", rule(`<Status>Enabled</Status><Expiration><Days>0</Days></Expiration>`), "InvalidArgument"},
		{"days and date", rule(`<Status>Enabled</Status><Expiration><Days>1</Days><Date>2027-01-01T00:00:00Z</Date></Expiration>`), "MalformedXML"},
		{"date not midnight", rule(`<Status>Enabled</Status><Expiration><Date>2027-01-01T10:00:00Z</Date></Expiration>`), "InvalidArgument"},
		{"marker with days", rule(`<Status>Enabled</Status><Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`), "InvalidArgument"},
		{"prefix and filter", rule(`<Prefix>a</Prefix><Filter><Prefix>a</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`), "MalformedXML"},
		{"two filter conditions", rule(`<Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`), "MalformedXML"},
		{"abort with tags", rule(`<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>`), "InvalidRequest"},
		{"transition", rule(`<Status>Enabled</Status><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>`), "NotImplemented"},
		{"unknown element", rule(`<Status>Enabled</Status><Expiration><Days>1</Days></Expiration><Surprise/>`), "MalformedXML"},
		{"unknown in expiration", rule(`<Status>Enabled</Status><Expiration><Days>1</Days><Hours>2</Hours></Expiration>`), "MalformedXML"},
		{"newer out of range", rule(`<Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>101</NewerNoncurrentVersions></NoncurrentVersionExpiration>`), "InvalidArgument"},
		{"duplicate ids", `<LifecycleConfiguration><Rule><ID>a</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule><Rule><ID>a</ID><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule></LifecycleConfiguration>`, "InvalidArgument"},
	}
	for _, tc := range tests {
		_, err := Parse([]byte(tc.doc))
		var le *Error
		switch {
		case tc.code == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.code != "" && (!errors.As(err, &le) || le.Code != tc.code):
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
		}
	}
}

func TestDue(t *testing.T) {
	for _, tc := range []struct {
		created time.Time
		days    int
		day     time.Duration
		want    time.Time
	}{
		{time.Date(2026, 1, 1, 10, 30, 0, 0, time.UTC), 1, DefaultDay, time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)},
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 1, DefaultDay, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)},
		{time.Date(2026, 2, 28, 23, 59, 0, 0, time.UTC), 30, DefaultDay, time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)},
		// Another zone: rounding is to midnight UTC all the same.
		{time.Date(2026, 1, 1, 22, 0, 0, 0, time.FixedZone("X", -5*3600)), 1, DefaultDay, time.Date(2026, 1, 4, 0, 0, 0, 0, time.UTC)},
		// Short days for tests round up to the next whole day too.
		{time.Date(2026, 1, 1, 0, 0, 1, 500e6, time.UTC), 2, time.Second, time.Date(2026, 1, 1, 0, 0, 4, 0, time.UTC)},
		{time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC), 3, 2 * time.Second, time.Date(2026, 1, 1, 0, 0, 8, 0, time.UTC)},
		// Beyond a Duration: never.
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 1 << 40, DefaultDay, time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)},
	} {
		if got := due(tc.created, tc.days, tc.day); !got.Equal(tc.want) {
			t.Errorf("due(%v, %d, %v) = %v, want %v", tc.created, tc.days, tc.day, got, tc.want)
		}
	}
}

// TestWorker runs passes over real stores: current versions expire (a
// marker in versioned buckets), noncurrent versions beyond the newest
// kept go, a lone delete marker is removed, old uploads are aborted, and
// Object Lock keeps what it protects.
func TestWorker(t *testing.T) {
	dir := t.TempDir()
	m, err := bolt.Open(filepath.Join(dir, "meta.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	bs, err := localfs.Open(filepath.Join(dir, "blobs"), localfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bs.Close()
	svc := objects.New(m, bs, nil, nil)
	ctx := context.Background()
	created := time.Now().UTC().Add(-10 * 24 * time.Hour)
	cfg := func(rules string) map[string][]byte {
		return map[string][]byte{ConfigName: []byte(`<LifecycleConfiguration>` + rules + `</LifecycleConfiguration>`)}
	}
	for _, b := range []*meta.Bucket{
		{Name: "plain", Owner: "1", Configs: cfg(`<Rule><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>5</Days></Expiration></Rule>
			<Rule><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>`)},
		{Name: "vers", Owner: "1", Versioning: meta.VersioningEnabled, Configs: cfg(`<Rule><Status>Enabled</Status>
			<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>1</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>
			<Rule><Filter><Prefix>gone</Prefix></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>`)},
		{Name: "lock", Owner: "1", Versioning: meta.VersioningEnabled, ObjectLockEnabled: true, Configs: cfg(`<Rule><Status>Enabled</Status>
			<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>`)},
		{Name: "off", Owner: "1", Configs: cfg(`<Rule><Status>Disabled</Status><Expiration><Days>1</Days></Expiration></Rule>`)},
	} {
		if err := m.CreateBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	put := func(bucket, key string, age time.Duration, edit func(v *meta.ObjectVersion)) string {
		t.Helper()
		v := &meta.ObjectVersion{Bucket: bucket, Key: key, Owner: "1", LastModified: created.Add(age)}
		if edit != nil {
			edit(v)
		}
		res, err := m.PutObject(ctx, v, objects.NewVersionID(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.VersionID
	}
	put("plain", "logs/old", 0, nil)
	put("plain", "logs/new", 9*24*time.Hour, nil)
	put("plain", "keep/old", 0, nil)
	put("off", "logs/old", 0, nil)
	if err := m.CreateUpload(ctx, &meta.Upload{Bucket: "plain", Key: "u", UploadID: "old-upload", Owner: "1", Initiated: created}); err != nil {
		t.Fatal(err)
	}
	v1 := put("vers", "k", 0, nil)
	v2 := put("vers", "k", time.Hour, nil)
	v3 := put("vers", "k", 2*time.Hour, nil)
	put("vers", "gone", 0, func(v *meta.ObjectVersion) { v.DeleteMarker = true })
	l1 := put("lock", "k", 0, func(v *meta.ObjectVersion) {
		v.Retention = &meta.Retention{Mode: meta.LockCompliance, Until: time.Now().Add(time.Hour)}
	})
	put("lock", "k", time.Hour, nil)

	w := &Worker{Objects: svc}
	rep, err := w.Run(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := Report{Expired: 1, NoncurrentExpired: 1, MarkersRemoved: 1, UploadsAborted: 1, Protected: 1}
	if rep != want {
		t.Errorf("report %+v, want %+v", rep, want)
	}
	exists := func(bucket, key, vid string) bool {
		_, err := m.GetObject(ctx, bucket, key, vid)
		return err == nil
	}
	for _, tc := range []struct {
		bucket, key, vid string
		want             bool
	}{
		{"plain", "logs/old", "", false}, {"plain", "logs/new", "", true}, {"plain", "keep/old", "", true}, {"off", "logs/old", "", true},
		{"vers", "k", v1, false}, {"vers", "k", v2, true}, {"vers", "k", v3, true}, {"vers", "gone", "", false},
		{"lock", "k", l1, true},
	} {
		if got := exists(tc.bucket, tc.key, tc.vid); got != tc.want {
			t.Errorf("%s/%s@%s exists = %v, want %v", tc.bucket, tc.key, tc.vid, got, tc.want)
		}
	}
	if _, err := m.GetUpload(ctx, "plain", "u", "old-upload"); !errors.Is(err, meta.ErrUploadNotFound) {
		t.Errorf("old upload: %v", err)
	}
	// A second pass finds nothing more to do.
	if rep, err := w.Run(ctx, time.Now()); err != nil || rep != (Report{Protected: 1}) {
		t.Errorf("second pass: %+v %v", rep, err)
	}
}
