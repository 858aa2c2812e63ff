// Package storetest is the conformance suite every macie.Store passes.
package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/coffer-io/coffer/internal/macie"
)

// Run runs the suite against stores made by open (each call a new,
// empty store).
func Run(t *testing.T, open func(t *testing.T) macie.Store) {
	ctx := context.Background()
	t.Run("PutGetDelete", func(t *testing.T) {
		s := open(t)
		if _, err := s.Get(ctx, "111111111111", macie.KindJob, "j1"); !errors.Is(err, macie.ErrNotFound) {
			t.Fatalf("get missing: %v", err)
		}
		if err := s.Put(ctx, "111111111111", macie.KindJob, "j1", []byte(`{"a":1}`)); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(ctx, "111111111111", macie.KindJob, "j1", []byte(`{"a":2}`)); err != nil {
			t.Fatal(err)
		}
		b, err := s.Get(ctx, "111111111111", macie.KindJob, "j1")
		if err != nil || string(b) != `{"a":2}` {
			t.Fatalf("get = %q, %v", b, err)
		}
		if err := s.Delete(ctx, "111111111111", macie.KindJob, "j1"); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "111111111111", macie.KindJob, "j1"); err != nil {
			t.Fatalf("delete twice: %v", err)
		}
		if _, err := s.Get(ctx, "111111111111", macie.KindJob, "j1"); !errors.Is(err, macie.ErrNotFound) {
			t.Fatalf("get deleted: %v", err)
		}
	})
	t.Run("Isolation", func(t *testing.T) {
		s := open(t)
		must(t, s.Put(ctx, "111111111111", macie.KindJob, "x", []byte("1")))
		must(t, s.Put(ctx, "222222222222", macie.KindJob, "x", []byte("2")))
		must(t, s.Put(ctx, "111111111111", macie.KindFinding, "x", []byte("3")))
		for _, c := range []struct {
			acct string
			kind macie.Kind
			want string
		}{{"111111111111", macie.KindJob, "1"}, {"222222222222", macie.KindJob, "2"}, {"111111111111", macie.KindFinding, "3"}} {
			b, err := s.Get(ctx, c.acct, c.kind, "x")
			if err != nil || string(b) != c.want {
				t.Errorf("%s/%s = %q, %v; want %q", c.acct, c.kind, b, err, c.want)
			}
		}
		if _, err := s.Get(ctx, "111111111111", macie.KindAllowList, "x"); !errors.Is(err, macie.ErrNotFound) {
			t.Errorf("other kind: %v", err)
		}
	})
	t.Run("ListOrderPrefixStop", func(t *testing.T) {
		s := open(t)
		ids := []string{"b\x00k2\x00", "a\x00k1\x00v1", "a\x00k1\x00v2", "c"}
		for _, id := range ids {
			must(t, s.Put(ctx, "111111111111", macie.KindScan, id, []byte(id)))
		}
		must(t, s.Put(ctx, "111111111111", macie.KindJob, "a", []byte("other kind")))
		var got []string
		must(t, s.List(ctx, "111111111111", macie.KindScan, "", func(id string, doc []byte) bool {
			if id != string(doc) {
				t.Errorf("id %q doc %q", id, doc)
			}
			got = append(got, id)
			return true
		}))
		want := []string{"a\x00k1\x00v1", "a\x00k1\x00v2", "b\x00k2\x00", "c"}
		if len(got) != len(want) {
			t.Fatalf("list = %q, want %q", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("list = %q, want %q", got, want)
			}
		}
		got = nil
		must(t, s.List(ctx, "111111111111", macie.KindScan, "a\x00", func(id string, _ []byte) bool {
			got = append(got, id)
			return len(got) < 1
		}))
		if len(got) != 1 || got[0] != "a\x00k1\x00v1" {
			t.Fatalf("prefix+stop = %q", got)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
