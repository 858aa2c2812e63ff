package iam

// Coalescing of access-key last-use records.
//
// RecordAccessKeyUse already avoids rewriting a fresh record, but it still
// reads the key in a transaction, and a client alternating services or
// regions would make it write on every request. Authentication must cost
// neither, so the request path only notes the use in memory
// (KeyUseTracker.Note: one mutex, no I/O, no allocation once the key is
// known) and a background goroutine persists each key's latest use at
// most once per LastUsedResolution. Errors are logged, never returned to
// the request: the record is informational (GetAccessKeyLastUsed), and
// losing one use to a failed write only makes it up to one resolution
// staler. Close writes what is pending, so a clean shutdown loses nothing.

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// keyUseWriteTimeout bounds one background write, so a wedged store
// cannot hold shutdown forever.
const keyUseWriteTimeout = 10 * time.Second

type keyUseRecord struct {
	service, region string
	at              time.Time
}

type keyUseState struct {
	account string
	// pending is the latest use not yet handed to the store.
	pending    keyUseRecord
	hasPending bool
	// saved is the latest use known to be stored; uses of the same
	// service and region within the resolution need no write.
	saved    keyUseRecord
	hasSaved bool
	// wrote is when the tracker last handed this key to the store.
	wrote time.Time
}

// KeyUseTracker coalesces access-key uses in memory and persists them
// through Service.RecordAccessKeyUse in the background. Create it with
// NewKeyUseTracker and Close it on shutdown.
type KeyUseTracker struct {
	svc *Service
	log *slog.Logger
	res time.Duration
	now func() time.Time

	mu     sync.Mutex
	keys   map[string]*keyUseState
	closed bool

	wake      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// NewKeyUseTracker starts a tracker writing through svc, at most once per
// key per svc.LastUsedResolution (1 minute if zero).
func NewKeyUseTracker(svc *Service, log *slog.Logger) *KeyUseTracker {
	if log == nil {
		log = slog.Default()
	}
	res := svc.LastUsedResolution
	if res <= 0 {
		res = time.Minute
	}
	t := &KeyUseTracker{
		svc: svc, log: log, res: res, now: time.Now,
		keys: make(map[string]*keyUseState),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go t.run()
	return t
}

// Note records that keyID, a long-term key of account, authenticated a
// request to service in region at time at. It never blocks on I/O.
func (t *KeyUseTracker) Note(account, keyID, service, region string, at time.Time) {
	at = at.UTC().Truncate(time.Second)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	e := t.keys[keyID]
	if e == nil {
		e = &keyUseState{account: account}
		t.keys[keyID] = e
	}
	if !e.hasPending && e.hasSaved && e.saved.service == service && e.saved.region == region &&
		!at.Before(e.saved.at) && at.Sub(e.saved.at) < t.res {
		return // the stored record is fresh enough
	}
	if !e.hasPending || !at.Before(e.pending.at) {
		e.pending, e.hasPending = keyUseRecord{service: service, region: region, at: at}, true
	}
	if e.wrote.IsZero() || t.now().Sub(e.wrote) >= t.res {
		// Out of its write window: persist now rather than at the next
		// tick, so a key's first use shows up promptly.
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
}

func (t *KeyUseTracker) run() {
	defer close(t.done)
	tick := time.NewTicker(t.res)
	defer tick.Stop()
	for {
		select {
		case <-t.wake:
		case <-tick.C:
		case <-t.stop:
			return
		}
		t.flush(false)
	}
}

type keyUseWrite struct {
	keyID, account string
	use            keyUseRecord
}

// flush writes the pending uses whose key is out of its write window (all
// of them when force is set).
func (t *KeyUseTracker) flush(force bool) {
	now := t.now()
	var batch []keyUseWrite
	t.mu.Lock()
	for id, e := range t.keys {
		switch {
		case e.hasPending && (force || e.wrote.IsZero() || now.Sub(e.wrote) >= t.res):
			batch = append(batch, keyUseWrite{keyID: id, account: e.account, use: e.pending})
			e.hasPending, e.wrote = false, now
		case !e.hasPending && now.Sub(e.wrote) > 10*t.res:
			// Idle keys (or deleted ones) leave memory; the store's own
			// freshness check covers their next use.
			delete(t.keys, id)
		}
	}
	t.mu.Unlock()
	for _, w := range batch {
		ctx, cancel := context.WithTimeout(context.Background(), keyUseWriteTimeout)
		err := t.svc.RecordAccessKeyUse(ctx, w.account, w.keyID, w.use.service, w.use.region, w.use.at)
		cancel()
		if err != nil {
			t.log.Warn("recording access key last use failed", "access_key_id", w.keyID, "err", err)
			continue
		}
		t.mu.Lock()
		if e := t.keys[w.keyID]; e != nil && (!e.hasSaved || !w.use.at.Before(e.saved.at)) {
			e.saved, e.hasSaved = w.use, true
		}
		t.mu.Unlock()
	}
}

// Close stops the background writer and writes every pending use. Notes
// after Close are dropped. It is safe to call more than once.
func (t *KeyUseTracker) Close() error {
	t.closeOnce.Do(func() {
		close(t.stop)
		<-t.done
		// Refuse new notes first, so that the final flush sees them all.
		t.mu.Lock()
		t.closed = true
		t.mu.Unlock()
		t.flush(true)
	})
	return nil
}
