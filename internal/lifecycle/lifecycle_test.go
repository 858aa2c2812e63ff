package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/audit"
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
		{"marker with days", rule(`<Status>Enabled</Status><Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`), "MalformedXML"},
		{"marker with date", rule(`<Status>Enabled</Status><Expiration><Date>2027-01-01T00:00:00Z</Date><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`), "MalformedXML"},
		{"empty expiration", rule(`<Status>Enabled</Status><Expiration></Expiration>`), "MalformedXML"},
		{"marker with tag", rule(`<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`), "InvalidRequest"},
		{"marker with size", rule(`<Filter><ObjectSizeGreaterThan>5</ObjectSizeGreaterThan></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`), "InvalidRequest"},
		{"marker with prefix", rule(`<Filter><Prefix>a/</Prefix></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`), ""},
		{"date only", rule(`<Status>Enabled</Status><Filter/><Expiration><Date>2027-01-01</Date></Expiration>`), ""},
		{"date bad", rule(`<Status>Enabled</Status><Filter/><Expiration><Date>tomorrow</Date></Expiration>`), "InvalidArgument"},
		{"negative days", rule(`<Status>Enabled</Status><Expiration><Days>-3</Days></Expiration>`), "InvalidArgument"},
		{"size filters", rule(`<Filter><And><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>100</ObjectSizeLessThan></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`), ""},
		{"size lt only", rule(`<Filter><ObjectSizeLessThan>100</ObjectSizeLessThan></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`), ""},
		{"size range inverted", rule(`<Filter><And><ObjectSizeGreaterThan>100</ObjectSizeGreaterThan><ObjectSizeLessThan>100</ObjectSizeLessThan></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`), "InvalidRequest"},
		{"size lt zero", rule(`<Filter><ObjectSizeLessThan>0</ObjectSizeLessThan></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`), "InvalidRequest"},
		{"size gt negative", rule(`<Filter><ObjectSizeGreaterThan>-1</ObjectSizeGreaterThan></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`), "InvalidRequest"},
		{"size too large", rule(`<Filter><ObjectSizeGreaterThan>1099511627776001</ObjectSizeGreaterThan></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`), "InvalidRequest"},
		{"and one predicate", rule(`<Filter><And><Prefix>a</Prefix></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`), "MalformedXML"},
		{"and two tags", rule(`<Filter><And><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2</Value></Tag></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`), ""},
		{"and duplicate tags", rule(`<Filter><And><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>a</Key><Value>2</Value></Tag></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`), "InvalidRequest"},
		{"abort with size", rule(`<Filter><ObjectSizeGreaterThan>1</ObjectSizeGreaterThan></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>`), "InvalidRequest"},
		{"abort with and tags", rule(`<Filter><And><Prefix>p</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>`), "InvalidRequest"},
		{"abort no days", rule(`<Status>Enabled</Status><AbortIncompleteMultipartUpload></AbortIncompleteMultipartUpload>`), "MalformedXML"},
		{"abort zero days", rule(`<Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>0</DaysAfterInitiation></AbortIncompleteMultipartUpload>`), "InvalidArgument"},
		{"noncurrent no days", rule(`<Status>Enabled</Status><NoncurrentVersionExpiration><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>`), "MalformedXML"},
		{"newer zero", rule(`<Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>0</NewerNoncurrentVersions></NoncurrentVersionExpiration>`), "InvalidArgument"},
		{"newer with legacy prefix", rule(`<Prefix>a</Prefix><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>`), "InvalidRequest"},
		{"noncurrent transition", rule(`<Status>Enabled</Status><NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>`), "NotImplemented"},
		{"long id", `<LifecycleConfiguration><Rule><ID>` + strings.Repeat("x", 256) + `</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`, "InvalidArgument"},
		{"max id", `<LifecycleConfiguration><Rule><ID>` + strings.Repeat("x", 255) + `</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`, ""},
		{"too many rules", `<LifecycleConfiguration>` + strings.Repeat(`<Rule><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`, MaxRules+1) + `</LifecycleConfiguration>`, "InvalidRequest"},
		{"max rules", `<LifecycleConfiguration>` + strings.Repeat(`<Rule><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`, MaxRules) + `</LifecycleConfiguration>`, ""},
		{"unknown top level", `<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule><Extra/></LifecycleConfiguration>`, "MalformedXML"},
		{"unknown in filter", rule(`<Filter><Suffix>.log</Suffix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`), "MalformedXML"},
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
	h1 := put("lock", "held", 0, func(v *meta.ObjectVersion) { v.LegalHold = true })
	put("lock", "held", time.Hour, nil)

	sink := &audit.Memory{}
	w := &Worker{Objects: svc, Audit: sink}
	rep, err := w.Run(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := Report{Expired: 1, NoncurrentExpired: 1, MarkersRemoved: 1, UploadsAborted: 1, Protected: 2}
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
		{"lock", "k", l1, true}, {"lock", "held", h1, true},
	} {
		if got := exists(tc.bucket, tc.key, tc.vid); got != tc.want {
			t.Errorf("%s/%s@%s exists = %v, want %v", tc.bucket, tc.key, tc.vid, got, tc.want)
		}
	}
	if _, err := m.GetUpload(ctx, "plain", "u", "old-upload"); !errors.Is(err, meta.ErrUploadNotFound) {
		t.Errorf("old upload: %v", err)
	}
	// One audit event per action, and one per version Object Lock kept.
	type rec struct{ op, bucket, key, version, upload, outcome string }
	var got []rec
	for _, e := range sink.Events() {
		if e.InvokedBy != ServicePrincipal || e.PrincipalType != "AWSService" || e.AccountID != "1" || e.RequestID == "" {
			t.Errorf("event principal: %+v", e)
		}
		got = append(got, rec{e.Operation, e.Bucket, e.Key, e.VersionID, e.UploadID, e.Outcome})
	}
	wantEvents := []rec{
		{OpExpireObject, "lock", "held", h1, "", audit.OutcomeDenied},
		{OpExpireObject, "lock", "k", l1, "", audit.OutcomeDenied},
		{OpExpireObject, "plain", "logs/old", "", "", audit.OutcomeSuccess},
		{OpDeleteUpload, "plain", "u", "", "old-upload", audit.OutcomeSuccess},
		{OpExpireObject, "vers", "gone", "", "", audit.OutcomeSuccess},
		{OpExpireObject, "vers", "k", v1, "", audit.OutcomeSuccess},
	}
	for i := range got {
		if got[i].key == "gone" {
			got[i].version = "" // the marker's generated id
		}
		if got[i].bucket == "plain" && got[i].op == OpExpireObject {
			got[i].version = "" // "null" or none, by store
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(wantEvents) {
		t.Errorf("audit events:\n got %v\nwant %v", got, wantEvents)
	}
	// A second pass finds nothing more to do, and does not record the
	// protected versions again.
	if rep, err := w.Run(ctx, time.Now()); err != nil || rep != (Report{Protected: 2}) {
		t.Errorf("second pass: %+v %v", rep, err)
	}
	if n := len(sink.Events()); n != len(wantEvents) {
		t.Errorf("second pass recorded %d more events", n-len(wantEvents))
	}
}

// TestWorkerVersioned: in a versioned bucket an expired current version
// gets a delete marker (recorded as S3.CREATE.DELETEMARKER), size and tag
// filters select versions, and a lone delete marker past a Days rule goes.
func TestWorkerVersioned(t *testing.T) {
	m, svc := stores(t)
	ctx := context.Background()
	now := time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC)
	day := time.Hour
	if err := m.CreateBucket(ctx, &meta.Bucket{Name: "v", Owner: "1", Versioning: meta.VersioningEnabled, Configs: map[string][]byte{ConfigName: []byte(`<LifecycleConfiguration>
		<Rule><ID>big</ID><Filter><And><Prefix>s/</Prefix><ObjectSizeGreaterThan>100</ObjectSizeGreaterThan></And></Filter><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>
		<Rule><ID>tagged</ID><Filter><Tag><Key>tmp</Key><Value>yes</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>
		<Rule><ID>markers</ID><Filter><Prefix>m/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>
		</LifecycleConfiguration>`)}}); err != nil {
		t.Fatal(err)
	}
	put := func(key string, size int64, age time.Duration, tags map[string]string, marker bool) {
		t.Helper()
		v := &meta.ObjectVersion{Bucket: "v", Key: key, Owner: "1", Size: size, Tags: tags, DeleteMarker: marker, LastModified: now.Add(-age)}
		if _, err := m.PutObject(ctx, v, objects.NewVersionID(), nil); err != nil {
			t.Fatal(err)
		}
	}
	put("s/big", 1000, 3*day, nil, false)
	put("s/small", 10, 3*day, nil, false)
	put("s/young", 1000, day/2, nil, false)
	put("t/tagged", 1, 3*day, map[string]string{"tmp": "yes"}, false)
	put("t/other", 1, 3*day, map[string]string{"tmp": "no"}, false)
	put("m/gone", 0, 3*day, nil, true)
	put("m/recent", 0, day/4, nil, true)

	sink := &audit.Memory{}
	w := &Worker{Objects: svc, Audit: sink, Day: day}
	rep, err := w.Run(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Report{Expired: 2, MarkersRemoved: 1}); rep != want {
		t.Errorf("report %+v, want %+v", rep, want)
	}
	got := map[string]string{}
	for _, e := range sink.Events() {
		got[e.Key] = e.Operation + " " + e.RuleID
	}
	want := map[string]string{"s/big": OpCreateDeleteMarker + " big", "t/tagged": OpCreateDeleteMarker + " tagged", "m/gone": OpExpireObject + " markers"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events %v, want %v", got, want)
	}
	for key, gone := range map[string]bool{"s/big": true, "t/tagged": true, "s/small": false, "s/young": false, "t/other": false} {
		v, err := m.GetObject(ctx, "v", key, "")
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if v.DeleteMarker != gone {
			t.Errorf("%s: current is a delete marker = %v, want %v", key, v.DeleteMarker, gone)
		}
	}
}

