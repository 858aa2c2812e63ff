package trail

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/audit"
)

// memDest is a bucket store in memory.
type memDest struct {
	mu   sync.Mutex
	objs map[string][]byte
	meta map[string]map[string]string
	mod  map[string]time.Time
	deny bool
}

func (m *memDest) CheckBucket(_ context.Context, bucket, _, _, _ string) error {
	if bucket == "missing" {
		return ErrNoSuchBucket
	}
	if m.deny {
		return ErrInsufficientPolicy
	}
	return nil
}

func (m *memDest) Put(_ context.Context, _, _, bucket, key string, body []byte, um map[string]string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objs[bucket+"/"+key] = body
	m.meta[bucket+"/"+key] = um
	m.mod[bucket+"/"+key] = time.Now()
	return nil
}

func (m *memDest) List(_ context.Context, bucket, prefix string) ([]ObjectInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []ObjectInfo
	for k := range m.objs {
		if rest, ok := strings.CutPrefix(k, bucket+"/"); ok && strings.HasPrefix(rest, prefix) {
			out = append(out, ObjectInfo{Key: rest, Modified: m.mod[k]})
		}
	}
	return out, nil
}

func (m *memDest) keys(bucket, prefix string) []string {
	objs, _ := m.List(context.Background(), bucket, prefix)
	var out []string
	for _, o := range objs {
		out = append(out, o.Key)
	}
	return out
}

