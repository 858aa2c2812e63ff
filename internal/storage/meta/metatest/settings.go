package metatest

import (
	"errors"
	"testing"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

func testAccountSettings(t *testing.T, s meta.Store) {
	ctx := t.Context()
	a := &meta.Account{ID: "333300000000", Name: "settings", CanonicalID: "c3", CreatedAt: tick()}
	must(t, s.CreateAccount(ctx, a, nil))

	got, err := s.GetAccountSettings(ctx, a.ID)
	must(t, err)
	diff(t, "settings never stored", &meta.AccountSettings{}, got)

	must(t, s.UpdateAccountSettings(ctx, a.ID, func(st *meta.AccountSettings) error {
		st.Configs = map[string][]byte{"publicAccessBlock": []byte("on")}
		return nil
	}))
	got, err = s.GetAccountSettings(ctx, a.ID)
	must(t, err)
	diff(t, "stored settings", &meta.AccountSettings{Configs: map[string][]byte{"publicAccessBlock": []byte("on")}}, got)

	// fn's error aborts and is returned as is, leaving the settings alone.
	boom := errors.New("boom")
	err = s.UpdateAccountSettings(ctx, a.ID, func(st *meta.AccountSettings) error {
		st.Configs = nil
		return boom
	})
	wantErr(t, "refused update", err, boom)
	got, err = s.GetAccountSettings(ctx, a.ID)
	must(t, err)
	diff(t, "settings after a refused update", &meta.AccountSettings{Configs: map[string][]byte{"publicAccessBlock": []byte("on")}}, got)

	_, err = s.GetAccountSettings(ctx, "999999999999")
	wantErr(t, "GetAccountSettings of a missing account", err, meta.ErrNotFound)
	err = s.UpdateAccountSettings(ctx, "999999999999", func(*meta.AccountSettings) error { return nil })
	wantErr(t, "UpdateAccountSettings of a missing account", err, meta.ErrNotFound)
}

// testObjectACL checks a version's ACL is kept with it, returned by reads
// and listings, and changed in place by UpdateObject.
func testObjectACL(t *testing.T, s meta.Store) {
	ctx := t.Context()
	mkBucket(t, s, "acl", meta.VersioningUnset)
	v := newObj("acl", "k")
	v.ACL = []byte(`{"grants":[]}`)
	_, err := s.PutObject(ctx, v, newVID(), nil)
	must(t, err)
	got := get(t, s, "acl", "k", "")
	diff(t, "ACL after PutObject", string(v.ACL), string(got.ACL))
	lst, err := s.ListObjects(ctx, "acl", meta.ListOptions{MaxKeys: 10})
	must(t, err)
	if len(lst.Objects) != 1 || string(lst.Objects[0].ACL) != string(v.ACL) {
		t.Fatalf("ListObjects lost the ACL: %+v", lst.Objects)
	}
	must(t, s.UpdateObject(ctx, "acl", "k", "", func(v *meta.ObjectVersion) error {
		v.ACL = []byte(`{"grants":[{}]}`)
		return nil
	}))
	diff(t, "ACL after UpdateObject", `{"grants":[{}]}`, string(get(t, s, "acl", "k", "").ACL))
	must(t, s.UpdateObject(ctx, "acl", "k", "", func(v *meta.ObjectVersion) error {
		v.ACL = nil
		return nil
	}))
	if acl := get(t, s, "acl", "k", "").ACL; acl != nil {
		t.Fatalf("ACL after removing it = %q", acl)
	}
}
