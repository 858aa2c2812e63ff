package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sort"
	"time"

	"github.com/coffer-io/coffer/internal/alerts"
	"github.com/coffer-io/coffer/internal/audit"
	"github.com/coffer-io/coffer/internal/configapi"
	"github.com/coffer-io/coffer/internal/configrec"
	"github.com/coffer-io/coffer/internal/configrec/boltstore"
	"github.com/coffer-io/coffer/internal/rules"
	"github.com/coffer-io/coffer/internal/s3api"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// ComplianceOptions configure the configuration recorder, the rules and
// alerting.
type ComplianceOptions struct {
	// RulesInterval is how often every rule is re-evaluated (and the
	// recorder compares every resource with its last item); 0 means 1h.
	RulesInterval time.Duration
	// AutoRemediate applies the safe remediations (bucket Block Public
	// Access, SSE-S3 default encryption, a deny-insecure-transport
	// statement) when their rules find a bucket NON_COMPLIANT.
	AutoRemediate bool
	// AlertWebhook receives alerts, signed with AlertSecret.
	AlertWebhook string
	AlertSecret  string
	// AlertRetryBase is the first retry's delay (default 1s).
	AlertRetryBase time.Duration
	// DeniedThreshold denied requests of one account within
	// DeniedWindow raise an alert (0: off).
	DeniedThreshold int
	DeniedWindow    time.Duration
}

// compliance is the running recorder, rules engine and alerting.
type compliance struct {
	store    configrec.Store
	recorder *configrec.Recorder
	engine   *rules.Engine
	alerts   *alerts.Dispatcher
	spike    *alerts.SpikeDetector
	api      s3api.JSONService
	interval time.Duration
	cancel   context.CancelFunc
	done     chan struct{}
}

// remediator applies remediations through the S3 layer's own encoders and
// records each as an S3 call by the AWS Config service principal (as AWS
// shows a remediation: an S3 API call invoked by a service), so the trail
// shows it and the recorder records the change it made.
type remediator struct {
	meta  meta.Store
	audit audit.Sink
	log   *slog.Logger
}

func (r *remediator) Remediate(ctx context.Context, what, account, bucket, rule string) error {
	var op string
	var err error
	switch what {
	case rules.RemediationBlockPublicAccess:
		op, err = "PutPublicAccessBlock", s3api.RemediateBlockPublicAccess(ctx, r.meta, bucket)
	case rules.RemediationDefaultEncryption:
		op, err = "PutBucketEncryption", s3api.RemediateDefaultEncryption(ctx, r.meta, bucket)
	case rules.RemediationSecureTransport:
		op, err = "PutBucketPolicy", s3api.RemediateSecureTransport(ctx, r.meta, bucket)
	default:
		return fmt.Errorf("unknown remediation %q", what)
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	ev := &audit.Event{Time: time.Now().UTC(), RequestID: hex.EncodeToString(id[:]), Service: "s3",
		Operation: op, PrincipalType: "AWSService", AccountID: account, PrincipalARN: "config.amazonaws.com",
		Bucket: bucket, Resource: "arn:aws:s3:::" + bucket, UserAgent: "coffer-remediation/" + rule,
		Outcome: audit.OutcomeSuccess, Status: http.StatusOK}
	if err != nil {
		ev.Outcome, ev.Status, ev.ErrorCode = audit.OutcomeFailed, http.StatusInternalServerError, "InternalError"
	}
	if aerr := r.audit.Record(ctx, ev); aerr != nil {
		r.log.Error("audit of a remediation failed", "err", aerr)
	}
	if err == nil {
		r.log.Info("remediation applied", "bucket", bucket, "rule", rule, "remediation", what)
	}
	return err
}

// startCompliance opens DIR/config.db and wires the recorder, the rules
// and alerting. sinks must be added to the audit Multi; start hands them
// the Multi once it exists (remediations and alerts are audited) and
// starts the recorder and the periodic evaluation.
func startCompliance(dir, region string, m meta.Store, o ComplianceOptions, log *slog.Logger) (*compliance, error) {
	st, err := boltstore.Open(filepath.Join(dir, "config.db"))
	if err != nil {
		return nil, err
	}
	if o.RulesInterval <= 0 {
		o.RulesInterval = time.Hour
	}
	c := &compliance{store: st, done: make(chan struct{})}
	c.alerts = &alerts.Dispatcher{URL: o.AlertWebhook, Secret: []byte(o.AlertSecret), BaseDelay: o.AlertRetryBase, Log: log}
	c.recorder = &configrec.Recorder{Store: st, Source: m, Region: region, Log: log}
	c.engine = &rules.Engine{Store: st, Recorder: c.recorder, Region: region, Log: log, AutoRemediate: o.AutoRemediate,
		Alert: func(a rules.Alert) {
			c.alerts.Send(alerts.Alert{Type: a.Type, Time: a.Time, Account: a.Account, Resource: a.Resource, ResourceType: a.ResourceType,
				Rule: a.Rule, Previous: a.Previous, Current: a.Current, Detail: a.Detail, ChangedBy: a.ChangedBy})
		}}
	c.recorder.OnChange(c.engine.OnChange)
	c.spike = &alerts.SpikeDetector{Threshold: o.DeniedThreshold, Window: o.DeniedWindow, Send: c.alerts.Send}
	c.api = (&configapi.Handler{Recorder: c.recorder, Store: st, Rules: c.engine, Region: region, Logger: log}).API()
	c.interval = o.RulesInterval
	return c, nil
}

// sinks are the audit sinks of this part.
func (c *compliance) sinks() []audit.Sink { return []audit.Sink{c.recorder, c.spike} }

// start hands the composed audit sink to remediations and alerts, then
// starts the recorder (its baseline) and the periodic evaluation.
func (c *compliance) start(s audit.Sink, m meta.Store, log *slog.Logger) {
	c.alerts.Audit = s
	c.engine.Remediator = &remediator{meta: m, audit: s, log: log}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.recorder.Start(ctx)
	go func() {
		defer close(c.done)
		c.engine.Run(ctx, c.interval)
	}()
}

// writeMetrics appends the compliance metrics in Prometheus text format.
func (c *compliance) writeMetrics(w io.Writer) {
	n, err := c.engine.NonCompliantResources(context.Background())
	if err != nil {
		return
	}
	fmt.Fprintln(w, "# HELP coffer_noncompliant_resources Resources that at least one compliance rule finds NON_COMPLIANT, by account.")
	fmt.Fprintln(w, "# TYPE coffer_noncompliant_resources gauge")
	accts := make([]string, 0, len(n))
	for a := range n {
		accts = append(accts, a)
	}
	sort.Strings(accts)
	for _, a := range accts {
		fmt.Fprintf(w, "coffer_noncompliant_resources{account=%q} %d\n", a, n[a])
	}
}

// close stops the rules, the recorder and alert delivery (in that order:
// each feeds the next), then the store.
func (c *compliance) close() {
	if c.cancel != nil {
		c.cancel()
		<-c.done
	}
	c.recorder.Close()
	c.alerts.Close()
	c.store.Close()
}
