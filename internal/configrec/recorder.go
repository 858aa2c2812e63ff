package configrec

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coffer-io/coffer/internal/audit"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// Source is what the recorder reads the current configuration from.
type Source interface {
	GetBucket(ctx context.Context, name string) (*meta.Bucket, error)
	ListBuckets(ctx context.Context, owner string) ([]*meta.Bucket, error)
	GetAccount(ctx context.Context, id string) (*meta.Account, error)
	ListAccounts(ctx context.Context) ([]*meta.Account, error)
	GetAccountSettings(ctx context.Context, accountID string) (*meta.AccountSettings, error)
}

// ChangeFunc is told of every recorded change (prev is nil for a
// resource's first item). It runs on the recorder's goroutine.
type ChangeFunc func(ctx context.Context, prev, cur *Record)

// Recorder is an audit.Sink that records configuration changes. Record
// only queues work: the reading and writing happen on one goroutine, so
// requests never wait for the recorder.
type Recorder struct {
	Store  Store
	Source Source
	Region string
	Log    *slog.Logger
	Now    func() time.Time

	mu        sync.Mutex
	listeners []ChangeFunc
	owners    map[string]string // bucket → owning account, for deletions

	work   chan job
	stop   chan struct{}
	done   chan struct{}
	resync atomic.Bool // a full resync is queued for dropped work
}

type job struct {
	account, bucket string // bucket "" = the account's settings; both "" = everything
	all             bool
	by, op, reqID   string
	flush           chan struct{}
}

// OnChange adds a listener for recorded changes.
func (r *Recorder) OnChange(f ChangeFunc) {
	r.mu.Lock()
	r.listeners = append(r.listeners, f)
	r.mu.Unlock()
}

// Start records a baseline of every bucket and account setting and starts
// the worker.
func (r *Recorder) Start(ctx context.Context) {
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Log == nil {
		r.Log = slog.Default()
	}
	r.owners = map[string]string{}
	r.work = make(chan job, 4096)
	r.stop, r.done = make(chan struct{}), make(chan struct{})
	go r.run()
	r.enqueue(job{all: true, op: "Baseline"})
}

// Close stops the worker after the queued work.
func (r *Recorder) Close() error {
	if r.stop == nil {
		return nil
	}
	close(r.stop)
	<-r.done
	return nil
}

// Flush waits until the work queued so far is done.
func (r *Recorder) Flush() {
	ch := make(chan struct{})
	r.work <- job{flush: ch}
	<-ch
}

// SyncAll queues a full comparison of every resource with its last item
// (the periodic safety net and the recorder's restart).
func (r *Recorder) SyncAll() { r.enqueue(job{all: true, op: "Resync"}) }

func (r *Recorder) enqueue(j job) {
	select {
	case r.work <- j:
	default:
		// Full: one whole resync later catches every change dropped now.
		if r.resync.CompareAndSwap(false, true) {
			go func() { r.work <- job{all: true, op: "Resync"} }()
		}
	}
}

// configOps are the successful calls that may change a bucket's or an
// account's recorded configuration.
func configOp(e *audit.Event) bool {
	if e.Outcome != audit.OutcomeSuccess || e.Key != "" {
		return false
	}
	switch e.Service {
	case "s3", "s3control":
	default:
		return false
	}
	switch e.Operation {
	case "DeleteObjects", "PostObject", "CreateMultipartUpload":
		return false
	}
	return strings.HasPrefix(e.Operation, "Put") || strings.HasPrefix(e.Operation, "Delete") || e.Operation == "CreateBucket"
}

// Record implements audit.Sink.
func (r *Recorder) Record(_ context.Context, e *audit.Event) error {
	if r.work == nil || !configOp(e) {
		return nil
	}
	j := job{account: e.AccountID, bucket: e.Bucket, by: e.PrincipalARN, op: e.Operation, reqID: e.RequestID}
	if e.Service == "s3control" {
		j.bucket = ""
	} else if j.bucket == "" {
		return nil
	}
	r.enqueue(j)
	return nil
}

func (r *Recorder) run() {
	defer close(r.done)
	ctx := context.Background()
	for {
		select {
		case j := <-r.work:
			r.do(ctx, j)
		case <-r.stop:
			for {
				select {
				case j := <-r.work:
					r.do(ctx, j)
				default:
					return
				}
			}
		}
	}
}

func (r *Recorder) do(ctx context.Context, j job) {
	if j.flush != nil {
		close(j.flush)
		return
	}
	var err error
	switch {
	case j.all:
		r.resync.Store(false)
		err = r.syncAll(ctx, j)
	case j.bucket == "":
		err = r.syncAccount(ctx, j.account, j)
	default:
		err = r.syncBucket(ctx, j.bucket, j)
	}
	if err != nil {
		r.Log.Error("configuration recorder", "err", err)
	}
}

