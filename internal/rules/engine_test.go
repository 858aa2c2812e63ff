package rules

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/configrec"
)

type fakeRemediator struct {
	done chan string
}

func (f *fakeRemediator) Remediate(_ context.Context, what, account, bucket, rule string) error {
	f.done <- what + " " + bucket + " " + rule
	return nil
}

func TestEngine(t *testing.T) {
	ctx := t.Context()
	st := configrec.NewMemoryStore()
	var mu sync.Mutex
	var alerts []Alert
	rem := &fakeRemediator{done: make(chan string, 4)}
	clock := time.Unix(1800000000, 0)
	var clockMu sync.Mutex
	tick := func() time.Time {
		clockMu.Lock()
		defer clockMu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}
	e := &Engine{Store: st, Region: "us-east-1", Now: tick,
		Alert: func(a Alert) { mu.Lock(); alerts = append(alerts, a); mu.Unlock() }, Remediator: rem}
	put := func(it *configrec.Item) *configrec.Record {
		prev, _ := st.Latest(ctx, configrec.ResourceKey{Account: it.AccountID, Type: it.ResourceType, ID: it.ResourceID})
		r := &configrec.Record{Item: *it, CaptureTime: e.now(), Operation: "PutBucketPolicy", ChangedBy: "arn:aws:iam::111111111111:user/mallory"}
		st.PutRecord(ctx, r)
		e.OnChange(ctx, prev, r)
		return r
	}
	put(bucket())
	r, err := e.PutRule(ctx, owner, &Rule{Name: "no-public-read", Owner: OwnerAWS, Identifier: "S3_BUCKET_PUBLIC_READ_PROHIBITED"})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID == "" || r.ARN == "" {
		t.Fatalf("rule %+v", r)
	}
	res, _ := e.Results(ctx, owner, "no-public-read")
	if len(res) != 1 || res[0].Compliance != Compliant {
		t.Fatalf("results %+v", res)
	}
	// A change that makes the bucket public flips the rule and alerts.
	put(bucket(cfg("policy", polPublicRead)))
	res, _ = e.Results(ctx, owner, "no-public-read")
	if res[0].Compliance != NonCompliant {
		t.Fatalf("after public policy: %+v", res)
	}
	mu.Lock()
	if len(alerts) != 2 || alerts[0].Type != AlertBucketPublic || alerts[0].ChangedBy == "" || alerts[1].Type != AlertComplianceChange || alerts[1].Current != NonCompliant {
		t.Fatalf("alerts %+v", alerts)
	}
	mu.Unlock()
	// Still public: no new alert.
	put(bucket(cfg("policy", polPublicRead), cfg("tagging", `<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>`)))
	mu.Lock()
	if len(alerts) != 2 {
		t.Fatalf("alerts %+v", alerts)
	}
	mu.Unlock()
	// Auto-remediation.
	e.AutoRemediate = true
	put(bucket(cfg("policy", polPublicRead), cfg("acl", aclPublicRead)))
	select {
	case got := <-rem.done:
		if got != "block-public-access b no-public-read" {
			t.Fatalf("remediation %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no remediation")
	}
	e.AutoRemediate = false
	put(bucket(cfg("policy", polPublicRead), cfg("publicAccessBlock", pabAllOn)))
	h, _ := e.History(ctx, owner, "no-public-read")
	if len(h) != 3 || h[0].Compliance != Compliant || h[1].Compliance != NonCompliant || h[2].Compliance != Compliant {
		t.Fatalf("history %+v", h)
	}
	n, _ := e.NonCompliantResources(ctx)
	if n[owner] != 0 {
		t.Fatalf("non-compliant %v", n)
	}
	// Packs.
	p, err := e.PutPack(ctx, owner, "cis", BuiltinPack)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rules) != len(PackRules) {
		t.Fatalf("pack rules %v", p.Rules)
	}
	n, _ = e.NonCompliantResources(ctx)
	if n[owner] != 1 { // the bucket (the account has no setting: insufficient data is not counted)
		t.Fatalf("non-compliant %v", n)
	}
	if _, err := e.PutPack(ctx, owner, "x", "other"); err != ErrUnknownTemplate {
		t.Fatalf("unknown template: %v", err)
	}
	if err := e.DeletePack(ctx, owner, "cis"); err != nil {
		t.Fatal(err)
	}
	rs, _ := e.Rules(ctx, owner)
	if len(rs) != 1 {
		t.Fatalf("rules after pack deletion: %d", len(rs))
	}
	if err := e.DeleteRule(ctx, owner, "no-public-read"); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteRule(ctx, owner, "no-public-read"); err != ErrNoSuchRule {
		t.Fatalf("second delete: %v", err)
	}
}

// TestPeriodic: rules are evaluated on the schedule too (here a rule
// stored without the evaluation PutRule does).
func TestPeriodic(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	st := configrec.NewMemoryStore()
	st.PutRecord(ctx, &configrec.Record{Item: *bucket(), CaptureTime: time.Now()})
	e := &Engine{Store: st, Region: "us-east-1"}
	r := &Rule{Name: "v", Owner: OwnerAWS, Identifier: "S3_BUCKET_VERSIONING_ENABLED"}
	if err := Validate(r); err != nil {
		t.Fatal(err)
	}
	if err := e.saveRule(ctx, owner, r); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { e.Run(ctx, 10*time.Millisecond); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		res, _ := e.Results(ctx, owner, "v")
		if len(res) == 1 && res[0].Compliance == NonCompliant {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no periodic evaluation: %+v", res)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	got, _ := e.GetRule(context.Background(), owner, "v")
	if got.LastEvaluated.IsZero() {
		t.Fatal("LastEvaluated not set")
	}
}
