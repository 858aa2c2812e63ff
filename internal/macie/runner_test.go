package macie

import (
	"bytes"
	"context"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

// objectsFake is the object layer as the runner sees it, in memory.
type objectsFake struct {
	mu      sync.Mutex
	buckets map[string]*meta.Bucket
	objs    map[string][]*meta.ObjectVersion // bucket → versions
	data    map[string]string                // bucket/key → body
	opens   int
}

func (o *objectsFake) GetBucket(_ context.Context, name string) (*meta.Bucket, error) {
	if b, ok := o.buckets[name]; ok {
		return b, nil
	}
	return nil, meta.ErrBucketNotFound
}

func (o *objectsFake) ListObjects(_ context.Context, bucket string, opts meta.ListOptions) (meta.ListResult, error) {
	vs := o.objs[bucket]
	sort.Slice(vs, func(i, j int) bool { return vs[i].Key < vs[j].Key })
	var out meta.ListResult
	for _, v := range vs {
		if v.Key > opts.Marker {
			out.Objects = append(out.Objects, v)
		}
	}
	return out, nil
}

func (o *objectsFake) GetObject(_ context.Context, bucket, key, _ string) (*meta.ObjectVersion, error) {
	for _, v := range o.objs[bucket] {
		if v.Key == key {
			return v, nil
		}
	}
	return nil, meta.ErrNotFound
}

func (o *objectsFake) Open(_ context.Context, v *meta.ObjectVersion) (io.ReadCloser, error) {
	o.mu.Lock()
	o.opens++
	o.mu.Unlock()
	return io.NopCloser(bytes.NewReader([]byte(o.data[v.Bucket+"/"+v.Key]))), nil
}

func (o *objectsFake) ListAccounts(context.Context) ([]string, error) { return []string{acct}, nil }

func (o *objectsFake) put(bucket, key, body string, enc *meta.Encryption) {
	o.objs[bucket] = append(o.objs[bucket], &meta.ObjectVersion{Bucket: bucket, Key: key, VersionID: "v1", ETag: `"` + key + `"`,
		Size: int64(len(body)), LastModified: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Encryption: enc})
	o.data[bucket+"/"+key] = body
}

func TestRunnerRunsJobs(t *testing.T) {
	s := newService(t)
	objs := &objectsFake{buckets: map[string]*meta.Bucket{"b": {Name: "b", Owner: acct}}, objs: map[string][]*meta.ObjectVersion{}, data: map[string]string{}}
	objs.put("b", "cards.txt", "Credit card number: 4532 0151 1283 0366\n", nil)
	objs.put("b", "keys.env", "aws_access_key_id = AKIAQ3EGRFXZ7KLMN2PB\naws_secret_access_key = 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\n", nil)
	objs.put("b", "plain.txt", "tomatoes and basil\n", nil)
	objs.put("b", "customer.bin", "Credit card number: 4532 0151 1283 0366\n", &meta.Encryption{Algorithm: meta.SSEC})
	public := false
	var published []string
	r := &Runner{Svc: s, Objects: objs, Parallel: 2,
		Access: func(context.Context, *meta.Bucket) BucketAccess {
			return BucketAccess{Public: public, EncryptionType: "AES256", BlockPublicAccess: !public}
		},
		Publish: func(f *Finding) { published = append(published, f.Type) }}
	_, out, code := call(t, s, "POST", "/jobs", `{"jobType":"ONE_TIME","name":"j","s3JobDefinition":{"bucketDefinitions":[{"accountId":"`+acct+`","buckets":["b"]}]}}`)
	if code != "" {
		t.Fatal(code)
	}
	id := out["jobId"].(string)
	if err := r.Run(context.Background(), acct, id); err != nil {
		t.Fatal(err)
	}
	j, _ := s.job(context.Background(), acct, id)
	if j.JobStatus != JobComplete || j.Statistics.NumberOfRuns != 1 || j.LastRunErrorStatus.Code != "ERROR" {
		t.Fatalf("job after run: status %s runs %v error %s (the SSE-C object cannot be read)", j.JobStatus, j.Statistics.NumberOfRuns, j.LastRunErrorStatus.Code)
	}
	fs, err := s.Findings(context.Background(), acct, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, f := range fs {
		key := "-"
		if o := f.ResourcesAffected.S3Object; o != nil {
			key = o.Key
		}
		types[key] = f.Type + " " + f.Severity.Description
	}
	want := map[string]string{"cards.txt": "SensitiveData:S3Object/Financial Medium", "keys.env": "SensitiveData:S3Object/Credentials High"}
	for k, v := range want {
		if types[k] != v {
			t.Errorf("%s: %q, want %q (all: %v)", k, types[k], v, types)
		}
	}
	if _, ok := types["plain.txt"]; ok {
		t.Error("finding for plain.txt")
	}
	if _, ok := types["customer.bin"]; ok {
		t.Error("finding for the unreadable SSE-C object")
	}
	if objs.opens != 3 {
		t.Errorf("opened %d objects, want 3 (SSE-C is not opened)", objs.opens)
	}

	// A second job with the same identifiers reuses the kept results of
	// unchanged versions.
	_, out, _ = call(t, s, "POST", "/jobs", `{"jobType":"ONE_TIME","name":"j2","s3JobDefinition":{"bucketDefinitions":[{"accountId":"`+acct+`","buckets":["b"]}]}}`)
	if err := r.Run(context.Background(), acct, out["jobId"].(string)); err != nil {
		t.Fatal(err)
	}
	if objs.opens != 3 {
		t.Errorf("unchanged objects were scanned again: %d opens", objs.opens)
	}

	// The bucket goes public: severity rises, a policy finding appears.
	public = true
	if err := r.BucketChanged(context.Background(), "b"); err != nil {
		t.Fatal(err)
	}
	fs, _ = s.Findings(context.Background(), acct, map[string]Criterion{"resourcesAffected.s3Object.key": {Eq: []string{"cards.txt"}}}, nil)
	for _, f := range fs {
		if f.Severity.Description != "High" || f.ResourcesAffected.S3Bucket.PublicAccess.EffectivePermission != "PUBLIC" {
			t.Errorf("after going public: %+v %+v", f.Severity, f.ResourcesAffected.S3Bucket.PublicAccess)
		}
	}
	pol, _ := s.Findings(context.Background(), acct, map[string]Criterion{"category": {Eq: []string{"POLICY"}}}, nil)
	var got []string
	for _, f := range pol {
		got = append(got, f.Type)
	}
	sort.Strings(got)
	if strings.Join(got, ",") != PolicyBPADisabled+","+PolicyPublic {
		t.Errorf("policy findings: %v", got)
	}
	// Back to private: the policy findings are archived.
	public = false
	_ = r.BucketChanged(context.Background(), "b")
	pol, _ = s.Findings(context.Background(), acct, map[string]Criterion{"category": {Eq: []string{"POLICY"}}}, nil)
	if len(pol) != 0 {
		t.Errorf("policy findings after going private: %d current", len(pol))
	}
	if len(published) == 0 {
		t.Error("no finding published")
	}
}

func (o *objectsFake) ListBuckets(_ context.Context, owner string) ([]*meta.Bucket, error) {
	var out []*meta.Bucket
	for _, b := range o.buckets {
		if b.Owner == owner {
			out = append(out, b)
		}
	}
	return out, nil
}

func TestAutomatedDiscovery(t *testing.T) {
	s := newService(t)
	objs := &objectsFake{buckets: map[string]*meta.Bucket{"b": {Name: "b", Owner: acct}}, objs: map[string][]*meta.ObjectVersion{}, data: map[string]string{}}
	objs.put("b", "a.txt", "Credit card number: 4532 0151 1283 0366\n", nil)
	objs.put("b", "b.txt", "nothing here\n", nil)
	objs.put("b", "c.env", "aws_access_key_id = AKIAQ3EGRFXZ7KLMN2PB\naws_secret_access_key = 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\n", nil)
	r := &Runner{Svc: s, Objects: objs, AutoRate: 2}
	ctx := context.Background()
	r.Automated(ctx)
	if objs.opens != 0 {
		t.Fatalf("automated discovery ran while disabled: %d opens", objs.opens)
	}
	if _, _, code := call(t, s, "PUT", "/automated-discovery/configuration", `{"status":"ENABLED"}`); code != "" {
		t.Fatal(code)
	}
	_, c, _ := call(t, s, "GET", "/automated-discovery/configuration", "")
	if c["status"] != "ENABLED" || c["firstEnabledAt"] == nil {
		t.Fatalf("configuration: %v", c)
	}
	r.Automated(ctx) // the rate allows two objects a pass
	if objs.opens != 2 {
		t.Fatalf("first pass opened %d, want 2", objs.opens)
	}
	r.Automated(ctx)
	if objs.opens != 3 {
		t.Fatalf("second pass opened %d in all, want 3", objs.opens)
	}
	r.Automated(ctx) // nothing new
	if objs.opens != 3 {
		t.Fatalf("unchanged objects rescanned: %d", objs.opens)
	}
	objs.objs["b"][1].ETag = `"changed"`
	r.Automated(ctx)
	if objs.opens != 4 {
		t.Fatalf("changed object not rescanned: %d", objs.opens)
	}
	fs, _ := s.Findings(ctx, acct, map[string]Criterion{"classificationDetails.originType": {Eq: []string{"AUTOMATED_SENSITIVE_DATA_DISCOVERY"}}}, nil)
	if len(fs) != 2 {
		t.Fatalf("automated findings: %d, want 2", len(fs))
	}
}

func TestRunnerSchedules(t *testing.T) {
	s := newService(t)
	var mu sync.Mutex
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	objs := &objectsFake{buckets: map[string]*meta.Bucket{"b": {Name: "b", Owner: acct}}, objs: map[string][]*meta.ObjectVersion{}, data: map[string]string{}}
	objs.put("b", "cards.txt", "Credit card number: 4532 0151 1283 0366\n", nil)
	r := &Runner{Svc: s, Objects: objs, Poll: 10 * time.Millisecond}
	s.Jobs = r
	ctx, cancel := context.WithCancel(context.Background())
	done := r.Start(ctx)
	defer func() { cancel(); <-done }()
	_, out, code := call(t, s, "POST", "/jobs", `{"jobType":"SCHEDULED","name":"daily","scheduleFrequency":{"dailySchedule":{}},"s3JobDefinition":{"bucketDefinitions":[{"accountId":"`+acct+`","buckets":["b"]}]}}`)
	if code != "" {
		t.Fatal(code)
	}
	id := out["jobId"].(string)
	waitRuns := func(n float64) *Job {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if j, err := s.job(context.Background(), acct, id); err == nil && j.Statistics.NumberOfRuns == n && j.JobStatus == JobIdle {
				return j
			}
		}
		j, _ := s.job(context.Background(), acct, id)
		t.Fatalf("job never reached run %v: %+v", n, j)
		return nil
	}
	j := waitRuns(1)
	if j.NextRun != "2026-01-06T00:00:00.000Z" {
		t.Fatalf("next run %q", j.NextRun)
	}
	time.Sleep(50 * time.Millisecond)
	if j, _ := s.job(context.Background(), acct, id); j.Statistics.NumberOfRuns != 1 {
		t.Fatalf("ran again before it was due: %v", j.Statistics.NumberOfRuns)
	}
	mu.Lock()
	now = now.Add(24 * time.Hour)
	mu.Unlock()
	waitRuns(2)
	fs, _ := s.Findings(context.Background(), acct, map[string]Criterion{"category": {Eq: []string{"CLASSIFICATION"}}}, nil)
	if len(fs) != 1 || fs[0].Count != 2 {
		t.Fatalf("a rerun updates its finding: %d findings, count %v", len(fs), fs[0].Count)
	}
}
