package kms_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/kms"
)

const (
	acct   = "111122223333"
	other  = "444455556666"
	region = "us-east-1"
)

var ctx = context.Background()

// clock is an injectable, advanceable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	svc   *kms.Service
	store *kms.MemStore
	clock *clock
}

func newFixture(t *testing.T, mod ...func(*kms.Config)) *fixture {
	t.Helper()
	sealer, err := kms.NewLocalSealer(bytes.Repeat([]byte{0x42}, 32))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: kms.NewMemStore(), clock: &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}
	cfg := kms.Config{Store: f.store, Sealer: sealer, Region: region, Now: f.clock.Now}
	for _, m := range mod {
		m(&cfg)
	}
	f.svc, err = kms.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) key(t *testing.T, account string) *kms.Key {
	t.Helper()
	k, err := f.svc.CreateKey(ctx, account, kms.CreateKeyInput{Description: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (f *fixture) encrypt(t *testing.T, id string, pt string, ec map[string]string) []byte {
	t.Helper()
	out, err := f.svc.Encrypt(ctx, acct, id, []byte(pt), ec)
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	return out.CiphertextBlob
}

// wantCode fails unless err is a *kms.Error with code ("" means nil).
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var e *kms.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
	if e.Message == "" {
		t.Errorf("%s has an empty message", code)
	}
}