func (m *memDest) Get(_ context.Context, bucket, key string) ([]byte, map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objs[bucket+"/"+key]
	if !ok {
		return nil, nil, ErrNotFound
	}
	return b, m.meta[bucket+"/"+key], nil
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestService(t *testing.T) (*Service, *memDest, *fakeClock, string) {
	t.Helper()
	dir := t.TempDir()
	j, err := OpenJournal(filepath.Join(dir, "journal"), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	keys, err := OpenKeys(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	dest := &memDest{objs: map[string][]byte{}, meta: map[string]map[string]string{}, mod: map[string]time.Time{}}
	local := filepath.Join(dir, "local")
	s, err := NewService(Config{Journal: j, Keys: keys, StatePath: filepath.Join(dir, "trails.json"), Region: "us-east-1",
		LocalDir: local, Dest: dest, DigestInterval: time.Hour, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s, dest, clk, local
}

func record(t *testing.T, s *Service, clk *fakeClock, acct, op string) {
	t.Helper()
	sink := &Sink{J: s.cfg.Journal}
	if err := sink.Record(t.Context(), &audit.Event{Time: clk.Now(), Service: "s3", Operation: op, PrincipalType: "Root",
		AccountID: acct, Bucket: "data", BucketOwner: acct, Outcome: audit.OutcomeSuccess}); err != nil {
		t.Fatal(err)
	}
}

func TestCreateTrailErrors(t *testing.T) {
	s, dest, _, _ := newTestService(t)
	ctx := t.Context()
	for _, tc := range []struct {
		in   CreateInput
		deny bool
		code string
	}{
		{CreateInput{Name: "a", S3BucketName: "logs"}, false, "InvalidTrailNameException"},
		{CreateInput{Name: "ok-trail", S3BucketName: "missing"}, false, "S3BucketDoesNotExistException"},
		{CreateInput{Name: "ok-trail", S3BucketName: "logs"}, true, "InsufficientS3BucketPolicyException"},
	} {
		dest.deny = tc.deny
		_, err := s.Create(ctx, "111122223333", tc.in)
		if e, ok := err.(*Error); !ok || e.Code != tc.code {
			t.Errorf("Create(%+v) = %v, want %s", tc.in, err, tc.code)
		}
	}
	dest.deny = false
	if _, err := s.Create(ctx, "111122223333", CreateInput{Name: "trail1", S3BucketName: "logs"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "111122223333", CreateInput{Name: "trail1", S3BucketName: "logs"}); err == nil || err.(*Error).Code != "TrailAlreadyExistsException" {
		t.Fatalf("duplicate: %v", err)
	}
}

func TestDeliveryDigestsAndValidation(t *testing.T) {
	s, dest, clk, local := newTestService(t)
	ctx := t.Context()
	const acct = "111122223333"
	if _, err := s.Create(ctx, acct, CreateInput{Name: "main", S3BucketName: "logs", S3KeyPrefix: "pfx", EnableLogFileValidation: true}); err != nil {
		t.Fatal(err)
	}
	record(t, s, clk, acct, "CreateBucket") // before logging: not delivered
	if err := s.StartLogging(ctx, acct, "main"); err != nil {
		t.Fatal(err)
	}
	// Three delivery rounds and two digests.
	for round := range 3 {
		for i := range 3 {
			record(t, s, clk, acct, fmt.Sprintf("PutBucketTagging%d", round*3+i))
		}
		record(t, s, clk, "999999999999", "OtherAccount")
		clk.Add(5 * time.Minute)
		s.DeliverAll(ctx)
		if round == 1 {
			clk.Add(time.Hour)
			s.DeliverAll(ctx)
		}
	}
	if err := s.StopLogging(ctx, acct, "main"); err != nil {
		t.Fatal(err)
	}
	logs := dest.keys("logs", "pfx/AWSLogs/"+acct+"/CloudTrail/us-east-1/")
	digests := dest.keys("logs", "pfx/AWSLogs/"+acct+"/CloudTrail-Digest/us-east-1/")
	if len(logs) != 3 || len(digests) != 2 {
		t.Fatalf("logs %v digests %v", logs, digests)
	}
	// Every record of the account after StartLogging, once.
	seen := map[string]int{}
	for _, k := range logs {
		b, _, _ := dest.Get(ctx, "logs", k)
		body, err := gunzip(b)
		if err != nil {
			t.Fatal(err)
		}
		var f struct{ Records []Record }
		if err := json.Unmarshal(body, &f); err != nil {
			t.Fatal(err)
		}
		for _, r := range f.Records {
			seen[r.EventName]++
		}
	}
	if len(seen) != 9 || seen["CreateBucket"] != 0 || seen["OtherAccount"] != 0 {
		t.Fatalf("delivered %v", seen)
	}
	pub := map[string][]byte{}
	for _, k := range s.Keys().Public(time.Time{}, time.Time{}) {
		pub[k.Fingerprint] = k.DER
	}
	in := ValidateInput{Account: acct, Region: "us-east-1", TrailName: "main", Bucket: "logs", Prefix: "pfx",
		Start: clk.Now().Add(-3 * time.Hour), End: clk.Now(), Keys: pub}
	for _, src := range []Source{dest, DirSource(local)} {
		rep, err := Validate(ctx, src, in)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.DigestsSeen != 2 || rep.LogsSeen != 3 {
			t.Fatalf("untouched: %+v", rep)
		}
	}

	// Tampering with the local copy.
	sort := func(ks []string) []string {
		out := append([]string(nil), ks...)
		for i := range out {
			for j := i + 1; j < len(out); j++ {
				if out[j] < out[i] {
					out[i], out[j] = out[j], out[i]
				}
			}
		}
		return out
	}
	logs, digests = sort(logs), sort(digests)
	path := func(k string) string { return filepath.Join(local, "logs", filepath.FromSlash(k)) }
	if err := os.Remove(path(logs[0])); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path(logs[1]), gz([]byte(`{"Records":[]}`)), 0o600); err != nil {
		t.Fatal(err)
	}
	inserted := logs[0][:len(logs[0])-24] + "AAAAAAAAAAAAAAAA.json.gz"
	if err := os.WriteFile(path(inserted), gz([]byte(`{"Records":[]}`)), 0o600); err != nil {
		t.Fatal(err)
	}
	db, _ := os.ReadFile(path(digests[1]))
	body, _ := gunzip(db)
	body = []byte(strings.Replace(string(body), `"SHA256withRSA"`, `"SHA256withRSA" `, 1))
	if err := os.WriteFile(path(digests[1]), gz(body), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := Validate(ctx, DirSource(local), in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		logs[0]:    "not found",
		logs[1]:    "hash value doesn't match",
		inserted:   "not named by any digest (inserted)",
		digests[1]: "signature verification failed",
	}
	got := map[string]string{}
	for _, f := range rep.Findings {
		if !f.Valid {
			got[f.Key] = f.Reason
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if rep.OK() {
		t.Fatal("tampered trail validated")
	}
}
