// Package storetest is the conformance suite every configrec.Store passes.
package storetest

import (
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/configrec"
)

func rec(acct, typ, id string, at time.Time, conf string) *configrec.Record {
	return &configrec.Record{CaptureTime: at, Item: configrec.Item{AccountID: acct, ResourceType: typ, ResourceID: id, Configuration: conf}}
}

// Run runs the suite against stores made by open.
func Run(t *testing.T, open func(t *testing.T) configrec.Store) {
	ctx := t.Context()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	t.Run("records", func(t *testing.T) {
		s := open(t)
		k := configrec.ResourceKey{Account: "111111111111", Type: configrec.TypeBucket, ID: "b"}
		if r, err := s.Latest(ctx, k); err != nil || r != nil {
			t.Fatalf("Latest of nothing = %v, %v", r, err)
		}
		for i, c := range []string{"a", "b", "c"} {
			if err := s.PutRecord(ctx, rec(k.Account, k.Type, k.ID, t0.Add(time.Duration(i)*time.Minute), c)); err != nil {
				t.Fatal(err)
			}
		}
		// Same capture time twice keeps both, in order.
		if err := s.PutRecord(ctx, rec(k.Account, k.Type, k.ID, t0.Add(2*time.Minute), "d")); err != nil {
			t.Fatal(err)
		}
		// Neighbours must not leak in.
		for _, other := range []configrec.ResourceKey{
			{Account: k.Account, Type: k.Type, ID: "b2"}, {Account: k.Account, Type: k.Type, ID: "a"},
			{Account: "222222222222", Type: k.Type, ID: "b"}, {Account: k.Account, Type: configrec.TypeAccountPAB, ID: "b"}} {
			if err := s.PutRecord(ctx, rec(other.Account, other.Type, other.ID, t0.Add(time.Hour), "x")); err != nil {
				t.Fatal(err)
			}
		}
		r, err := s.Latest(ctx, k)
		if err != nil || r == nil || r.Item.Configuration != "d" {
			t.Fatalf("Latest = %+v, %v; want d", r, err)
		}
		h, err := s.History(ctx, k, time.Time{}, time.Time{})
		if err != nil || len(h) != 4 || h[0].Item.Configuration != "a" || h[3].Item.Configuration != "d" {
			t.Fatalf("History = %+v, %v", h, err)
		}
		h, err = s.History(ctx, k, t0.Add(time.Minute), t0.Add(time.Minute))
		if err != nil || len(h) != 1 || h[0].Item.Configuration != "b" {
			t.Fatalf("History [1m,1m] = %+v, %v", h, err)
		}
		if !h[0].CaptureTime.Equal(t0.Add(time.Minute)) {
			t.Fatalf("capture time %v", h[0].CaptureTime)
		}
		rs, err := s.Resources(ctx, k.Account, k.Type)
		if err != nil || len(rs) != 3 || rs[0].ID != "a" || rs[1].ID != "b" || rs[2].ID != "b2" {
			t.Fatalf("Resources = %+v, %v", rs, err)
		}
	})
	t.Run("docs", func(t *testing.T) {
		s := open(t)
		if v, err := s.GetDoc(ctx, "rule", "x"); err != nil || v != nil {
			t.Fatalf("GetDoc of nothing = %q, %v", v, err)
		}
		for _, k := range []string{"a/2", "a/1", "b/1"} {
			if err := s.PutDoc(ctx, "rule", k, []byte(k)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.PutDoc(ctx, "other", "a/3", []byte("no")); err != nil {
			t.Fatal(err)
		}
		ds, err := s.ListDocs(ctx, "rule", "a/")
		if err != nil || len(ds) != 2 || ds[0].Key != "a/1" || string(ds[1].Value) != "a/2" {
			t.Fatalf("ListDocs = %+v, %v", ds, err)
		}
		if err := s.DeleteDoc(ctx, "rule", "a/1"); err != nil {
			t.Fatal(err)
		}
		if v, _ := s.GetDoc(ctx, "rule", "a/1"); v != nil {
			t.Fatal("deleted doc still there")
		}
		if v, _ := s.GetDoc(ctx, "rule", "b/1"); string(v) != "b/1" {
			t.Fatalf("GetDoc = %q", v)
		}
	})
}
