// Package iamtest is the conformance suite for iam.Store backends, and an
// in-memory reference Store. Every backend's tests call Run, so all
// backends agree on what the IAM service relies on: records round-trip
// exactly, names are case-insensitive keys, accounts are isolated, access
// keys are shared with request authentication, failed transactions leave
// nothing behind, and concurrent transactions are serializable (which is
// what keeps IAM's limits under concurrency).
package iamtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-io/coffer/internal/iam"
)

// Accounts the suite uses. open must return a store in which both exist
// (backends that check account existence for access keys need them).
const (
	Account      = "111122223333"
	OtherAccount = "444455556666"
)

// Run runs the suite. open must return a new, empty store for each call
// and arrange for it to be closed (t.Cleanup); it is called from parallel
// subtests, so concurrently.
func Run(t *testing.T, open func(t *testing.T) iam.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s iam.Store)
	}{
		{"Users", testUsers},
		{"Groups", testGroups},
		{"Roles", testRoles},
		{"Policies", testPolicies},
		{"Count", testCount},
		{"AccessKeys", testAccessKeys},
		{"AccountIsolation", testIsolation},
		{"Rollback", testRollback},
		{"ReadOnlyView", testReadOnlyView},
		{"Lifecycle", testLifecycle},
		{"ConcurrentCreateUser", testConcurrentCreateUser},
		{"ConcurrentAccessKeys", testConcurrentAccessKeys},
		{"ConcurrentAttach", testConcurrentAttach},
		{"DeleteUserRacesCreateKey", testDeleteUserRacesCreateKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// date is a whole second, as the Service stores dates.
var date = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

func update(t *testing.T, s iam.Store, account string, fn func(tx iam.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), account, fn); err != nil {
		t.Fatal(err)
	}
}

func view(t *testing.T, s iam.Store, account string, fn func(tx iam.Tx) error) {
	t.Helper()
	if err := s.View(t.Context(), account, fn); err != nil {
		t.Fatal(err)
	}
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, iam.ErrNotFound) {
		t.Errorf("%s: %v, want ErrNotFound", what, err)
	}
}

// crud is the record contract shared by users, groups, roles and policies.
type crud[T any] struct {
	get  func(tx iam.Tx, name string) (*T, error)
	list func(tx iam.Tx) ([]*T, error)
	put  func(tx iam.Tx, v *T) error
	del  func(tx iam.Tx, name string) error
	name func(v *T) string
	// make returns a record named name with every field set.
	make func(name string) *T
	kind iam.Kind
}

