package configrec_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/audit"
	"github.com/coffer-io/coffer/internal/configrec"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

const acct = "111111111111"

type fakeSource struct {
	mu       sync.Mutex
	buckets  map[string]*meta.Bucket
	settings map[string]*meta.AccountSettings
}

func (f *fakeSource) GetBucket(_ context.Context, name string) (*meta.Bucket, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.buckets[name]
	if !ok {
		return nil, meta.ErrBucketNotFound
	}
	c := *b
	return &c, nil
}

func (f *fakeSource) ListBuckets(_ context.Context, owner string) ([]*meta.Bucket, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*meta.Bucket
	for _, b := range f.buckets {
		if b.Owner == owner {
			c := *b
			out = append(out, &c)
		}
	}
	return out, nil
}

func (f *fakeSource) GetAccount(_ context.Context, id string) (*meta.Account, error) {
	return &meta.Account{ID: id, CanonicalID: "c0ffee"}, nil
}

func (f *fakeSource) ListAccounts(context.Context) ([]*meta.Account, error) {
	return []*meta.Account{{ID: acct, CanonicalID: "c0ffee"}}, nil
}

func (f *fakeSource) GetAccountSettings(_ context.Context, id string) (*meta.AccountSettings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.settings[id]; ok {
		return s, nil
	}
	return &meta.AccountSettings{}, nil
}

func (f *fakeSource) set(name string, fn func(b *meta.Bucket)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.buckets[name]
	if b == nil {
		b = &meta.Bucket{Name: name, Owner: acct, CreatedAt: time.Unix(1700000000, 0)}
		f.buckets[name] = b
	}
	if b.Configs == nil {
		b.Configs = map[string][]byte{}
	}
	fn(b)
}

func event(op, bucket string) *audit.Event {
	return &audit.Event{Service: "s3", Operation: op, Bucket: bucket, AccountID: acct, PrincipalARN: "arn:aws:iam::" + acct + ":user/alice", RequestID: "req-" + op, Outcome: audit.OutcomeSuccess}
}

