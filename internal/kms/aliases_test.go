package kms_test

import (
	"strings"
	"testing"

	"github.com/coffer-io/coffer/internal/kms"
)

func TestAliases(t *testing.T) {
	f := newFixture(t)
	k1, k2 := f.key(t, acct), f.key(t, acct)
	pending := f.key(t, acct)
	if _, err := f.svc.ScheduleKeyDeletion(ctx, acct, pending.ID, 0); err != nil {
		t.Fatal(err)
	}
	disabled := f.key(t, acct)
	wantCode(t, f.svc.DisableKey(ctx, acct, disabled.ID), "")
	aws, _ := f.svc.DefaultKey(ctx, acct)
	foreign := f.key(t, other)

	create := []struct {
		name, alias, target, code string
	}{
		{"by id", "alias/one", k1.ID, ""},
		{"by arn", "alias/two", k1.ARN, ""},
		{"allowed chars", "alias/A-b_c/d:e9", k2.ID, ""},
		{"disabled target ok", "alias/dis", disabled.ID, ""},
		{"max length", "alias/" + strings.Repeat("x", 250), k2.ID, ""},
		{"duplicate", "alias/one", k2.ID, kms.CodeAlreadyExists},
		{"case-sensitive names", "alias/ONE", k2.ID, ""},
		{"reserved prefix", "alias/aws/mine", k1.ID, kms.CodeInvalidAliasName},
		{"no prefix", "mine", k1.ID, kms.CodeInvalidAliasName},
		{"prefix only", "alias/", k1.ID, kms.CodeInvalidAliasName},
		{"bad chars", "alias/sp ace", k1.ID, kms.CodeValidation},
		{"too long", "alias/" + strings.Repeat("x", 251), k1.ID, kms.CodeValidation},
		{"empty", "", k1.ID, kms.CodeValidation},
		{"missing target", "alias/m", "00000000-0000-4000-8000-000000000000", kms.CodeNotFound},
		{"alias as target", "alias/m", "alias/one", kms.CodeValidation},
		{"pending deletion target", "alias/m", pending.ID, kms.CodeInvalidState},
		{"aws managed target", "alias/m", aws.ID, kms.CodeUnsupportedOperation},
		{"other account target", "alias/m", foreign.ARN, kms.CodeNotFound},
		{"empty target", "alias/m", "", kms.CodeValidation},
	}
	for _, tc := range create {
		t.Run("Create/"+tc.name, func(t *testing.T) {
			wantCode(t, f.svc.CreateAlias(ctx, acct, tc.alias, tc.target), tc.code)
		})
	}
	a, _, err := f.svc.ListAliases(ctx, acct, "", kms.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range a {
		names = append(names, x.Name)
		if x.ARN != "arn:aws:kms:us-east-1:"+acct+":"+x.Name {
			t.Errorf("alias ARN %s", x.ARN)
		}
	}
	want := "alias/A-b_c/d:e9 alias/ONE alias/aws/s3 alias/dis alias/one alias/two alias/xxxx"
	if got := strings.Join(names, " "); !strings.HasPrefix(got, want) {
		t.Errorf("ListAliases = %s", got)
	}
	// Filter by key.
	a, _, err = f.svc.ListAliases(ctx, acct, k1.ARN, kms.Page{})
	if err != nil || len(a) != 2 || a[0].Name != "alias/one" || a[1].Name != "alias/two" {
		t.Errorf("ListAliases(k1) = %v, %v", a, err)
	}
	_, _, err = f.svc.ListAliases(ctx, acct, "alias/one", kms.Page{})
	wantCode(t, err, kms.CodeInvalidArn)
	_, _, err = f.svc.ListAliases(ctx, acct, "00000000-0000-4000-8000-000000000000", kms.Page{})
	wantCode(t, err, kms.CodeNotFound)
	// Paging.
	p1, next, err := f.svc.ListAliases(ctx, acct, "", kms.Page{Limit: 3})
	if err != nil || len(p1) != 3 || next == "" {
		t.Fatalf("page 1 = %v %q %v", p1, next, err)
	}
	p2, _, err := f.svc.ListAliases(ctx, acct, "", kms.Page{Limit: 3, Marker: next})
	if err != nil || len(p2) == 0 || p2[0].Name <= p1[2].Name {
		t.Fatalf("page 2 = %v %v", p2, err)
	}

	update := []struct {
		name, alias, target, code string
	}{
		{"retarget", "alias/one", k2.ID, ""},
		{"missing alias", "alias/nope", k2.ID, kms.CodeNotFound},
		{"reserved", "alias/aws/s3", k2.ID, kms.CodeInvalidAliasName},
		{"pending target", "alias/one", pending.ID, kms.CodeInvalidState},
		{"missing target", "alias/one", "alias/nope", kms.CodeValidation},
		{"aws target", "alias/two", aws.ARN, kms.CodeUnsupportedOperation},
	}
	before := f.clock.Now()
	f.clock.Advance(60e9)
	for _, tc := range update {
		t.Run("Update/"+tc.name, func(t *testing.T) {
			wantCode(t, f.svc.UpdateAlias(ctx, acct, tc.alias, tc.target), tc.code)
		})
	}
	d, err := f.svc.DescribeKey(ctx, acct, "alias/one")
	if err != nil || d.ID != k2.ID {
		t.Fatalf("alias/one -> %v %v", d, err)
	}
	a, _, _ = f.svc.ListAliases(ctx, acct, k2.ID, kms.Page{})
	for _, x := range a {
		if x.Name == "alias/one" && (!x.CreationDate.Equal(before) || !x.LastUpdatedDate.After(before)) {
			t.Errorf("dates after update: %+v", x)
		}
	}

	del := []struct {
		name, alias, code string
	}{
		{"existing", "alias/two", ""},
		{"again", "alias/two", kms.CodeNotFound},
		{"reserved", "alias/aws/s3", kms.CodeInvalidAliasName},
		{"bad name", "two", kms.CodeInvalidAliasName},
	}
	for _, tc := range del {
		t.Run("Delete/"+tc.name, func(t *testing.T) {
			wantCode(t, f.svc.DeleteAlias(ctx, acct, tc.alias), tc.code)
		})
	}
	if _, err := f.svc.DescribeKey(ctx, acct, k1.ID); err != nil {
		t.Errorf("deleting an alias affected its key: %v", err)
	}
	// The freed name can be reused.
	wantCode(t, f.svc.CreateAlias(ctx, acct, "alias/two", k2.ID), "")
}
