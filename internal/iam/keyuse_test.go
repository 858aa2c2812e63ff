package iam_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/iam"
	"github.com/coffer-io/coffer/internal/iam/iamtest"
)

// countingStore counts the transactions that reach the store.
type countingStore struct {
	iam.Store
	views, updates atomic.Int64
}

func (c *countingStore) View(ctx context.Context, account string, fn func(iam.Tx) error) error {
	c.views.Add(1)
	return c.Store.View(ctx, account, fn)
}

func (c *countingStore) Update(ctx context.Context, account string, fn func(iam.Tx) error) error {
	c.updates.Add(1)
	return c.Store.Update(ctx, account, fn)
}

func TestKeyUseTrackerCoalesces(t *testing.T) {
	ctx := context.Background()
	store := &countingStore{Store: iamtest.NewMemStore()}
	svc := &iam.Service{Store: store, LastUsedResolution: time.Hour}
	k := ok[*iam.AccessKey](t)(svc.CreateAccessKey(ctx, acct, ""))
	base := store.updates.Load()

	tr := iam.NewKeyUseTracker(svc, nil)
	at := time.Now().UTC().Truncate(time.Second)
	tr.Note(acct, k.AccessKeyID, "s3", "us-east-1", at)
	// A key's first use is written promptly, in the background.
	var lu *iam.AccessKey
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		lu = ok[*iam.AccessKey](t)(svc.GetAccessKeyLastUsed(ctx, acct, k.AccessKeyID))
		if lu.LastUsed != nil || time.Now().After(deadline) {
			break
		}
	}
	if n := store.updates.Load() - base; n != 1 {
		t.Errorf("first use: %d updates, want 1", n)
	}
	if lu.LastUsed == nil || lu.LastUsed.ServiceName != "s3" || lu.LastUsed.Region != "us-east-1" || !lu.LastUsed.Date.Equal(at) {
		t.Fatalf("last used after first note: %+v", lu.LastUsed)
	}

	// Within the resolution, further uses cost no store access at all,
	// and a change of service waits for the key's next write window.
	views, updates := store.views.Load(), store.updates.Load()
	for i := range 1000 {
		tr.Note(acct, k.AccessKeyID, "s3", "us-east-1", at.Add(time.Duration(i)*time.Millisecond))
	}
	tr.Note(acct, k.AccessKeyID, "iam", "us-east-1", at.Add(10*time.Second))
	tr.Note(acct, k.AccessKeyID, "s3", "us-east-1", at.Add(5*time.Second)) // older: ignored
	time.Sleep(100 * time.Millisecond)
	if v, u := store.views.Load()-views, store.updates.Load()-updates; v != 0 || u != 0 {
		t.Fatalf("notes within the resolution reached the store: %d views, %d updates", v, u)
	}

	// Close writes what is pending: the latest use.
	nilErr(t, tr.Close())
	lu = ok[*iam.AccessKey](t)(svc.GetAccessKeyLastUsed(ctx, acct, k.AccessKeyID))
	if lu.LastUsed == nil || lu.LastUsed.ServiceName != "iam" || !lu.LastUsed.Date.Equal(at.Add(10*time.Second)) {
		t.Fatalf("last used after close: %+v", lu.LastUsed)
	}
	if u := store.updates.Load() - updates; u != 1 {
		t.Errorf("close wrote %d times, want 1", u)
	}
	// Notes after Close are dropped, and a second Close is harmless.
	tr.Note(acct, k.AccessKeyID, "sts", "us-east-1", at.Add(time.Hour))
	nilErr(t, tr.Close())
}

func TestKeyUseTrackerDeletedKey(t *testing.T) {
	svc := &iam.Service{Store: iamtest.NewMemStore()}
	tr := iam.NewKeyUseTracker(svc, nil)
	// A key deleted after authenticating is no failure.
	tr.Note(acct, "AKIADELETEDDELETED00", "s3", "us-east-1", time.Now())
	nilErr(t, tr.Close())
}