func stores(t *testing.T) (meta.Store, *objects.Service) {
	t.Helper()
	dir := t.TempDir()
	m, err := bolt.Open(filepath.Join(dir, "meta.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	bs, err := localfs.Open(filepath.Join(dir, "blobs"), localfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	return m, objects.New(m, bs, nil, nil)
}

// TestLimiter: a burst of the rate, then one action per 1/rate.
func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewLimiter(10)
	l.now = func() time.Time { return now }
	for i := range 10 {
		if d := l.reserve(); d != 0 {
			t.Fatalf("action %d of the burst waits %v", i, d)
		}
	}
	if d := l.reserve(); d != 100*time.Millisecond {
		t.Fatalf("11th action waits %v, want 100ms", d)
	}
	if d := l.reserve(); d != 200*time.Millisecond {
		t.Fatalf("12th action waits %v, want 200ms", d)
	}
	// Over a second, ten more tokens come (less the two owed); the bucket
	// never holds more than the burst.
	now = now.Add(time.Second)
	for i := range 8 {
		if d := l.reserve(); d != 0 {
			t.Fatalf("after a second, action %d waits %v", i, d)
		}
	}
	if d := l.reserve(); d == 0 {
		t.Fatal("the limiter let more than the rate through")
	}
	now = now.Add(time.Hour)
	n := 0
	for l.reserve() == 0 {
		n++
	}
	if n != 10 {
		t.Fatalf("after an idle hour the burst is %d, want 10", n)
	}
	// Wait gives up with the context, handing its token back.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a cancelled context: %v", err)
	}
}