func (r *Recorder) syncAll(ctx context.Context, j job) error {
	accts, err := r.Source.ListAccounts(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range accts {
		if err := r.syncAccount(ctx, a.ID, j); err != nil {
			errs = append(errs, err)
		}
		bs, err := r.Source.ListBuckets(ctx, a.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		live := map[string]bool{}
		for _, b := range bs {
			live[b.Name] = true
			if err := r.recordBucket(ctx, b, j); err != nil {
				errs = append(errs, err)
			}
		}
		// Buckets recorded but gone.
		keys, err := r.Store.Resources(ctx, a.ID, TypeBucket)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, k := range keys {
			if !live[k.ID] {
				if err := r.recordDeleted(ctx, k, j); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}

func (r *Recorder) syncBucket(ctx context.Context, name string, j job) error {
	b, err := r.Source.GetBucket(ctx, name)
	if errors.Is(err, meta.ErrBucketNotFound) || errors.Is(err, meta.ErrNotFound) {
		r.mu.Lock()
		owner := r.owners[name]
		r.mu.Unlock()
		if owner == "" {
			owner = j.account
		}
		return r.recordDeleted(ctx, ResourceKey{Account: owner, Type: TypeBucket, ID: name}, j)
	}
	if err != nil {
		return err
	}
	return r.recordBucket(ctx, b, j)
}

func (r *Recorder) recordBucket(ctx context.Context, b *meta.Bucket, j job) error {
	r.mu.Lock()
	r.owners[b.Name] = b.Owner
	r.mu.Unlock()
	if !r.recording(ctx, b.Owner, TypeBucket) {
		return nil
	}
	canon := ""
	if a, err := r.Source.GetAccount(ctx, b.Owner); err == nil {
		canon = a.CanonicalID
	}
	it := BucketItem(b, canon)
	if it.Region == "" {
		it.Region = r.Region
	}
	return r.put(ctx, it, b.CreatedAt, j)
}

func (r *Recorder) syncAccount(ctx context.Context, account string, j job) error {
	if account == "" || !r.recording(ctx, account, TypeAccountPAB) {
		return nil
	}
	st, err := r.Source.GetAccountSettings(ctx, account)
	if err != nil {
		return err
	}
	it, ok := AccountItem(account, r.Region, st)
	if !ok {
		return r.recordDeleted(ctx, ResourceKey{Account: account, Type: TypeAccountPAB, ID: account}, j)
	}
	return r.put(ctx, it, time.Time{}, j)
}

func (r *Recorder) recordDeleted(ctx context.Context, k ResourceKey, j job) error {
	if !r.recording(ctx, k.Account, k.Type) {
		return nil
	}
	prev, err := r.Store.Latest(ctx, k)
	if err != nil || prev == nil || prev.Item.Status == StatusDeleted {
		return err
	}
	return r.put(ctx, DeletedItem(prev.Item), time.Time{}, j)
}

// put stores it if it differs from the resource's last item.
func (r *Recorder) put(ctx context.Context, it Item, created time.Time, j job) error {
	k := ResourceKey{Account: it.AccountID, Type: it.ResourceType, ID: it.ResourceID}
	prev, err := r.Store.Latest(ctx, k)
	if err != nil {
		return err
	}
	fp := it.Fingerprint()
	if prev != nil && prev.Item.Fingerprint() == fp {
		return nil
	}
	now := r.Now().UTC()
	if prev != nil && !now.After(prev.CaptureTime) {
		now = prev.CaptureTime.Add(time.Millisecond)
	}
	if prev == nil && it.Status == statusOK {
		it.Status = StatusDiscovered
	}
	it.MD5Hash = ""
	it.StateID = stateID(now)
	rec := &Record{Item: it, CaptureTime: now, CreationTime: created.UTC(), Operation: j.op, RequestID: j.reqID, ChangedBy: j.by}
	if j.reqID != "" {
		rec.Item.RelatedEvents = []string{j.reqID}
	}
	if err := r.Store.PutRecord(ctx, rec); err != nil {
		return err
	}
	r.mu.Lock()
	ls := append([]ChangeFunc(nil), r.listeners...)
	r.mu.Unlock()
	for _, f := range ls {
		f(ctx, prev, rec)
	}
	return nil
}

// stateID is AWS Config's configurationStateId: the capture time in
// milliseconds, which orders a resource's items.
func stateID(t time.Time) string {
	return itoa(t.UnixMilli())
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
