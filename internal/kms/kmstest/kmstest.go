// Package kmstest is the conformance suite for kms.Store backends. Every
// backend's tests call Run, so that all backends agree on what the KMS
// relies on: records round-trip exactly (sealed material included),
// lists are ordered, accounts are isolated, failed transactions leave
// nothing behind, views are read-only, and concurrent Update transactions
// are serializable.
package kmstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/kms"
)

// Accounts the suite uses.
const (
	Account      = "111122223333"
	OtherAccount = "444455556666"
)

// Run runs the suite. open must return a new, empty store for each call
// and arrange for it to be closed (t.Cleanup); it is called from parallel
// subtests, so concurrently.
func Run(t *testing.T, open func(t *testing.T) kms.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s kms.Store)
	}{
		{"KeyRoundTrip", testKeyRoundTrip},
		{"KeysOrdered", testKeysOrdered},
		{"KeyReplaceAndDelete", testKeyReplaceAndDelete},
		{"AliasRoundTrip", testAliasRoundTrip},
		{"AliasesOrderedCaseSensitive", testAliasesOrdered},
		{"CopiesNotShared", testCopies},
		{"AccountIsolation", testIsolation},
		{"Accounts", testAccounts},
		{"Rollback", testRollback},
		{"ReadOnlyView", testReadOnlyView},
		{"ConcurrentUpdatesSerializable", testConcurrent},
		{"ServiceSmoke", testServiceSmoke},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Record returns a fully populated key record, so round trips exercise
// every field.
func Record(account, id string) *kms.KeyRecord {
	return &kms.KeyRecord{
		Key: kms.Key{
			AccountID:            account,
			ID:                   id,
			ARN:                  "arn:aws:kms:us-east-1:" + account + ":key/" + id,
			Description:          "desc " + id,
			State:                kms.KeyStatePendingDeletion,
			KeyManager:           kms.KeyManagerCustomer,
			CreationDate:         t0,
			DeletionDate:         t0.Add(7 * 24 * time.Hour),
			PendingWindowInDays:  7,
			RotationEnabled:      true,
			RotationPeriodInDays: 90,
			NextRotation:         t0.Add(90 * 24 * time.Hour),
			OnDemandRotations:    2,
			CurrentVersion:       2,
			Policy:               []byte(`{"Statement":[]}`),
		},
		Materials: []kms.Material{
			{Version: 1, Sealed: []byte{1, 2, 3, 0, 255}, Created: t0},
			{Version: 2, Sealed: bytes.Repeat([]byte{9}, 61), Created: t0.Add(time.Hour)},
		},
	}
}

// EqualRecords compares records, times by instant (backends may change
// their location or drop monotonic readings).
func EqualRecords(a, b *kms.KeyRecord) bool {
	ka, kb := a.Key, b.Key
	if !ka.CreationDate.Equal(kb.CreationDate) || !ka.DeletionDate.Equal(kb.DeletionDate) || !ka.NextRotation.Equal(kb.NextRotation) || !bytes.Equal(ka.Policy, kb.Policy) {
		return false
	}
	ka.CreationDate, ka.DeletionDate, ka.NextRotation = kb.CreationDate, kb.DeletionDate, kb.NextRotation
	ka.Policy, kb.Policy = nil, nil
	if !reflect.DeepEqual(ka, kb) || len(a.Materials) != len(b.Materials) {
		return false
	}
	for i := range a.Materials {
		ma, mb := a.Materials[i], b.Materials[i]
		if ma.Version != mb.Version || !bytes.Equal(ma.Sealed, mb.Sealed) || !ma.Created.Equal(mb.Created) {
			return false
		}
	}
	return true
}

func equalAliases(a, b *kms.Alias) bool {
	return a.Name == b.Name && a.ARN == b.ARN && a.TargetKeyID == b.TargetKeyID &&
		a.CreationDate.Equal(b.CreationDate) && a.LastUpdatedDate.Equal(b.LastUpdatedDate)
}

func alias(account, name, target string) *kms.Alias {
	return &kms.Alias{Name: name, ARN: "arn:aws:kms:us-east-1:" + account + ":" + name, TargetKeyID: target, CreationDate: t0, LastUpdatedDate: t0.Add(time.Minute)}
}

func update(t *testing.T, s kms.Store, account string, fn func(tx kms.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), account, fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t *testing.T, s kms.Store, account string, fn func(tx kms.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), account, fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func testKeyRoundTrip(t *testing.T, s kms.Store) {
	want := Record(Account, "k1")
	update(t, s, Account, func(tx kms.Tx) error { return tx.PutKey(want) })
	view(t, s, Account, func(tx kms.Tx) error {
		got, err := tx.Key("k1")
		if err != nil {
			return err
		}
		if !EqualRecords(got, want) {
			t.Errorf("Key = %+v, want %+v", got, want)
		}
		if _, err := tx.Key("missing"); !errors.Is(err, kms.ErrNotFound) {
			t.Errorf("Key(missing) err = %v, want ErrNotFound", err)
		}
		return nil
	})
	// Reads inside the writing transaction see its writes.
	update(t, s, Account, func(tx kms.Tx) error {
		r := Record(Account, "k2")
		if err := tx.PutKey(r); err != nil {
			return err
		}
		got, err := tx.Key("k2")
		if err != nil || !EqualRecords(got, r) {
			t.Errorf("read-your-writes: %v %+v", err, got)
		}
		return nil
	})
}

func testKeysOrdered(t *testing.T, s kms.Store) {
	ids := []string{"c", "a", "d", "b", "0"}
	update(t, s, Account, func(tx kms.Tx) error {
		for _, id := range ids {
			if err := tx.PutKey(Record(Account, id)); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, Account, func(tx kms.Tx) error {
		recs, err := tx.Keys()
		if err != nil {
			return err
		}
		var got []string
		for _, r := range recs {
			got = append(got, r.Key.ID)
		}
		if want := []string{"0", "a", "b", "c", "d"}; !slices.Equal(got, want) {
			t.Errorf("Keys order = %v, want %v", got, want)
		}
		return nil
	})
}

func testKeyReplaceAndDelete(t *testing.T, s kms.Store) {
	update(t, s, Account, func(tx kms.Tx) error { return tx.PutKey(Record(Account, "k")) })
	r := Record(Account, "k")
	r.Key.State = kms.KeyStateEnabled
	r.Key.DeletionDate = time.Time{}
	r.Materials = append(r.Materials, kms.Material{Version: 3, Sealed: []byte("x"), Created: t0})
	update(t, s, Account, func(tx kms.Tx) error { return tx.PutKey(r) })
	view(t, s, Account, func(tx kms.Tx) error {
		got, err := tx.Key("k")
		if err != nil || !EqualRecords(got, r) {
			t.Errorf("after replace: %v %+v", err, got)
		}
		return nil
	})
	update(t, s, Account, func(tx kms.Tx) error { return tx.DeleteKey("k") })
	update(t, s, Account, func(tx kms.Tx) error {
		if _, err := tx.Key("k"); !errors.Is(err, kms.ErrNotFound) {
			t.Errorf("deleted key: err = %v", err)
		}
		if err := tx.DeleteKey("k"); !errors.Is(err, kms.ErrNotFound) {
			t.Errorf("delete missing key: err = %v", err)
		}
		return nil
	})
}

func testAliasRoundTrip(t *testing.T, s kms.Store) {
	a := alias(Account, "alias/x", "k1")
	update(t, s, Account, func(tx kms.Tx) error { return tx.PutAlias(a) })
	view(t, s, Account, func(tx kms.Tx) error {
		got, err := tx.Alias("alias/x")
		if err != nil || !equalAliases(got, a) {
			t.Errorf("Alias = %+v, %v; want %+v", got, err, a)
		}
		if _, err := tx.Alias("alias/y"); !errors.Is(err, kms.ErrNotFound) {
			t.Errorf("missing alias err = %v", err)
		}
		return nil
	})
	b := alias(Account, "alias/x", "k2")
	update(t, s, Account, func(tx kms.Tx) error { return tx.PutAlias(b) })
	update(t, s, Account, func(tx kms.Tx) error {
		got, err := tx.Alias("alias/x")
		if err != nil || got.TargetKeyID != "k2" {
			t.Errorf("replaced alias = %+v, %v", got, err)
		}
		if err := tx.DeleteAlias("alias/x"); err != nil {
			return err
		}
		if err := tx.DeleteAlias("alias/x"); !errors.Is(err, kms.ErrNotFound) {
			t.Errorf("delete missing alias err = %v", err)
		}
		return nil
	})
}

func testAliasesOrdered(t *testing.T, s kms.Store) {
	names := []string{"alias/b", "alias/B", "alias/a", "alias/aws/s3"}
	update(t, s, Account, func(tx kms.Tx) error {
		for _, n := range names {
			if err := tx.PutAlias(alias(Account, n, "k")); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, Account, func(tx kms.Tx) error {
		as, err := tx.Aliases()
		if err != nil {
			return err
		}
		var got []string
		for _, a := range as {
			got = append(got, a.Name)
		}
		if want := []string{"alias/B", "alias/a", "alias/aws/s3", "alias/b"}; !slices.Equal(got, want) {
			t.Errorf("Aliases = %v, want %v (byte order, case-sensitive)", got, want)
		}
		return nil
	})
}

func testCopies(t *testing.T, s kms.Store) {
	r := Record(Account, "k")
	update(t, s, Account, func(tx kms.Tx) error {
		if err := tx.PutKey(r); err != nil {
			return err
		}
		return tx.PutAlias(alias(Account, "alias/a", "k"))
	})
	// Mutating what was passed in or handed out must not reach the store.
	r.Key.Description = "changed"
	r.Materials[0].Sealed[0] = 42
	r.Key.Policy[0] = '['
	view(t, s, Account, func(tx kms.Tx) error {
		got, _ := tx.Key("k")
		got.Materials[0].Sealed[1] = 42
		got.Key.Policy[1] = '['
		got.Materials = nil
		a, _ := tx.Alias("alias/a")
		a.TargetKeyID = "other"
		return nil
	})
	view(t, s, Account, func(tx kms.Tx) error {
		got, err := tx.Key("k")
		if err != nil || !EqualRecords(got, Record(Account, "k")) {
			t.Errorf("stored record changed through shared memory: %+v", got)
		}
		a, err := tx.Alias("alias/a")
		if err != nil || a.TargetKeyID != "k" {
			t.Errorf("stored alias changed through shared memory: %+v", a)
		}
		return nil
	})
}

func testIsolation(t *testing.T, s kms.Store) {
	update(t, s, Account, func(tx kms.Tx) error {
		if err := tx.PutKey(Record(Account, "k")); err != nil {
			return err
		}
		return tx.PutAlias(alias(Account, "alias/a", "k"))
	})
	view(t, s, OtherAccount, func(tx kms.Tx) error {
		if _, err := tx.Key("k"); !errors.Is(err, kms.ErrNotFound) {
			t.Errorf("other account sees key: %v", err)
		}
		if _, err := tx.Alias("alias/a"); !errors.Is(err, kms.ErrNotFound) {
			t.Errorf("other account sees alias: %v", err)
		}
		ks, _ := tx.Keys()
		as, _ := tx.Aliases()
		if len(ks) != 0 || len(as) != 0 {
			t.Errorf("other account lists %d keys, %d aliases", len(ks), len(as))
		}
		return nil
	})
	update(t, s, OtherAccount, func(tx kms.Tx) error { return tx.PutKey(Record(OtherAccount, "k")) })
	update(t, s, OtherAccount, func(tx kms.Tx) error { return tx.DeleteKey("k") })
	view(t, s, Account, func(tx kms.Tx) error {
		if _, err := tx.Key("k"); err != nil {
			t.Errorf("deleting in one account removed another's key: %v", err)
		}
		return nil
	})
}

func testAccounts(t *testing.T, s kms.Store) {
	ctx := context.Background()
	got, err := s.Accounts(ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("empty store Accounts = %v, %v", got, err)
	}
	update(t, s, OtherAccount, func(tx kms.Tx) error { return tx.PutKey(Record(OtherAccount, "k")) })
	update(t, s, Account, func(tx kms.Tx) error { return tx.PutAlias(alias(Account, "alias/a", "k")) })
	// A transaction that writes nothing must not make an account appear.
	view(t, s, "999999999999", func(tx kms.Tx) error { return nil })
	update(t, s, "888888888888", func(tx kms.Tx) error { return nil })
	got, err = s.Accounts(ctx)
	if want := []string{Account, OtherAccount}; err != nil || !slices.Equal(got, want) {
		t.Errorf("Accounts = %v, %v; want %v", got, err, want)
	}
}

func testRollback(t *testing.T, s kms.Store) {
	update(t, s, Account, func(tx kms.Tx) error { return tx.PutKey(Record(Account, "keep")) })
	boom := errors.New("boom")
	err := s.Update(context.Background(), Account, func(tx kms.Tx) error {
		if err := tx.PutKey(Record(Account, "new")); err != nil {
			return err
		}
		if err := tx.DeleteKey("keep"); err != nil {
			return err
		}
		if err := tx.PutAlias(alias(Account, "alias/a", "new")); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", boom)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update err = %v, want fn's error", err)
	}
	view(t, s, Account, func(tx kms.Tx) error {
		if _, err := tx.Key("keep"); err != nil {
			t.Errorf("rolled-back delete happened: %v", err)
		}
		if _, err := tx.Key("new"); !errors.Is(err, kms.ErrNotFound) {
			t.Errorf("rolled-back put happened: %v", err)
		}
		if _, err := tx.Alias("alias/a"); !errors.Is(err, kms.ErrNotFound) {
			t.Errorf("rolled-back alias happened: %v", err)
		}
		return nil
	})
}

func testReadOnlyView(t *testing.T, s kms.Store) {
	update(t, s, Account, func(tx kms.Tx) error {
		if err := tx.PutKey(Record(Account, "k")); err != nil {
			return err
		}
		return tx.PutAlias(alias(Account, "alias/a", "k"))
	})
	_ = s.View(context.Background(), Account, func(tx kms.Tx) error {
		if tx.PutKey(Record(Account, "x")) == nil {
			t.Error("PutKey in View succeeded")
		}
		if tx.DeleteKey("k") == nil {
			t.Error("DeleteKey in View succeeded")
		}
		if tx.PutAlias(alias(Account, "alias/b", "k")) == nil {
			t.Error("PutAlias in View succeeded")
		}
		if tx.DeleteAlias("alias/a") == nil {
			t.Error("DeleteAlias in View succeeded")
		}
		return nil
	})
	view(t, s, Account, func(tx kms.Tx) error {
		ks, _ := tx.Keys()
		as, _ := tx.Aliases()
		if len(ks) != 1 || len(as) != 1 {
			t.Errorf("View writes leaked: %d keys, %d aliases", len(ks), len(as))
		}
		return nil
	})
}

// testConcurrent checks serializability: each transaction names its key
// after the number of keys it sees, so lost updates show up as fewer keys.
func testConcurrent(t *testing.T, s kms.Store) {
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Update(context.Background(), Account, func(tx kms.Tx) error {
				ks, err := tx.Keys()
				if err != nil {
					return err
				}
				id := fmt.Sprintf("k%03d", len(ks))
				if _, err := tx.Key(id); err == nil {
					return fmt.Errorf("key %s already exists: transactions not serializable", id)
				}
				return tx.PutKey(Record(Account, id))
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	view(t, s, Account, func(tx kms.Tx) error {
		ks, _ := tx.Keys()
		if len(ks) != n {
			t.Errorf("%d keys after %d concurrent creates", len(ks), n)
		}
		return nil
	})
}

// testServiceSmoke runs the KMS over the store end to end, which catches
// backends that lose fields the service depends on.
func testServiceSmoke(t *testing.T, s kms.Store) {
	ctx := context.Background()
	sealer, err := kms.NewLocalSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := kms.New(kms.Config{Store: s, Sealer: sealer, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	k, err := svc.CreateKey(ctx, Account, kms.CreateKeyInput{Description: "smoke"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.CreateAlias(ctx, Account, "alias/smoke", k.ID); err != nil {
		t.Fatal(err)
	}
	ec := map[string]string{"b": "2", "a": "1"}
	enc, err := svc.Encrypt(ctx, Account, "alias/smoke", []byte("hello"), ec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RotateKeyOnDemand(ctx, Account, k.ARN); err != nil {
		t.Fatal(err)
	}
	dec, err := svc.Decrypt(ctx, Account, enc.CiphertextBlob, "", ec)
	if err != nil || string(dec.Plaintext) != "hello" || dec.MaterialVersion != 1 {
		t.Fatalf("Decrypt after rotation = %+v, %v", dec, err)
	}
	dk, err := svc.GenerateDataKey(ctx, Account, k.ID, kms.DataKeyInput{KeySpec: kms.DataKeySpecAES256}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dec, err = svc.Decrypt(ctx, Account, dk.CiphertextBlob, k.ID, nil)
	if err != nil || !bytes.Equal(dec.Plaintext, dk.Plaintext) || dec.MaterialVersion != 2 {
		t.Fatalf("Decrypt data key = %+v, %v", dec, err)
	}
	if _, err := svc.DefaultKey(ctx, Account); err != nil {
		t.Fatal(err)
	}
	as, _, err := svc.ListAliases(ctx, Account, "", kms.Page{})
	if err != nil || len(as) != 2 {
		t.Fatalf("ListAliases = %v, %v", as, err)
	}
}