// countingObjects cancels a pass after a number of deletions and notes
// where each listing started.
type countingObjects struct {
	*objects.Service
	left    int
	cancel  context.CancelFunc
	markers []string
}

func (c *countingObjects) DeleteObject(ctx context.Context, bucket, key, versionID string) (meta.DeleteResult, error) {
	res, err := c.Service.DeleteObject(ctx, bucket, key, versionID)
	if c.left--; c.left == 0 {
		c.cancel()
	}
	return res, err
}

func (c *countingObjects) Meta() meta.Store { return listSpy{c.Service.Meta(), c} }

type listSpy struct {
	meta.Store
	c *countingObjects
}

func (l listSpy) ListVersions(ctx context.Context, bucket string, o meta.ListOptions) (meta.ListResult, error) {
	l.c.markers = append(l.c.markers, bucket+"/"+o.Marker)
	return l.Store.ListVersions(ctx, bucket, o)
}

// TestWorkerResumes: a pass cut short (its context ends, as when the
// rate bound makes it outlast its time) reports Incomplete, and the next
// pass starts after the last key it finished, not from the beginning.
func TestWorkerResumes(t *testing.T) {
	m, svc := stores(t)
	ctx := context.Background()
	now := time.Now()
	for _, b := range []string{"a", "b"} {
		if err := m.CreateBucket(ctx, &meta.Bucket{Name: b, Owner: "1", Configs: map[string][]byte{ConfigName: []byte(
			`<LifecycleConfiguration><Rule><ID>all</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`)}}); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			v := &meta.ObjectVersion{Bucket: b, Key: fmt.Sprintf("k%d", i), Owner: "1", LastModified: now.Add(-72 * time.Hour)}
			if _, err := m.PutObject(ctx, v, objects.NewVersionID(), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	passCtx, cancel := context.WithCancel(ctx)
	c := &countingObjects{Service: svc, left: 7, cancel: cancel}
	w := &Worker{Objects: c, Limit: NewLimiter(1000)}
	rep, err := w.Run(passCtx, now)
	if err != nil || !rep.Incomplete || rep.Expired != 7 {
		t.Fatalf("first pass: %+v %v", rep, err)
	}
	c.markers, c.left = nil, -1
	rep, err = w.Run(ctx, now)
	if err != nil || rep.Incomplete || rep.Expired != 3 {
		t.Fatalf("second pass: %+v %v", rep, err)
	}
	// Bucket b's listing resumes after k1, the last key the first pass
	// finished; a's keys are not listed again.
	if len(c.markers) == 0 || c.markers[0] != "b/k1" {
		t.Fatalf("second pass listed from %v, want b/k1 first", c.markers)
	}
	if rep, err := w.Run(ctx, now); err != nil || rep != (Report{}) {
		t.Fatalf("third pass: %+v %v", rep, err)
	}
}
