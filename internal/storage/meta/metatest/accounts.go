package metatest

import (
	"testing"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

func testAccounts(t *testing.T, s meta.Store) {
	ctx := t.Context()
	a1 := &meta.Account{ID: "222200000000", Name: "zeta", CanonicalID: "c1", Email: "z@example.com", CreatedAt: tick()}
	a2 := &meta.Account{ID: "111100000000", Name: "alpha", CanonicalID: "c2", CreatedAt: tick()}
	k1 := &meta.AccessKey{ID: "AKIAZETA", Secret: "s1", AccountID: a1.ID, Status: "Active", CreatedAt: tick()}

	list, err := s.ListAccounts(ctx)
	must(t, err)
	diff(t, "accounts of an empty store", []*meta.Account{}, list)

	must(t, s.CreateAccount(ctx, a1, k1))
	// The key is optional, and its AccountID defaults to the account's.
	must(t, s.CreateAccount(ctx, a2, nil))

	got, err := s.GetAccount(ctx, a1.ID)
	must(t, err)
	diff(t, "GetAccount", a1, got)
	got, err = s.GetAccountByName(ctx, "alpha")
	must(t, err)
	diff(t, "GetAccountByName", a2, got)
	key, err := s.GetAccessKey(ctx, k1.ID)
	must(t, err)
	diff(t, "access key created with the account", k1, key)

	list, err = s.ListAccounts(ctx)
	must(t, err)
	diff(t, "ListAccounts (by id)", []*meta.Account{a2, a1}, list)

	_, err = s.GetAccount(ctx, "999999999999")
	wantErr(t, "GetAccount of a missing id", err, meta.ErrNotFound)
	_, err = s.GetAccountByName(ctx, "nobody")
	wantErr(t, "GetAccountByName of a missing name", err, meta.ErrNotFound)

	// Duplicates, by id or by name, fail and leave nothing behind.
	dupID := &meta.Account{ID: a1.ID, Name: "other", CreatedAt: tick()}
	dupName := &meta.Account{ID: "333300000000", Name: a1.Name, CreatedAt: tick()}
	for _, dup := range []*meta.Account{dupID, dupName} {
		k := &meta.AccessKey{ID: "AKIADUP" + dup.ID, Secret: "x", AccountID: dup.ID, Status: "Active"}
		err := s.CreateAccount(ctx, dup, k)
		wantErr(t, "CreateAccount("+dup.ID+", "+dup.Name+")", err, meta.ErrAccountExists)
		_, err = s.GetAccessKey(ctx, k.ID)
		wantErr(t, "key of a refused account", err, meta.ErrAccessKeyNotFound)
	}
	_, err = s.GetAccountByName(ctx, "other")
	wantErr(t, "name of a refused account", err, meta.ErrNotFound)
	_, err = s.GetAccount(ctx, dupName.ID)
	wantErr(t, "id of a refused account", err, meta.ErrNotFound)
	got, err = s.GetAccount(ctx, a1.ID)
	must(t, err)
	diff(t, "account after refused duplicates", a1, got)

	// A key without AccountID gets the new account's id.
	a3 := &meta.Account{ID: "333300000001", Name: "gamma", CreatedAt: tick()}
	must(t, s.CreateAccount(ctx, a3, &meta.AccessKey{ID: "AKIAGAMMA", Secret: "s3", Status: "Active"}))
	key, err = s.GetAccessKey(ctx, "AKIAGAMMA")
	must(t, err)
	if key.AccountID != a3.ID {
		t.Errorf("key created with account %s has AccountID %q", a3.ID, key.AccountID)
	}
}

func testAccessKeys(t *testing.T, s meta.Store) {
	ctx := t.Context()
	a := &meta.Account{ID: "123412341234", Name: "acme", CreatedAt: tick()}
	must(t, s.CreateAccount(ctx, a, nil))

	_, err := s.GetAccessKey(ctx, "AKIANONE")
	wantErr(t, "GetAccessKey of a missing key", err, meta.ErrAccessKeyNotFound)

	k := &meta.AccessKey{ID: "AKIAONE", Secret: "secret", AccountID: a.ID, Status: "Active", CreatedAt: tick()}
	must(t, s.PutAccessKey(ctx, k))
	got, err := s.GetAccessKey(ctx, k.ID)
	must(t, err)
	diff(t, "PutAccessKey then GetAccessKey", k, got)

	// Put replaces.
	k2 := *k
	k2.Status = "Inactive"
	k2.UserName = "bob"
	must(t, s.PutAccessKey(ctx, &k2))
	got, err = s.GetAccessKey(ctx, k.ID)
	must(t, err)
	diff(t, "replaced key", &k2, got)

	// Keys belong to existing accounts.
	err = s.PutAccessKey(ctx, &meta.AccessKey{ID: "AKIAORPHAN", Secret: "x", AccountID: "000000000000", Status: "Active"})
	wantErr(t, "PutAccessKey for a missing account", err, meta.ErrNotFound)
	_, err = s.GetAccessKey(ctx, "AKIAORPHAN")
	wantErr(t, "refused key", err, meta.ErrAccessKeyNotFound)

	must(t, s.DeleteAccessKey(ctx, k.ID))
	_, err = s.GetAccessKey(ctx, k.ID)
	wantErr(t, "GetAccessKey after delete", err, meta.ErrAccessKeyNotFound)
	wantErr(t, "DeleteAccessKey of a missing key", s.DeleteAccessKey(ctx, k.ID), meta.ErrAccessKeyNotFound)

	// A key id cannot be taken by a new account.
	err = s.CreateAccount(ctx, &meta.Account{ID: "123412341235", Name: "thief", CreatedAt: tick()},
		&meta.AccessKey{ID: "AKIATAKEN", Secret: "y"})
	must(t, err)
	err = s.CreateAccount(ctx, &meta.Account{ID: "123412341236", Name: "thief2", CreatedAt: tick()},
		&meta.AccessKey{ID: "AKIATAKEN", Secret: "z"})
	if err == nil {
		t.Error("CreateAccount with an existing access key id succeeded")
	}
	_, err = s.GetAccount(ctx, "123412341236")
	wantErr(t, "account refused for its key", err, meta.ErrNotFound)
	got, err = s.GetAccessKey(ctx, "AKIATAKEN")
	must(t, err)
	if got.Secret != "y" || got.AccountID != "123412341235" {
		t.Errorf("existing key was overwritten: %+v", got)
	}
}
