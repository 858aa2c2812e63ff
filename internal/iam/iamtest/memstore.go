package iamtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"

	"github.com/coffer-io/coffer/internal/iam"
)

// NewMemStore returns an in-memory iam.Store: the reference
// implementation of the Store contract (it passes Run), for tests of code
// built on the Service. Update transactions are serialized and work on a
// copy of the state that replaces it only on success.
func NewMemStore() iam.Store {
	return &memStore{st: &memState{recs: map[string][]byte{}, keys: map[string]memKey{}}}
}

type memStore struct {
	mu sync.Mutex // serializes writers
	rw sync.RWMutex
	st *memState // committed; never modified in place
}

type memState struct {
	recs map[string][]byte // account NUL kind NUL lower(name) → JSON record
	keys map[string]memKey // access key id → key
}

type memKey struct {
	account string
	key     iam.AccessKey
}

func (m *memStore) Update(ctx context.Context, account string, fn func(iam.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rw.RLock()
	cur := m.st
	m.rw.RUnlock()
	next := &memState{recs: maps.Clone(cur.recs), keys: maps.Clone(cur.keys)}
	if err := fn(&memTx{st: next, account: account, write: true}); err != nil {
		return err
	}
	m.rw.Lock()
	m.st = next
	m.rw.Unlock()
	return nil
}

func (m *memStore) View(ctx context.Context, account string, fn func(iam.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.rw.RLock()
	st := m.st
	m.rw.RUnlock()
	return fn(&memTx{st: st, account: account})
}

type memTx struct {
	st      *memState
	account string
	write   bool
}

var errReadOnly = errors.New("iamtest: write in a read-only transaction")

func (t *memTx) key(kind iam.Kind, name string) string {
	return t.account + "\x00" + kind.String() + "\x00" + strings.ToLower(name)
}

func (t *memTx) get(kind iam.Kind, name string, v any) error {
	data, ok := t.st.recs[t.key(kind, name)]
	if !ok {
		return iam.ErrNotFound
	}
	return json.Unmarshal(data, v)
}

func (t *memTx) put(kind iam.Kind, name string, v any) error {
	if !t.write {
		return errReadOnly
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	t.st.recs[t.key(kind, name)] = data
	return nil
}

func (t *memTx) del(kind iam.Kind, name string) error {
	if !t.write {
		return errReadOnly
	}
	k := t.key(kind, name)
	if _, ok := t.st.recs[k]; !ok {
		return iam.ErrNotFound
	}
	delete(t.st.recs, k)
	return nil
}

// list returns the records of kind in key order.
func list[T any](t *memTx, kind iam.Kind) ([]*T, error) {
	prefix := t.account + "\x00" + kind.String() + "\x00"
	var names []string
	for k := range t.st.recs {
		if strings.HasPrefix(k, prefix) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	out := make([]*T, 0, len(names))
	for _, k := range names {
		v := new(T)
		if err := json.Unmarshal(t.st.recs[k], v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (t *memTx) User(name string) (*iam.User, error) {
	u := new(iam.User)
	return u, t.get(iam.KindUser, name, u)
}
func (t *memTx) Users() ([]*iam.User, error)      { return list[iam.User](t, iam.KindUser) }
func (t *memTx) PutUser(u *iam.User) error        { return t.put(iam.KindUser, u.UserName, u) }
func (t *memTx) DeleteUser(name string) error     { return t.del(iam.KindUser, name) }
func (t *memTx) Groups() ([]*iam.Group, error)    { return list[iam.Group](t, iam.KindGroup) }
func (t *memTx) PutGroup(g *iam.Group) error      { return t.put(iam.KindGroup, g.GroupName, g) }
func (t *memTx) DeleteGroup(name string) error    { return t.del(iam.KindGroup, name) }
func (t *memTx) Roles() ([]*iam.Role, error)      { return list[iam.Role](t, iam.KindRole) }
func (t *memTx) PutRole(r *iam.Role) error        { return t.put(iam.KindRole, r.RoleName, r) }
func (t *memTx) DeleteRole(name string) error     { return t.del(iam.KindRole, name) }
func (t *memTx) Policies() ([]*iam.Policy, error) { return list[iam.Policy](t, iam.KindPolicy) }
func (t *memTx) PutPolicy(p *iam.Policy) error    { return t.put(iam.KindPolicy, p.PolicyName, p) }
func (t *memTx) DeletePolicy(name string) error   { return t.del(iam.KindPolicy, name) }

func (t *memTx) Group(name string) (*iam.Group, error) {
	g := new(iam.Group)
	return g, t.get(iam.KindGroup, name, g)
}

func (t *memTx) Role(name string) (*iam.Role, error) {
	r := new(iam.Role)
	return r, t.get(iam.KindRole, name, r)
}

func (t *memTx) Policy(name string) (*iam.Policy, error) {
	p := new(iam.Policy)
	return p, t.get(iam.KindPolicy, name, p)
}

func (t *memTx) Count(kind iam.Kind) (int, error) {
	prefix := t.account + "\x00" + kind.String() + "\x00"
	n := 0
	for k := range t.st.recs {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n, nil
}

func copyKey(k iam.AccessKey) *iam.AccessKey {
	if k.LastUsed != nil {
		l := *k.LastUsed
		k.LastUsed = &l
	}
	return &k
}

func (t *memTx) AccessKey(id string) (*iam.AccessKey, error) {
	k, ok := t.st.keys[id]
	if !ok || k.account != t.account {
		return nil, iam.ErrNotFound
	}
	return copyKey(k.key), nil
}

func (t *memTx) AccessKeys(userName string) ([]*iam.AccessKey, error) {
	var out []*iam.AccessKey
	for _, k := range t.st.keys {
		if k.account == t.account && strings.EqualFold(k.key.UserName, userName) {
			out = append(out, copyKey(k.key))
		}
	}
	return out, nil
}

func (t *memTx) PutAccessKey(k *iam.AccessKey) error {
	if !t.write {
		return errReadOnly
	}
	if k.AccessKeyID == "" || k.SecretAccessKey == "" {
		return errors.New("iamtest: access key id and secret are required")
	}
	if old, ok := t.st.keys[k.AccessKeyID]; ok && old.account != t.account {
		return fmt.Errorf("iamtest: access key %s belongs to another account", k.AccessKeyID)
	}
	t.st.keys[k.AccessKeyID] = memKey{account: t.account, key: *copyKey(*k)}
	return nil
}

func (t *memTx) DeleteAccessKey(id string) error {
	if !t.write {
		return errReadOnly
	}
	k, ok := t.st.keys[id]
	if !ok || k.account != t.account {
		return iam.ErrNotFound
	}
	delete(t.st.keys, id)
	return nil
}

// kindMFA files MFA devices among the records; it is no iam.Kind, only a
// key prefix of this store.
const kindMFA iam.Kind = 100

func (t *memTx) MFADevice(name string) (*iam.MFADevice, error) {
	d := new(iam.MFADevice)
	return d, t.get(kindMFA, name, d)
}
func (t *memTx) MFADevices() ([]*iam.MFADevice, error) { return list[iam.MFADevice](t, kindMFA) }
func (t *memTx) PutMFADevice(d *iam.MFADevice) error   { return t.put(kindMFA, d.Name, d) }
func (t *memTx) DeleteMFADevice(name string) error     { return t.del(kindMFA, name) }
