// Package alerts delivers security alerts — compliance changes, buckets
// made public, spikes of denied requests — to a webhook and to the audit
// trail. Webhook bodies are signed with HMAC-SHA256 over the timestamp
// and the body, so a receiver can check origin and freshness; delivery is
// retried with exponential backoff, a bounded number of times.
package alerts

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coffer-io/coffer/internal/audit"
)

// Alert is one alert.
type Alert struct {
	ID           string    `json:"id"`
	Type         string    `json:"type"`
	Time         time.Time `json:"time"`
	Account      string    `json:"account,omitempty"`
	Resource     string    `json:"resource,omitempty"`
	ResourceType string    `json:"resourceType,omitempty"`
	Rule         string    `json:"rule,omitempty"`
	Previous     string    `json:"previous,omitempty"`
	Current      string    `json:"current,omitempty"`
	Detail       string    `json:"detail,omitempty"`
	ChangedBy    string    `json:"changedBy,omitempty"`
	Count        int       `json:"count,omitempty"`
	Window       string    `json:"window,omitempty"`
}

// Alert types raised here (the rules raise the others).
const (
	TypeDeniedSpike = "DeniedRequestSpike"
)

// Service is the audit service of alert events.
const Service = "coffer-alerts"

// Headers of a webhook delivery.
const (
	HeaderTimestamp = "X-Coffer-Alert-Timestamp"
	HeaderSignature = "X-Coffer-Alert-Signature"
	HeaderID        = "X-Coffer-Alert-Id"
)

// Sign returns the signature header value of body sent at ts:
// "sha256=" + hex(HMAC-SHA256(secret, ts + "." + body)).
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a delivery's signature in constant time.
func Verify(secret []byte, ts string, body []byte, sig string) bool {
	return hmac.Equal([]byte(Sign(secret, ts, body)), []byte(sig))
}

// Dispatcher sends alerts. Send never blocks a request: alerts queue for
// one delivery goroutine.
type Dispatcher struct {
	URL    string // webhook; "" = none
	Secret []byte
	Client *http.Client
	// MaxAttempts bounds deliveries of one alert (default 6); BaseDelay
	// is the first retry's delay (default 1s), doubled each time up to
	// MaxDelay (default 1m).
	MaxAttempts         int
	BaseDelay, MaxDelay time.Duration
	// Audit, if set, receives every alert as an event (the trail).
	Audit audit.Sink
	Log   *slog.Logger

	once  sync.Once
	queue chan Alert
	stop  chan struct{}
	done  chan struct{}
}

func (d *Dispatcher) init() {
	d.once.Do(func() {
		if d.MaxAttempts <= 0 {
			d.MaxAttempts = 6
		}
		if d.BaseDelay <= 0 {
			d.BaseDelay = time.Second
		}
		if d.MaxDelay <= 0 {
			d.MaxDelay = time.Minute
		}
		if d.Client == nil {
			d.Client = &http.Client{Timeout: 10 * time.Second}
		}
		if d.Log == nil {
			d.Log = slog.Default()
		}
		d.queue = make(chan Alert, 1024)
		d.stop, d.done = make(chan struct{}), make(chan struct{})
		go d.run()
	})
}

// Send queues an alert.
func (d *Dispatcher) Send(a Alert) {
	d.init()
	if a.ID == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		a.ID = hex.EncodeToString(b[:])
	}
	if a.Time.IsZero() {
		a.Time = time.Now().UTC()
	}
	if d.Audit != nil {
		_ = d.Audit.Record(context.Background(), &audit.Event{
			Time: a.Time, RequestID: a.ID, Service: Service, Operation: a.Type, PrincipalType: "AWSService",
			AccountID: a.Account, PrincipalARN: "coffer-alerts", Bucket: bucketOf(a), Resource: a.Resource,
			Outcome: audit.OutcomeSuccess, Status: http.StatusOK,
		})
	}
	select {
	case d.queue <- a:
	default:
		d.Log.Error("alert dropped: queue full", "type", a.Type, "resource", a.Resource)
	}
}

func bucketOf(a Alert) string {
	if a.ResourceType == "AWS::S3::Bucket" {
		return a.Resource
	}
	return ""
}

// Close stops delivery after the queued alerts (each still bounded by its
// retries).
func (d *Dispatcher) Close() error {
	d.init()
	close(d.stop)
	<-d.done
	return nil
}

func (d *Dispatcher) run() {
	defer close(d.done)
	for {
		select {
		case a := <-d.queue:
			d.deliver(a)
		case <-d.stop:
			for {
				select {
				case a := <-d.queue:
					d.deliver(a)
				default:
					return
				}
			}
		}
	}
}

func (d *Dispatcher) deliver(a Alert) {
	if d.URL == "" {
		return
	}
	body, err := json.Marshal(a)
	if err != nil {
		return
	}
	delay := d.BaseDelay
	for attempt := 1; ; attempt++ {
		err := d.post(a.ID, body)
		if err == nil {
			return
		}
		if attempt >= d.MaxAttempts {
			d.Log.Error("alert webhook failed; giving up", "id", a.ID, "type", a.Type, "attempts", attempt, "err", err)
			return
		}
		d.Log.Warn("alert webhook failed; retrying", "id", a.ID, "attempt", attempt, "err", err)
		select {
		case <-time.After(delay):
		case <-d.stop:
			// Shutting down: one last try without waiting longer.
			if d.post(a.ID, body) != nil {
				d.Log.Error("alert webhook failed at shutdown", "id", a.ID)
			}
			return
		}
		delay = min(delay*2, d.MaxDelay)
	}
}

func (d *Dispatcher) post(id string, body []byte) error {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequest(http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "coffer-alerts")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderID, id)
	if len(d.Secret) > 0 {
		req.Header.Set(HeaderSignature, Sign(d.Secret, ts, body))
	}
	resp, err := d.Client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}

// SpikeDetector is an audit.Sink that raises an alert when an account's
// denied requests reach Threshold within one Window (fixed windows; one
// alert per account and window).
type SpikeDetector struct {
	Threshold int
	Window    time.Duration
	Send      func(Alert)
	Now       func() time.Time

	mu     sync.Mutex
	start  time.Time
	counts map[string]int
}

// Record implements audit.Sink.
func (s *SpikeDetector) Record(_ context.Context, e *audit.Event) error {
	if s.Threshold <= 0 || s.Window <= 0 || e.Outcome != audit.OutcomeDenied || e.Service == Service {
		return nil
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	acct := e.AccountID
	if acct == "" {
		acct = "anonymous"
	}
	w := now.Truncate(s.Window)
	s.mu.Lock()
	if !w.Equal(s.start) || s.counts == nil {
		s.start, s.counts = w, map[string]int{}
	}
	s.counts[acct]++
	n := s.counts[acct]
	s.mu.Unlock()
	if n == s.Threshold && s.Send != nil {
		s.Send(Alert{Type: TypeDeniedSpike, Time: now.UTC(), Account: e.AccountID, Count: n, Window: s.Window.String(),
			Resource: e.Bucket, ResourceType: resourceTypeOf(e),
			Detail: fmt.Sprintf("%d denied requests within %s (last: %s %s by %s)", n, s.Window, e.Service, e.Operation, e.PrincipalARN)})
	}
	return nil
}

func resourceTypeOf(e *audit.Event) string {
	if e.Bucket != "" {
		return "AWS::S3::Bucket"
	}
	return ""
}

// Close implements audit.Sink.
func (s *SpikeDetector) Close() error { return nil }