func TestRecorder(t *testing.T) {
	ctx := t.Context()
	src := &fakeSource{buckets: map[string]*meta.Bucket{}, settings: map[string]*meta.AccountSettings{}}
	src.set("logs", func(*meta.Bucket) {})
	st := configrec.NewMemoryStore()
	var changes []string
	clock := time.Unix(1800000000, 0)
	rec := &configrec.Recorder{Store: st, Source: src, Region: "us-east-1", Now: func() time.Time { clock = clock.Add(time.Second); return clock }}
	rec.OnChange(func(_ context.Context, prev, cur *configrec.Record) {
		changes = append(changes, cur.Item.ResourceID+":"+cur.Item.Status+":"+cur.Operation)
	})
	rec.Start(ctx)
	defer rec.Close()
	rec.Flush()

	key := configrec.ResourceKey{Account: acct, Type: configrec.TypeBucket, ID: "logs"}
	// An event that changes nothing records nothing.
	rec.Record(ctx, event("PutBucketTagging", "logs"))
	rec.Flush()
	// A change records one item with who made it.
	src.set("logs", func(b *meta.Bucket) { b.Configs["policy"] = []byte(`{"Version":"2012-10-17","Statement":[]}`) })
	rec.Record(ctx, event("PutBucketPolicy", "logs"))
	rec.Flush()
	// Failures and object operations are ignored.
	src.set("logs", func(b *meta.Bucket) { b.Versioning = "Enabled" })
	denied := event("PutBucketVersioning", "logs")
	denied.Outcome = audit.OutcomeDenied
	rec.Record(ctx, denied)
	obj := event("PutObject", "logs")
	obj.Key = "k"
	rec.Record(ctx, obj)
	rec.Flush()
	h, err := st.History(ctx, key, time.Time{}, time.Time{})
	if err != nil || len(h) != 2 {
		t.Fatalf("history %d items, %v; want baseline + policy", len(h), err)
	}
	if h[0].Item.Status != configrec.StatusDiscovered || h[1].Item.Status != "OK" {
		t.Fatalf("statuses %s, %s", h[0].Item.Status, h[1].Item.Status)
	}
	if h[1].ChangedBy != "arn:aws:iam::"+acct+":user/alice" || h[1].Operation != "PutBucketPolicy" {
		t.Fatalf("change by %q op %q", h[1].ChangedBy, h[1].Operation)
	}
	var pol configrec.PolicyConfig
	if err := json.Unmarshal([]byte(h[1].Item.SupplementaryConfiguration[configrec.SupPolicy]), &pol); err != nil || pol.PolicyText == nil {
		t.Fatalf("policy supplementary %q", h[1].Item.SupplementaryConfiguration[configrec.SupPolicy])
	}
	if h[1].Item.StateID <= h[0].Item.StateID && len(h[1].Item.StateID) <= len(h[0].Item.StateID) {
		t.Fatalf("state ids %s, %s not increasing", h[0].Item.StateID, h[1].Item.StateID)
	}

	// Stopped: changes are not recorded; started again, the recorder
	// catches up.
	if err := rec.SetRecording(ctx, acct, "default", false); err != nil {
		t.Fatal(err)
	}
	rec.Record(ctx, event("PutBucketVersioning", "logs"))
	rec.Flush()
	if h, _ := st.History(ctx, key, time.Time{}, time.Time{}); len(h) != 2 {
		t.Fatalf("stopped recorder recorded: %d items", len(h))
	}
	if err := rec.SetRecording(ctx, acct, "nope", true); err != configrec.ErrNoRecorder {
		t.Fatalf("unknown recorder: %v", err)
	}
	if err := rec.SetRecording(ctx, acct, "default", true); err != nil {
		t.Fatal(err)
	}
	rec.Flush()
	h, _ = st.History(ctx, key, time.Time{}, time.Time{})
	if len(h) != 3 || h[2].Operation != "StartConfigurationRecorder" {
		t.Fatalf("after restart %d items", len(h))
	}
	var ver configrec.VersioningConfig
	json.Unmarshal([]byte(h[2].Item.SupplementaryConfiguration[configrec.SupVersioning]), &ver)
	if ver.Status != "Enabled" {
		t.Fatalf("versioning %+v", ver)
	}

	// Deletion.
	src.mu.Lock()
	delete(src.buckets, "logs")
	src.mu.Unlock()
	rec.Record(ctx, event("DeleteBucket", "logs"))
	rec.Flush()
	last, _ := st.Latest(ctx, key)
	if last.Item.Status != configrec.StatusDeleted {
		t.Fatalf("after delete: %s", last.Item.Status)
	}

	// Account-level settings.
	src.mu.Lock()
	src.settings[acct] = &meta.AccountSettings{Configs: map[string][]byte{"publicAccessBlock": []byte(`<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>false</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictPublicBuckets></PublicAccessBlockConfiguration>`)}}
	src.mu.Unlock()
	rec.Record(ctx, &audit.Event{Service: "s3control", Operation: "PutAccountPublicAccessBlock", AccountID: acct, Outcome: audit.OutcomeSuccess})
	rec.Flush()
	a, _ := st.Latest(ctx, configrec.ResourceKey{Account: acct, Type: configrec.TypeAccountPAB, ID: acct})
	if a == nil || a.Item.Configuration != `{"blockPublicAcls":true,"ignorePublicAcls":false,"blockPublicPolicy":true,"restrictPublicBuckets":false}` {
		t.Fatalf("account item %+v", a)
	}
	want := []string{"logs:ResourceDiscovered:Baseline", "logs:OK:PutBucketPolicy", "logs:OK:StartConfigurationRecorder", "logs:ResourceDeleted:DeleteBucket", acct + ":ResourceDiscovered:PutAccountPublicAccessBlock"}
	if len(changes) != len(want) {
		t.Fatalf("changes %v, want %v", changes, want)
	}
	for i := range want {
		if changes[i] != want[i] {
			t.Fatalf("changes %v, want %v", changes, want)
		}
	}
}

func TestRecorderResourceTypes(t *testing.T) {
	ctx := t.Context()
	src := &fakeSource{buckets: map[string]*meta.Bucket{}, settings: map[string]*meta.AccountSettings{}}
	st := configrec.NewMemoryStore()
	rec := &configrec.Recorder{Store: st, Source: src, Region: "us-east-1"}
	rec.Start(ctx)
	defer rec.Close()
	if err := rec.PutRecorder(ctx, acct, "only-account", "", false, []string{configrec.TypeAccountPAB}); err != nil {
		t.Fatal(err)
	}
	s, _ := rec.State(ctx, acct)
	if s.Name != "only-account" || !s.Recording {
		t.Fatalf("state %+v", s)
	}
	src.set("b", func(*meta.Bucket) {})
	rec.Record(ctx, event("CreateBucket", "b"))
	rec.Flush()
	if h, _ := st.History(ctx, configrec.ResourceKey{Account: acct, Type: configrec.TypeBucket, ID: "b"}, time.Time{}, time.Time{}); len(h) != 0 {
		t.Fatalf("a bucket was recorded by a recorder of account settings only: %d items", len(h))
	}
}
