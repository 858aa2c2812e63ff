package alerts

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/audit"
)

func TestWebhookSignedAndRetried(t *testing.T) {
	secret := []byte("s3cr3t")
	var calls atomic.Int32
	got := make(chan Alert, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !Verify(secret, r.Header.Get(HeaderTimestamp), body, r.Header.Get(HeaderSignature)) {
			t.Errorf("bad signature %q", r.Header.Get(HeaderSignature))
		}
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		got <- Alert{ID: r.Header.Get(HeaderID)}
	}))
	defer srv.Close()
	mem := &audit.Memory{}
	d := &Dispatcher{URL: srv.URL, Secret: secret, BaseDelay: 10 * time.Millisecond, Audit: mem}
	d.Send(Alert{Type: "BucketPublic", Account: "111111111111", Resource: "b", ResourceType: "AWS::S3::Bucket"})
	select {
	case a := <-got:
		if a.ID == "" {
			t.Fatal("no alert id")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("webhook not delivered")
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("%d calls, want 3", n)
	}
	d.Close()
	ev := mem.Events()
	if len(ev) != 1 || ev[0].Service != Service || ev[0].Operation != "BucketPublic" || ev[0].Bucket != "b" {
		t.Fatalf("audit events %+v", ev)
	}
}

func TestWebhookGivesUp(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	d := &Dispatcher{URL: srv.URL, MaxAttempts: 3, BaseDelay: time.Millisecond}
	d.Send(Alert{Type: "x"})
	deadline := time.Now().Add(5 * time.Second)
	for calls.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	d.Close()
	if n := calls.Load(); n != 3 {
		t.Fatalf("%d calls, want 3 (bounded)", n)
	}
}

func TestSignature(t *testing.T) {
	// HMAC-SHA256("key", "1700000000.{}"), computed independently.
	if got := Sign([]byte("key"), "1700000000", []byte("{}")); got != "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae" {
		t.Fatal(got)
	}
	if Verify([]byte("key"), "1700000001", []byte("{}"), Sign([]byte("key"), "1700000000", []byte("{}"))) {
		t.Fatal("signature must cover the timestamp")
	}
}

func TestSpike(t *testing.T) {
	var mu sync.Mutex
	var alerts []Alert
	now := time.Unix(1800000000, 0)
	s := &SpikeDetector{Threshold: 3, Window: time.Minute, Now: func() time.Time { return now },
		Send: func(a Alert) { mu.Lock(); alerts = append(alerts, a); mu.Unlock() }}
	denied := &audit.Event{Service: "s3", Operation: "GetObject", AccountID: "1", Outcome: audit.OutcomeDenied}
	ok := &audit.Event{Service: "s3", Operation: "GetObject", AccountID: "1", Outcome: audit.OutcomeSuccess}
	for range 5 {
		s.Record(t.Context(), denied)
		s.Record(t.Context(), ok)
	}
	if len(alerts) != 1 || alerts[0].Count != 3 || alerts[0].Type != TypeDeniedSpike {
		t.Fatalf("alerts %+v", alerts)
	}
	now = now.Add(time.Minute)
	for range 2 {
		s.Record(t.Context(), denied)
	}
	if len(alerts) != 1 {
		t.Fatal("below threshold in a new window must not alert")
	}
	s.Record(t.Context(), denied)
	if len(alerts) != 2 {
		t.Fatal("a new window's spike alerts again")
	}
}