func testCRUD[T any](t *testing.T, s iam.Store, c crud[T]) {
	full := c.make("Alice")
	update(t, s, Account, func(tx iam.Tx) error { return c.put(tx, full) })
	view(t, s, Account, func(tx iam.Tx) error {
		for _, name := range []string{"Alice", "alice", "ALICE"} {
			got, err := c.get(tx, name)
			if err != nil {
				t.Fatalf("get %s: %v", name, err)
			}
			if d := cmp.Diff(full, got); d != "" {
				t.Errorf("get %s: record changed (-put +got):\n%s", name, d)
			}
		}
		_, err := c.get(tx, "bob")
		wantNotFound(t, "get missing", err)
		return nil
	})

	// Put under another casing replaces the record: names are unique
	// case-insensitively.
	renamed := c.make("ALICE")
	update(t, s, Account, func(tx iam.Tx) error { return c.put(tx, renamed) })
	for _, n := range []string{"carol", "Bob", "dave", "_x", "Zed"} {
		update(t, s, Account, func(tx iam.Tx) error { return c.put(tx, c.make(n)) })
	}
	view(t, s, Account, func(tx iam.Tx) error {
		all, err := c.list(tx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, v := range all {
			names = append(names, c.name(v))
		}
		// Ordered by lower-cased name ('_' sorts after letters' upper
		// case but before lower case, so after lower-casing it sorts
		// before "a").
		want := []string{"_x", "ALICE", "Bob", "carol", "dave", "Zed"}
		if d := cmp.Diff(want, names); d != "" {
			t.Errorf("list (-want +got):\n%s", d)
		}
		if n, err := tx.Count(c.kind); err != nil || n != len(want) {
			t.Errorf("Count = %d, %v; want %d", n, err, len(want))
		}
		return nil
	})

	// Returned records are the caller's: modifying one changes nothing.
	view(t, s, Account, func(tx iam.Tx) error {
		v, err := c.get(tx, "bob")
		if err != nil {
			t.Fatal(err)
		}
		*v = *c.make("mallory")
		return nil
	})
	view(t, s, Account, func(tx iam.Tx) error {
		v, err := c.get(tx, "bob")
		if err != nil || c.name(v) != "Bob" {
			t.Errorf("after modifying a returned record: %v, %v", v, err)
		}
		return nil
	})

	update(t, s, Account, func(tx iam.Tx) error { return c.del(tx, "BOB") })
	view(t, s, Account, func(tx iam.Tx) error {
		_, err := c.get(tx, "bob")
		wantNotFound(t, "get deleted", err)
		return nil
	})
	err := s.Update(t.Context(), Account, func(tx iam.Tx) error { return c.del(tx, "bob") })
	wantNotFound(t, "delete missing", err)
}

var tags = []iam.Tag{{Key: "team", Value: "storage"}, {Key: "Cost-Center", Value: ""}}

func testUsers(t *testing.T, s iam.Store) {
	testCRUD(t, s, crud[iam.User]{
		get: iam.Tx.User, list: iam.Tx.Users, put: iam.Tx.PutUser, del: iam.Tx.DeleteUser,
		name: func(u *iam.User) string { return u.UserName }, kind: iam.KindUser,
		make: func(name string) *iam.User {
			return &iam.User{Path: "/eng/", UserName: name, UserID: "AIDA" + name, CreateDate: date,
				PermissionsBoundary: "arn:aws:iam::111122223333:policy/b", Tags: tags,
				InlinePolicies:   []iam.InlinePolicy{{Name: "p", Document: `{"Version":"2012-10-17"}`}},
				AttachedPolicies: []string{"arn:aws:iam::111122223333:policy/x"}, Groups: []string{"admins"}}
		},
	})
}

func testGroups(t *testing.T, s iam.Store) {
	testCRUD(t, s, crud[iam.Group]{
		get: iam.Tx.Group, list: iam.Tx.Groups, put: iam.Tx.PutGroup, del: iam.Tx.DeleteGroup,
		name: func(g *iam.Group) string { return g.GroupName }, kind: iam.KindGroup,
		make: func(name string) *iam.Group {
			return &iam.Group{Path: "/", GroupName: name, GroupID: "AGPA" + name, CreateDate: date,
				InlinePolicies:   []iam.InlinePolicy{{Name: "p", Document: "{}"}},
				AttachedPolicies: []string{"arn:aws:iam::111122223333:policy/x"}}
		},
	})
}

func testRoles(t *testing.T, s iam.Store) {
	testCRUD(t, s, crud[iam.Role]{
		get: iam.Tx.Role, list: iam.Tx.Roles, put: iam.Tx.PutRole, del: iam.Tx.DeleteRole,
		name: func(r *iam.Role) string { return r.RoleName }, kind: iam.KindRole,
		make: func(name string) *iam.Role {
			return &iam.Role{Path: "/svc/", RoleName: name, RoleID: "AROA" + name, CreateDate: date,
				AssumeRolePolicyDocument: `{"Statement":[]}`, Description: "d", MaxSessionDuration: 7200,
				PermissionsBoundary: "arn:aws:iam::111122223333:policy/b", Tags: tags,
				InlinePolicies:   []iam.InlinePolicy{{Name: "p", Document: "{}"}},
				AttachedPolicies: []string{"arn:aws:iam::111122223333:policy/x"}}
		},
	})
}

func testPolicies(t *testing.T, s iam.Store) {
	testCRUD(t, s, crud[iam.Policy]{
		get: iam.Tx.Policy, list: iam.Tx.Policies, put: iam.Tx.PutPolicy, del: iam.Tx.DeletePolicy,
		name: func(p *iam.Policy) string { return p.PolicyName }, kind: iam.KindPolicy,
		make: func(name string) *iam.Policy {
			return &iam.Policy{Path: "/", PolicyName: name, PolicyID: "ANPA" + name, Description: "d",
				DefaultVersionID: "v2", AttachmentCount: 3, PermissionsBoundaryUsageCount: 1,
				CreateDate: date, UpdateDate: date.Add(time.Hour), Tags: tags,
				Versions: []iam.PolicyVersion{
					{VersionID: "v1", Document: `{"a":1}`, CreateDate: date},
					{VersionID: "v2", Document: `{"a":2}`, CreateDate: date.Add(time.Hour)},
				}, NextVersion: 3}
		},
	})
}

func testCount(t *testing.T, s iam.Store) {
	update(t, s, Account, func(tx iam.Tx) error {
		for i := range 3 {
			if err := tx.PutUser(&iam.User{Path: "/", UserName: fmt.Sprint("u", i), CreateDate: date}); err != nil {
				return err
			}
		}
		return tx.PutRole(&iam.Role{Path: "/", RoleName: "r", CreateDate: date})
	})
	view(t, s, Account, func(tx iam.Tx) error {
		for kind, want := range map[iam.Kind]int{iam.KindUser: 3, iam.KindRole: 1, iam.KindGroup: 0, iam.KindPolicy: 0} {
			if n, err := tx.Count(kind); err != nil || n != want {
				t.Errorf("Count(%v) = %d, %v; want %d", kind, n, err, want)
			}
		}
		return nil
	})
	view(t, s, OtherAccount, func(tx iam.Tx) error {
		if n, err := tx.Count(iam.KindUser); err != nil || n != 0 {
			t.Errorf("other account: Count(user) = %d, %v; want 0", n, err)
		}
		return nil
	})
}

func key(id, user string) *iam.AccessKey {
	return &iam.AccessKey{AccessKeyID: id, SecretAccessKey: "secret-of-" + id, UserName: user,
		Status: iam.StatusActive, CreateDate: date}
}

func testAccessKeys(t *testing.T, s iam.Store) {
	a1, a2, root := key("AKIAAAAAAAAAAAAAAAA1", "alice"), key("AKIAAAAAAAAAAAAAAAA2", "alice"), key("AKIAAAAAAAAAAAAAAAR1", "")
	b1 := key("AKIAAAAAAAAAAAAAAAB1", "bob")
	update(t, s, Account, func(tx iam.Tx) error {
		for _, k := range []*iam.AccessKey{a1, a2, root, b1} {
			if err := tx.PutAccessKey(k); err != nil {
				return err
			}
		}
		return nil
	})
	ids := func(keys []*iam.AccessKey) map[string]bool {
		m := map[string]bool{}
		for _, k := range keys {
			m[k.AccessKeyID] = true
		}
		return m
	}
	view(t, s, Account, func(tx iam.Tx) error {
		got, err := tx.AccessKey(a1.AccessKeyID)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(a1, got); d != "" {
			t.Errorf("AccessKey (-put +got):\n%s", d)
		}
		list, err := tx.AccessKeys("alice")
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(map[string]bool{a1.AccessKeyID: true, a2.AccessKeyID: true}, ids(list)); d != "" {
			t.Errorf("AccessKeys(alice) (-want +got):\n%s", d)
		}
		for _, k := range list {
			if k.SecretAccessKey == "" {
				t.Errorf("AccessKeys(alice): key %s without its secret", k.AccessKeyID)
			}
		}
		list, err = tx.AccessKeys("")
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(map[string]bool{root.AccessKeyID: true}, ids(list)); d != "" {
			t.Errorf("AccessKeys(root) (-want +got):\n%s", d)
		}
		_, err = tx.AccessKey("AKIAMISSINGMISSING00")
		wantNotFound(t, "missing key", err)
		return nil
	})

	// Replace: status and last use change, and a rename moves the key to
	// another user.
	upd := *a1
	upd.Status = iam.StatusInactive
	upd.UserName = "alicia"
	upd.LastUsed = &iam.AccessKeyLastUsed{Date: date.Add(time.Minute), ServiceName: "s3", Region: "us-east-1"}
	update(t, s, Account, func(tx iam.Tx) error { return tx.PutAccessKey(&upd) })
	view(t, s, Account, func(tx iam.Tx) error {
		got, err := tx.AccessKey(a1.AccessKeyID)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(&upd, got); d != "" {
			t.Errorf("AccessKey after update (-want +got):\n%s", d)
		}
		if list, _ := tx.AccessKeys("alice"); len(list) != 1 {
			t.Errorf("alice has %d keys after the move, want 1", len(list))
		}
		if list, _ := tx.AccessKeys("alicia"); len(list) != 1 {
			t.Errorf("alicia has %d keys after the move, want 1", len(list))
		}
		return nil
	})

	// Keys are global ids: another account can neither see nor take one.
	view(t, s, OtherAccount, func(tx iam.Tx) error {
		_, err := tx.AccessKey(a2.AccessKeyID)
		wantNotFound(t, "other account's key", err)
		if list, _ := tx.AccessKeys(""); len(list) != 0 {
			t.Errorf("other account sees %d root keys", len(list))
		}
		return nil
	})
	if err := s.Update(t.Context(), OtherAccount, func(tx iam.Tx) error { return tx.PutAccessKey(key(a2.AccessKeyID, "eve")) }); err == nil {
		t.Error("PutAccessKey with another account's key id succeeded")
	}
	err := s.Update(t.Context(), OtherAccount, func(tx iam.Tx) error { return tx.DeleteAccessKey(a2.AccessKeyID) })
	wantNotFound(t, "delete another account's key", err)

	update(t, s, Account, func(tx iam.Tx) error { return tx.DeleteAccessKey(a2.AccessKeyID) })
	view(t, s, Account, func(tx iam.Tx) error {
		_, err := tx.AccessKey(a2.AccessKeyID)
		wantNotFound(t, "deleted key", err)
		if list, _ := tx.AccessKeys("alice"); len(list) != 0 {
			t.Errorf("alice has %d keys after deletion", len(list))
		}
		return nil
	})
	err = s.Update(t.Context(), Account, func(tx iam.Tx) error { return tx.DeleteAccessKey(a2.AccessKeyID) })
	wantNotFound(t, "delete missing key", err)
}

func testIsolation(t *testing.T, s iam.Store) {
	update(t, s, Account, func(tx iam.Tx) error {
		return tx.PutUser(&iam.User{Path: "/", UserName: "alice", UserID: "AIDA1", CreateDate: date})
	})
	update(t, s, OtherAccount, func(tx iam.Tx) error {
		return tx.PutUser(&iam.User{Path: "/", UserName: "alice", UserID: "AIDA2", CreateDate: date})
	})
	for acct, id := range map[string]string{Account: "AIDA1", OtherAccount: "AIDA2"} {
		view(t, s, acct, func(tx iam.Tx) error {
			u, err := tx.User("alice")
			if err != nil || u.UserID != id {
				t.Errorf("%s: alice = %+v, %v; want id %s", acct, u, err, id)
			}
			if all, _ := tx.Users(); len(all) != 1 {
				t.Errorf("%s lists %d users, want 1", acct, len(all))
			}
			return nil
		})
	}
	update(t, s, OtherAccount, func(tx iam.Tx) error { return tx.DeleteUser("alice") })
	view(t, s, Account, func(tx iam.Tx) error {
		if _, err := tx.User("alice"); err != nil {
			t.Errorf("deleting another account's alice removed this one: %v", err)
		}
		return nil
	})
}

func testRollback(t *testing.T, s iam.Store) {
	boom := errors.New("boom")
	err := s.Update(t.Context(), Account, func(tx iam.Tx) error {
		if err := tx.PutUser(&iam.User{Path: "/", UserName: "ghost", CreateDate: date}); err != nil {
			return err
		}
		if err := tx.PutAccessKey(key("AKIAGHOSTGHOSTGHOST1", "ghost")); err != nil {
			return err
		}
		// The transaction sees its own writes.
		if _, err := tx.User("GHOST"); err != nil {
			t.Errorf("own write not visible: %v", err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want the function's error", err)
	}
	view(t, s, Account, func(tx iam.Tx) error {
		_, err := tx.User("ghost")
		wantNotFound(t, "user of a failed transaction", err)
		_, err = tx.AccessKey("AKIAGHOSTGHOSTGHOST1")
		wantNotFound(t, "key of a failed transaction", err)
		return nil
	})
	// A refused transaction between good ones does not disturb them.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Update(context.Background(), Account, func(tx iam.Tx) error {
				if err := tx.PutUser(&iam.User{Path: "/", UserName: fmt.Sprint("u", i), CreateDate: date}); err != nil {
					return err
				}
				if i%2 == 1 {
					return boom
				}
				return nil
			})
			if (i%2 == 1) != errors.Is(err, boom) {
				t.Errorf("transaction %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	view(t, s, Account, func(tx iam.Tx) error {
		if n, _ := tx.Count(iam.KindUser); n != 4 {
			t.Errorf("%d users after 4 good and 4 failed transactions", n)
		}
		return nil
	})
}

func testReadOnlyView(t *testing.T, s iam.Store) {
	err := s.View(t.Context(), Account, func(tx iam.Tx) error {
		return tx.PutUser(&iam.User{Path: "/", UserName: "x", CreateDate: date})
	})
	if err == nil {
		t.Error("PutUser in a View succeeded")
	}
	err = s.View(t.Context(), Account, func(tx iam.Tx) error { return tx.PutAccessKey(key("AKIAVIEWVIEWVIEWVIEW", "")) })
	if err == nil {
		t.Error("PutAccessKey in a View succeeded")
	}
	view(t, s, Account, func(tx iam.Tx) error {
		if n, _ := tx.Count(iam.KindUser); n != 0 {
			t.Errorf("a View wrote %d users", n)
		}
		_, err := tx.AccessKey("AKIAVIEWVIEWVIEWVIEW")
		wantNotFound(t, "key written in a View", err)
		return nil
	})
}

// Scenarios through the Service: what its invariants need from the store.

const (
	doc   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}`
)

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: %v, want %v", what, err, kind)
	}
}

func testLifecycle(t *testing.T, s iam.Store) {
	svc := &iam.Service{Store: s}
	ctx := t.Context()
	pol := must[*iam.Policy](t)(svc.CreatePolicy(ctx, Account, iam.CreatePolicyInput{PolicyName: "S3All", PolicyDocument: doc}))
	bnd := must[*iam.Policy](t)(svc.CreatePolicy(ctx, Account, iam.CreatePolicyInput{PolicyName: "Cap", Path: "/caps/", PolicyDocument: `{"cap":1}`}))
	u := must[*iam.User](t)(svc.CreateUser(ctx, Account, iam.CreateUserInput{UserName: "alice", PermissionsBoundary: bnd.ARN(Account)}))
	must[*iam.Group](t)(svc.CreateGroup(ctx, Account, "devs", ""))
	check(t, svc.AddUserToGroup(ctx, Account, "DEVS", "Alice"))
	check(t, svc.PutInlinePolicy(ctx, Account, iam.KindGroup, "devs", "g", `{"g":1}`))
	check(t, svc.AttachPolicy(ctx, Account, iam.KindUser, "alice", pol.ARN(Account)))
	check(t, svc.PutInlinePolicy(ctx, Account, iam.KindUser, "alice", "own", `{"u":1}`))
	k := must[*iam.AccessKey](t)(svc.CreateAccessKey(ctx, Account, "alice"))

	identity, boundary, err := svc.PrincipalPolicies(ctx, Account, "alice")
	check(t, err)
	var docs []string
	for _, d := range identity {
		docs = append(docs, string(d))
	}
	if d := cmp.Diff([]string{`{"u":1}`, doc, `{"g":1}`}, docs); d != "" {
		t.Errorf("identity policies (-want +got):\n%s", d)
	}
	if string(boundary) != `{"cap":1}` {
		t.Errorf("boundary = %s", boundary)
	}
	p := must[*iam.Policy](t)(svc.GetPolicy(ctx, Account, bnd.ARN(Account)))
	if p.PermissionsBoundaryUsageCount != 1 {
		t.Errorf("boundary usage count = %d, want 1", p.PermissionsBoundaryUsageCount)
	}

	// The user cannot go while anything hangs on it.
	wantKind(t, "delete user with keys", svc.DeleteUser(ctx, Account, "alice"), iam.ErrDeleteConflict)
	wantKind(t, "delete attached policy", svc.DeletePolicy(ctx, Account, pol.ARN(Account)), iam.ErrDeleteConflict)
	wantKind(t, "delete boundary policy", svc.DeletePolicy(ctx, Account, bnd.ARN(Account)), iam.ErrDeleteConflict)
	wantKind(t, "delete group with members", svc.DeleteGroup(ctx, Account, "devs"), iam.ErrDeleteConflict)

	// A rename carries keys and memberships along.
	check(t, svc.UpdateUser(ctx, Account, "alice", "alicia", "/people/"))
	keys := must[iam.Page[*iam.AccessKey]](t)(svc.ListAccessKeys(ctx, Account, "alicia", iam.ListOptions{}))
	if len(keys.Items) != 1 || keys.Items[0].AccessKeyID != k.AccessKeyID || keys.Items[0].UserName != "alicia" {
		t.Errorf("keys after rename: %+v", keys.Items)
	}
	g, members, err := svc.GetGroup(ctx, Account, "devs", iam.ListOptions{})
	check(t, err)
	if len(members.Items) != 1 || members.Items[0].UserName != "alicia" || members.Items[0].UserID != u.UserID {
		t.Errorf("members of %s after rename: %+v", g.GroupName, members.Items)
	}

	check(t, svc.DeleteAccessKey(ctx, Account, "alicia", k.AccessKeyID))
	check(t, svc.DeleteInlinePolicy(ctx, Account, iam.KindUser, "alicia", "own"))
	check(t, svc.DetachPolicy(ctx, Account, iam.KindUser, "alicia", pol.ARN(Account)))
	check(t, svc.RemoveUserFromGroup(ctx, Account, "devs", "alicia"))
	check(t, svc.DeleteUser(ctx, Account, "alicia"))
	check(t, svc.DeleteInlinePolicy(ctx, Account, iam.KindGroup, "devs", "g"))
	check(t, svc.DeleteGroup(ctx, Account, "devs"))
	check(t, svc.DeletePolicy(ctx, Account, pol.ARN(Account)))
	check(t, svc.DeletePolicy(ctx, Account, bnd.ARN(Account))) // the boundary went with the user

	r := must[*iam.Role](t)(svc.CreateRole(ctx, Account, iam.CreateRoleInput{RoleName: "reader", AssumeRolePolicyDocument: trust}))
	if r.MaxSessionDuration != 3600 {
		t.Errorf("MaxSessionDuration = %d, want 3600", r.MaxSessionDuration)
	}
	check(t, svc.PutInlinePolicy(ctx, Account, iam.KindRole, "reader", "r", doc))
	identity, boundary, err = svc.RolePolicies(ctx, Account, "reader")
	check(t, err)
	if len(identity) != 1 || string(identity[0]) != doc || boundary != nil {
		t.Errorf("role policies: %q, %q", identity, boundary)
	}
	wantKind(t, "delete role with policies", svc.DeleteRole(ctx, Account, "reader"), iam.ErrDeleteConflict)
	check(t, svc.DeleteInlinePolicy(ctx, Account, iam.KindRole, "reader", "r"))
	check(t, svc.DeleteRole(ctx, Account, "reader"))

	view(t, s, Account, func(tx iam.Tx) error {
		for _, kind := range []iam.Kind{iam.KindUser, iam.KindGroup, iam.KindRole, iam.KindPolicy} {
			if n, _ := tx.Count(kind); n != 0 {
				t.Errorf("%d %v records left", n, kind)
			}
		}
		return nil
	})
}

// parallel runs fn(i) for i in [0, n) concurrently and returns the errors.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

func tally(t *testing.T, errs []error, kind error) (ok, refused int) {
	t.Helper()
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, kind):
			refused++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	return ok, refused
}

func testConcurrentCreateUser(t *testing.T, s iam.Store) {
	svc := &iam.Service{Store: s}
	errs := parallel(8, func(i int) error {
		name := []string{"bob", "Bob", "BOB", "bOb"}[i%4]
		_, err := svc.CreateUser(context.Background(), Account, iam.CreateUserInput{UserName: name})
		return err
	})
	if ok, _ := tally(t, errs, iam.ErrEntityAlreadyExists); ok != 1 {
		t.Errorf("%d of 8 concurrent CreateUser of one name succeeded, want 1", ok)
	}
}

func testConcurrentAccessKeys(t *testing.T, s iam.Store) {
	svc := &iam.Service{Store: s}
	ctx := t.Context()
	must[*iam.User](t)(svc.CreateUser(ctx, Account, iam.CreateUserInput{UserName: "carol"}))
	errs := parallel(8, func(int) error {
		_, err := svc.CreateAccessKey(context.Background(), Account, "carol")
		return err
	})
	if ok, _ := tally(t, errs, iam.ErrLimitExceeded); ok != 2 {
		t.Errorf("%d of 8 concurrent CreateAccessKey succeeded, want 2", ok)
	}
	keys := must[iam.Page[*iam.AccessKey]](t)(svc.ListAccessKeys(ctx, Account, "carol", iam.ListOptions{}))
	if len(keys.Items) != 2 {
		t.Errorf("carol has %d keys, want 2", len(keys.Items))
	}
}

func testConcurrentAttach(t *testing.T, s iam.Store) {
	svc := &iam.Service{Store: s}
	ctx := t.Context()
	must[*iam.Role](t)(svc.CreateRole(ctx, Account, iam.CreateRoleInput{RoleName: "r", AssumeRolePolicyDocument: trust}))
	var arns []string
	for i := range 12 {
		p := must[*iam.Policy](t)(svc.CreatePolicy(ctx, Account, iam.CreatePolicyInput{PolicyName: fmt.Sprint("p", i), PolicyDocument: doc}))
		arns = append(arns, p.ARN(Account))
	}
	errs := parallel(12, func(i int) error {
		return svc.AttachPolicy(context.Background(), Account, iam.KindRole, "r", arns[i])
	})
	if ok, _ := tally(t, errs, iam.ErrLimitExceeded); ok != 10 {
		t.Errorf("%d of 12 concurrent attachments succeeded, want 10", ok)
	}
	attached := must[iam.Page[iam.AttachedPolicy]](t)(svc.ListAttachedPolicies(ctx, Account, iam.KindRole, "r", iam.ListOptions{}))
	total := 0
	for _, arn := range arns {
		p := must[*iam.Policy](t)(svc.GetPolicy(ctx, Account, arn))
		total += p.AttachmentCount
	}
	if len(attached.Items) != 10 || total != 10 {
		t.Errorf("%d policies attached, attachment counts sum to %d; want 10 and 10", len(attached.Items), total)
	}
}

func testDeleteUserRacesCreateKey(t *testing.T, s iam.Store) {
	svc := &iam.Service{Store: s}
	for round := range 10 {
		name := fmt.Sprint("racer", round)
		must[*iam.User](t)(svc.CreateUser(t.Context(), Account, iam.CreateUserInput{UserName: name}))
		errs := parallel(2, func(i int) error {
			if i == 0 {
				return svc.DeleteUser(context.Background(), Account, name)
			}
			_, err := svc.CreateAccessKey(context.Background(), Account, name)
			return err
		})
		// Either the key came first and the delete conflicts, or the
		// delete came first and the key has no user; never both
		// succeed, which would leave a key of a deleted user.
		switch {
		case errs[0] == nil && errs[1] == nil:
			t.Fatalf("round %d: both the delete and the key creation succeeded", round)
		case errs[0] == nil:
			wantKind(t, "key for a deleted user", errs[1], iam.ErrNoSuchEntity)
		case errs[1] == nil:
			wantKind(t, "delete of a user with a key", errs[0], iam.ErrDeleteConflict)
		default:
			t.Fatalf("round %d: both failed: %v, %v", round, errs[0], errs[1])
		}
	}
}
